// The asynchronous HTTP/1.1 client, after http-kit's: a request is a plain
// options struct; the answer comes to a callback or a future as a
// ClientResponse carrying {status, headers, body} or an error.
//
//   httpkit::Client client;
//   auto r = client.get("http://example.com/").get();   // std::future
//   if (r.error) std::puts(r.error.message.c_str());
//   else std::printf("%d %zu bytes\n", r.status, r.body.size());
//
//   client.request({.method = "POST", .url = u, .form_params = {{"a", "1"}}},
//                  [](httpkit::ClientResponse r) { ... });   // on the client's loop
//
// One Client owns one event loop on a thread of its own, a keep-alive pool
// per host, a DNS resolver pool and the TLS contexts.
// Callbacks run on that loop: they must not block. Every method of Client
// and RequestHandle is thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "httpkit/header_view.hpp"
#include "httpkit/logger.hpp"
#include "httpkit/params.hpp"
#include "httpkit/response.hpp"

namespace httpkit {

namespace client {
class ClientCore;
struct ClientAccess;
struct Exchange;
}  // namespace client

class WebSocket;
struct WebSocketOptions;
struct WebSocketHandlers;

// ------------------------------------------------------------------ options

// How the response body is delivered (http-kit's :as).
enum class BodyAs : uint8_t {
  automatic,  // text for textual content types (text/*, json, xml, javascript), else bytes
  text,       // converted to UTF-8 from the Content-Type charset (iconv); kept as is if unknown
  bytes,      // exactly the bytes received (after content decoding)
  stream,     // headers first, then chunks with backpressure (RequestOptions::stream)
};

struct BasicAuth {
  std::string user{};
  std::string password{};
};

// One part of a multipart/form-data body.
struct MultipartPart {
  std::string name{};
  std::string content{};   // the part's bytes, unless `file` is set
  std::string file{};      // a path, read when request() is called (on the calling thread)
  std::string filename{};  // Content-Disposition filename; defaults to the file's base name
  std::string
      content_type{};  // defaults: text/plain for content, application/octet-stream for files

  static MultipartPart text(std::string name, std::string value) {
    return {std::move(name), std::move(value), {}, {}, {}};
  }
  static MultipartPart from_file(std::string name, std::string path, std::string type = {}) {
    return {std::move(name), {}, std::move(path), {}, std::move(type)};
  }
};

// TLS settings. They are part of the pool key: connections made under other
// settings are never shared.
struct TlsOptions {
  bool insecure = false;    // skip certificate and host name checks (http-kit's :insecure?)
  std::string ca_file{};    // PEM bundle to trust instead of the system store
  std::string ca_dir{};     // c_rehash'ed directory to trust instead of the system store
  std::string cert_file{};  // client certificate (PEM), for servers that ask for one
  std::string key_file{};   // its private key (PEM); defaults to cert_file

  bool operator==(const TlsOptions&) const = default;
};

class ClientResponse;

// A request body produced on demand (RequestOptions::body_stream). Called on
// the client's loop each time the connection has taken the previous chunk,
// so a slow server slows the producer: write up to buffer.size() bytes
// into `buffer` and return how many; 0 ends the body. It must not block.
// Throwing fails the request (ErrorKind::invalid_request).
using BodyPull = std::function<std::size_t(std::span<char> buffer)>;

// Streaming (as == BodyAs::stream): headers first, then chunks, then the
// request's callback with an empty body (or the error that broke the stream).
struct StreamHandlers {
  std::function<void(const ClientResponse& head)> on_headers{};
  // Returns false to pause: no more chunks (and no more socket reads) until
  // RequestHandle::resume(). A chunk is at most 64 KiB.
  std::function<bool(std::string_view chunk)> on_chunk{};
};

struct RequestOptions {
  // What the request carries.
  std::string method = "GET";
  std::string url{};                  // http://, https://; userinfo becomes basic_auth
  std::vector<Header> headers{};      // sent as given, repeats kept; override the defaults below
  std::vector<Param> query_params{};  // appended to the URL's query, form-encoded
  std::vector<Param> form_params{};   // body as application/x-www-form-urlencoded
  std::string body{};                 // raw body (ignored with form_params or multipart)
  // Body as multipart/form-data. With form_params too, each form param
  // becomes a text part after these (http-kit's rule).
  std::vector<MultipartPart> multipart{};
  // A body not held in memory; at most one of body, body_file, body_stream,
  // form_params (alone) and multipart may be given.
  std::string body_file{};  // sent as read (sendfile on plain TCP); its size is the Content-Length
  BodyPull body_stream{};   // pulled chunk by chunk, at most 64 KiB buffered
  std::optional<uint64_t> body_length{};  // body_stream's size if known; else sent chunked
  std::optional<BasicAuth> basic_auth{};
  std::string bearer_token{};  // Authorization: Bearer (http-kit's :oauth-token)
  std::string user_agent = "httpkit/0.1";

  // Timeouts (http-kit's defaults). connect_timeout bounds getting a
  // connection: waiting for a pool slot, DNS, TCP, proxy CONNECT and TLS.
  // idle_timeout bounds every wait for the peer once the request goes out.
  std::chrono::milliseconds connect_timeout{60'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::optional<std::chrono::milliseconds> timeout{};  // when set, overrides both of the above
  std::chrono::milliseconds total_timeout{
      0};  // deadline for the whole request, redirects included; 0 = none

  // Keep-alive: how long the connection may idle in the pool after this
  // response. Zero or negative disables it (the request says Connection: close).
  std::chrono::milliseconds keepalive{120'000};

  bool follow_redirects = true;
  int max_redirects = 10;
  // By default a 301 or 302 answer to anything but GET/HEAD is followed
  // with a GET and no body (what browsers do). True keeps the method and
  // body on 301/302, as http-kit's :allow-unsafe-redirect-methods. 303
  // always becomes GET (RFC 9110 §15.4.4); 307/308 always keep both.
  bool allow_unsafe_redirect_methods = false;

  BodyAs as = BodyAs::automatic;
  StreamHandlers stream{};        // used when as == BodyAs::stream
  bool auto_decompress = true;    // ask for and decode gzip, deflate, br, zstd
  uint64_t max_body = 64u << 20;  // decoded body bytes accepted; 0 = no limit

  // "http://[user:pass@]host:port" or "https://...". http:// requests go
  // to it in absolute form; https:// requests go through a CONNECT tunnel.
  // An https:// proxy is reached over TLS first (its certificate checked
  // with `tls`, as the origin's is), and an https origin's TLS runs inside.
  std::string proxy_url{};
  TlsOptions tls{};

  std::chrono::milliseconds effective_connect_timeout() const {
    return timeout.value_or(connect_timeout);
  }
  std::chrono::milliseconds effective_idle_timeout() const {
    return timeout.value_or(idle_timeout);
  }
};

// ------------------------------------------------------------------- result

// What failed. An HTTP error status (4xx, 5xx) is not an error.
enum class ErrorKind : uint8_t {
  none = 0,
  invalid_request,     // bad URL or option, header with CR/LF, unreadable multipart file
  dns,                 // the host name did not resolve
  connect,             // TCP connect failed (refused, unreachable, ...)
  tls,                 // handshake, certificate or host name verification failed
  timeout,             // see ClientError::timeout for which one
  reset,               // the peer closed or reset the connection before the response ended
  protocol,            // malformed response: status line, headers, framing, chunking, gzip
  proxy,               // the proxy refused the CONNECT tunnel (its status is in the message)
  body_too_large,      // over max_body
  too_many_redirects,  // over max_redirects
  overloaded,          // the host's wait queue is full (ClientConfig::max_pending)
  cancelled,           // RequestHandle::cancel(), or the Client was destroyed
};

enum class TimeoutKind : uint8_t {
  none = 0,
  connect,  // connect_timeout: DNS, TCP, proxy CONNECT or TLS took too long
  pool,     // connect_timeout: no connection to the host became free in time
  idle,     // idle_timeout: the peer sent nothing (or took nothing) for that long
  total,    // total_timeout: the whole request took too long
};

std::string_view to_string(ErrorKind kind);
std::string_view to_string(TimeoutKind kind);

struct ClientError {
  ErrorKind kind = ErrorKind::none;
  TimeoutKind timeout = TimeoutKind::none;
  int sys_errno = 0;      // the errno behind a connect/reset error, if any
  std::string message{};  // one line: what failed, where, why

  explicit operator bool() const { return kind != ErrorKind::none; }
};

// "kind (timeout): message", the line a program prints for a failed request.
std::string to_string(const ClientError& error);

// Offsets from the start of the request (as curl's -w times), for the
// connection that carried the final response. A reused connection shows
// the moment it was taken from the pool for dns/connect/tls.
struct Timing {
  std::chrono::microseconds dns{0};         // name resolved
  std::chrono::microseconds connect{0};     // TCP (and proxy tunnel) established
  std::chrono::microseconds tls{0};         // TLS handshake done (0 for plain http)
  std::chrono::microseconds first_byte{0};  // first byte of the response head
  std::chrono::microseconds total{0};
};

// Response headers: names as sent, lookups ASCII case-insensitive, repeats
// kept in order. Owns its bytes (one block) and stays valid when copied.
class HeaderList {
 public:
  HeaderList() = default;
  HeaderList(const HeaderList& other) { *this = other; }
  HeaderList(HeaderList&& other) noexcept { *this = std::move(other); }
  HeaderList& operator=(const HeaderList& other);
  HeaderList& operator=(HeaderList&& other) noexcept;

  void add(std::string_view name, std::string_view value);
  void clear();
  void reserve(std::size_t bytes, std::size_t count) {
    bytes_.reserve(bytes);
    views_.reserve(count);
  }

  std::optional<std::string_view> get(std::string_view name) const;
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  std::span<const HeaderView> all() const { return views_; }
  std::size_t size() const { return views_.size(); }
  bool empty() const { return views_.empty(); }
  const HeaderView& operator[](std::size_t i) const { return views_[i]; }
  auto begin() const { return views_.begin(); }
  auto end() const { return views_.end(); }

 private:
  void rebase(const char* old_base);

  std::string bytes_{};  // "name" "value" "name" "value" ... without separators
  std::vector<HeaderView> views_{};
};

class ClientResponse {
 public:
  int status = 0;  // 0 when error is set
  HeaderList headers{};
  std::string body{};  // empty when streamed
  std::string url{};   // the final URL, after redirects
  int redirects = 0;   // how many were followed
  // The URLs that answered with a redirect, in the order they were visited
  // (http-kit's :trace-redirects); `url` is where they led.
  std::vector<std::string> trace_redirects{};
  RequestOptions opts{};  // the options as given
  ClientError error{};
  Timing timing{};

  bool ok() const { return !error; }
  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
  std::vector<std::string_view> header_values(std::string_view name) const {
    return headers.get_all(name);
  }
};

using ResponseCallback = std::function<void(ClientResponse)>;

// Refers to one request in flight. Cheap to copy; safe from any thread; a
// no-op once the request has finished.
class RequestHandle {
 public:
  RequestHandle() = default;
  // Ends the request; its callback gets ErrorKind::cancelled.
  void cancel() const;
  // Streaming backpressure: stop reading / start reading again.
  void pause() const;
  void resume() const;

 private:
  friend class Client;
  RequestHandle(std::weak_ptr<client::ClientCore> core, std::weak_ptr<client::Exchange> exchange)
      : core_(std::move(core)), exchange_(std::move(exchange)) {}
  std::weak_ptr<client::ClientCore> core_{};
  std::weak_ptr<client::Exchange> exchange_{};
};

// ------------------------------------------------------------------- client

struct ClientConfig {
  std::size_t max_connections = 64;  // per pool key (scheme, host, port, proxy, TLS settings)
  std::size_t max_pending = 65536;   // requests waiting for a connection, per pool key
  int resolver_threads = 2;          // getaddrinfo runs there, never on the loop
  std::chrono::milliseconds dns_cache_ttl{10'000};
  // Fixed answers, like curl --resolve: {"example.com", "127.0.0.1"}.
  std::vector<std::pair<std::string, std::string>> resolve{};
  std::size_t max_response_head = 64u << 10;
  std::size_t max_response_headers = 128;
  // Where the client reports what it cannot return to a caller (a callback
  // that threw). Null: log_to_stderr.
  Logger logger{};
};

struct ClientStats {
  uint64_t connections_opened = 0;
  uint64_t requests_sent = 0;    // per hop: redirects and retries count
  uint64_t requests_reused = 0;  // of those, sent on a pooled connection
  uint64_t retries = 0;          // stale pooled connections retried
  std::size_t open_connections = 0;
  std::size_t idle_connections = 0;
};

class Client {
 public:
  // Starts a loop thread of its own.
  explicit Client(ClientConfig config = {});
  // Cancels what is in flight (callbacks get ErrorKind::cancelled), closes
  // the connections and joins the loop thread. Not from a callback.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  RequestHandle request(RequestOptions opts, ResponseCallback callback);
  std::future<ClientResponse> request(RequestOptions opts);
  // Blocks until the response (scripts, tests). Not on the client's loop thread.
  ClientResponse fetch(RequestOptions opts);

#define HTTPKIT_CLIENT_SHORTHAND(name, verb)                                            \
  std::future<ClientResponse> name(std::string url, RequestOptions opts = {}) {         \
    return request(with(verb, std::move(url), std::move(opts)));                        \
  }                                                                                     \
  RequestHandle name(std::string url, RequestOptions opts, ResponseCallback callback) { \
    return request(with(verb, std::move(url), std::move(opts)), std::move(callback));   \
  }
  HTTPKIT_CLIENT_SHORTHAND(get, "GET")
  HTTPKIT_CLIENT_SHORTHAND(post, "POST")
  HTTPKIT_CLIENT_SHORTHAND(put, "PUT")
  HTTPKIT_CLIENT_SHORTHAND(delete_, "DELETE")
  HTTPKIT_CLIENT_SHORTHAND(head, "HEAD")
  HTTPKIT_CLIENT_SHORTHAND(options, "OPTIONS")
  HTTPKIT_CLIENT_SHORTHAND(patch, "PATCH")
  // WebDAV (RFC 4918, RFC 3253 REPORT, RFC 3744 ACL), as http-kit's client has them.
  HTTPKIT_CLIENT_SHORTHAND(propfind, "PROPFIND")
  HTTPKIT_CLIENT_SHORTHAND(proppatch, "PROPPATCH")
  HTTPKIT_CLIENT_SHORTHAND(lock, "LOCK")
  HTTPKIT_CLIENT_SHORTHAND(unlock, "UNLOCK")
  HTTPKIT_CLIENT_SHORTHAND(report, "REPORT")
  HTTPKIT_CLIENT_SHORTHAND(acl, "ACL")
  HTTPKIT_CLIENT_SHORTHAND(copy, "COPY")
  HTTPKIT_CLIENT_SHORTHAND(move, "MOVE")
#undef HTTPKIT_CLIENT_SHORTHAND

  // Opens a WebSocket (see websocket_client.hpp); handlers say how it went.
  std::shared_ptr<WebSocket> websocket(WebSocketOptions options, WebSocketHandlers handlers);

  ClientStats stats() const;

 private:
  friend struct client::ClientAccess;  // the library's own way in (a client on a given loop)
  explicit Client(std::shared_ptr<client::ClientCore> core) : core_(std::move(core)) {}

  static RequestOptions with(const char* method, std::string url, RequestOptions opts) {
    opts.method = method;
    opts.url = std::move(url);
    return opts;
  }

  std::shared_ptr<client::ClientCore> core_{};
};

// A process-wide Client, created on first use (http-kit's default client).
Client& default_client();

// Blocking one-liners on the default client.
ClientResponse fetch(RequestOptions opts);
inline ClientResponse fetch(std::string url) {
  RequestOptions opts;
  opts.url = std::move(url);
  return fetch(std::move(opts));
}

}  // namespace httpkit

// The WebSocket client builds on the HTTP client; one include gives both.
#include "httpkit/websocket_client.hpp"
