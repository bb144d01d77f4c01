// httpkit-fetch: a small curl-like program on the httpkit client.
//
//   httpkit-fetch https://example.com/            body to stdout
//   httpkit-fetch -i -L -w http://host/a http://host/b   two requests, one connection
//   httpkit-fetch --ws ws://host/chat             lines in, messages out
//   httpkit-fetch --max-filesize 10M URL          exit 63 past 10 MiB of decoded body
//   httpkit-fetch -T big.iso URL                  PUT a file, streamed ("-": stdin, chunked)
//   httpkit-fetch -x https://proxy:443 URL        through an https:// proxy
//
// Every failure ends with one line on stderr ("httpkit-fetch: <kind>: <why>")
// and a non-zero exit status (curl's number for the same failure).
#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "exit_codes.hpp"
#include "httpkit/client.hpp"
#include "ws_session.hpp"

namespace {

using namespace httpkit;

struct Flags {
  std::vector<std::string> urls;
  std::string method;
  std::vector<std::string> headers;
  std::vector<std::string> data;
  std::string data_binary;
  std::string data_file;    // POST body streamed from a file
  std::string upload_file;  // PUT body streamed from a file, or stdin for "-"
  bool trace_redirects = false;
  bool unsafe_redirects = false;
  std::string output;
  bool follow = false;
  int max_redirects = 50;
  bool insecure = false;
  std::string cacert, capath, cert, key;
  double connect_timeout = 0, max_time = 0, idle_timeout = 0;
  std::string proxy;
  bool include = false;
  bool head = false;
  bool timing = false;
  bool raw = false;
  bool compressed = false;    // curl's flag; asking for and decoding gzip is the default here
  uint64_t max_filesize = 0;  // decoded body bytes; 0: no limit (curl's default)
  bool fail_on_http_error = false;
  std::vector<std::string> resolve;
  std::string ws_url;
  double ping_interval = 0;  // --ws: seconds of silence before a keep-alive ping
};

[[noreturn]] void die(int code, const std::string& line) {
  std::fprintf(stderr, "httpkit-fetch: %s\n", line.c_str());
  std::exit(code);
}

std::string read_file_or_die(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die(26, "cannot read '" + path + "': " + std::strerror(errno));  // CURLE_READ_ERROR
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(int64_t(s * 1000.0));
}

RequestOptions build(const Flags& f, const std::string& url) {
  RequestOptions o;
  o.url = url;
  o.follow_redirects = f.follow;
  o.max_redirects = f.max_redirects;
  o.auto_decompress = !f.raw;
  o.as = BodyAs::stream;  // bodies go straight to the output, whatever their size
  // The library counts decoded bytes: a small gzip body that inflates past
  // the limit stops there, like any other.
  o.max_body = f.max_filesize;
  o.tls.insecure = f.insecure;
  o.tls.ca_file = f.cacert;
  o.tls.ca_dir = f.capath;
  o.tls.cert_file = f.cert;
  o.tls.key_file = f.key;
  o.proxy_url = f.proxy;
  if (!o.proxy_url.empty() && o.proxy_url.find("://") == std::string::npos)
    o.proxy_url = "http://" + o.proxy_url;
  if (f.connect_timeout > 0) o.connect_timeout = seconds(f.connect_timeout);
  if (f.max_time > 0) o.total_timeout = seconds(f.max_time);
  if (f.idle_timeout > 0) o.idle_timeout = seconds(f.idle_timeout);
  for (const std::string& h : f.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0)
      die(fetch_app::kUsage, "bad header '" + h + "' (want 'Name: value')");
    std::string value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.erase(0, 1);
    o.headers.push_back({h.substr(0, colon), value});
  }
  if (!f.data.empty() || !f.data_binary.empty()) {
    std::string body;
    for (const std::string& d : f.data) {
      if (!body.empty()) body.push_back('&');
      body += d.size() > 1 && d[0] == '@' ? read_file_or_die(d.substr(1)) : d;
    }
    if (!f.data_binary.empty()) {
      if (!body.empty()) body.push_back('&');
      body += f.data_binary[0] == '@' ? read_file_or_die(f.data_binary.substr(1)) : f.data_binary;
    }
    o.body = std::move(body);
    o.method = "POST";
    bool typed = false;
    for (const Header& h : o.headers)
      typed |= iequals(h.name, "content-type");
    if (!typed && !f.data.empty())
      o.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  }
  if (!f.data_file.empty() || !f.upload_file.empty()) {
    if (!o.body.empty()) die(fetch_app::kUsage, "--data-file and -T exclude -d/--data-binary");
    if (!f.data_file.empty() && !f.upload_file.empty())
      die(fetch_app::kUsage, "give --data-file or -T, not both");
    o.method = f.data_file.empty() ? "PUT" : "POST";
    const std::string& path = f.data_file.empty() ? f.upload_file : f.data_file;
    if (path == "-") {
      // stdin, pulled as the connection takes it; its length is unknown.
      o.body_stream = [](std::span<char> buffer) -> std::size_t {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), stdin);
        if (n == 0 && std::ferror(stdin)) throw std::runtime_error("cannot read stdin");
        return n;
      };
    } else {
      o.body_file = path;
    }
  }
  o.allow_unsafe_redirect_methods = f.unsafe_redirects;
  if (f.head) o.method = "HEAD";
  if (!f.method.empty()) o.method = f.method;
  return o;
}

double secs(std::chrono::microseconds us) {
  return double(us.count()) / 1e6;
}

// curl's size argument: bytes, or with a k, M or G suffix (powers of 1024).
std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view suffix(end, std::size_t(text.data() + text.size() - end));
  int shift = 0;
  if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      default:
        return std::nullopt;
    }
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  if (value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

// The body length the server announced, when what is written out is exactly
// that many bytes: a Content-Length, and no coding the client will decode.
std::optional<uint64_t> announced_output(const ClientResponse& head, bool head_request,
                                         bool decodes) {
  if (head_request || head.status < 200 || head.status == 204 || head.status == 304)
    return std::nullopt;
  if (decodes && head.header("content-encoding")) return std::nullopt;
  auto lengths = head.header_values("content-length");
  if (lengths.size() != 1) return std::nullopt;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(lengths[0].data(), lengths[0].data() + lengths[0].size(), n);
  if (ec != std::errc() || end != lengths[0].data() + lengths[0].size()) return std::nullopt;
  return n;
}

// Ends a request from its own callbacks, which may run before the handle
// exists (the loop can get the head before request() returns).
class Refusal {
 public:
  void set_handle(const RequestHandle& handle) {
    std::lock_guard lock(mutex_);
    handle_ = handle;
    have_handle_ = true;
    if (refused_) handle_.cancel();
  }
  void refuse() {
    std::lock_guard lock(mutex_);
    refused_ = true;
    if (have_handle_) handle_.cancel();
  }
  bool refused() {
    std::lock_guard lock(mutex_);
    return refused_;
  }

 private:
  std::mutex mutex_;
  RequestHandle handle_;
  bool have_handle_ = false;
  bool refused_ = false;
};

int fetch_one(Client& client, const Flags& f, const std::string& url, FILE* out) {
  RequestOptions o = build(f, url);
  bool write_failed = false;
  uint64_t written = 0;
  uint64_t announced = 0;
  Refusal refusal;
  const bool head_request = o.method == "HEAD", decodes = o.auto_decompress;
  o.stream.on_headers = [&](const ClientResponse& head) {
    if (f.max_filesize) {
      // Like curl: a body announced over the limit is not fetched at all.
      auto length = announced_output(head, head_request, decodes);
      if (length && *length > f.max_filesize) {
        announced = *length;
        refusal.refuse();
        return;
      }
    }
    if (!f.include && !f.head) return;
    std::fprintf(out, "HTTP/1.1 %d\r\n", head.status);
    for (const HeaderView& h : head.headers)
      std::fprintf(out, "%.*s: %.*s\r\n", int(h.name.size()), h.name.data(), int(h.value.size()),
                   h.value.data());
    std::fputs("\r\n", out);
  };
  o.stream.on_chunk = [&](std::string_view chunk) {
    if (announced) return false;  // refused: read no more until the cancel lands
    if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) write_failed = true;
    written += chunk.size();
    return true;
  };
  std::promise<ClientResponse> done;
  auto response = done.get_future();
  refusal.set_handle(
      client.request(std::move(o), [&done](ClientResponse r) { done.set_value(std::move(r)); }));
  ClientResponse r = response.get();
  std::fflush(out);
  if (f.timing) {
    std::fprintf(stderr,
                 "dns: %.6fs connect: %.6fs tls: %.6fs first_byte: %.6fs total: %.6fs "
                 "status: %d redirects: %d url: %s\n",
                 secs(r.timing.dns), secs(r.timing.connect), secs(r.timing.tls),
                 secs(r.timing.first_byte), secs(r.timing.total), r.status, r.redirects,
                 r.url.c_str());
  }
  if (write_failed)
    die(fetch_app::kWriteError, "cannot write the body: " + std::string(std::strerror(errno)));
  if (refusal.refused()) {
    die(fetch_app::kFileTooLarge, "body too large: " + url + " announced " +
                                      std::to_string(announced) + " bytes, over --max-filesize (" +
                                      std::to_string(f.max_filesize) + " bytes); nothing written");
  }
  if (r.error.kind == ErrorKind::body_too_large && f.max_filesize) {
    die(fetch_app::kFileTooLarge, "body too large: the body of " + url +
                                      " (decoded) went past --max-filesize (" +
                                      std::to_string(f.max_filesize) + " bytes); stopped after " +
                                      std::to_string(written) + " bytes");
  }
  if (f.trace_redirects) {
    for (const std::string& hop : r.trace_redirects)
      std::fprintf(stderr, "redirect: %s\n", hop.c_str());
  }
  if (r.error) die(fetch_app::exit_code_for(r.error), to_string(r.error));
  if (f.fail_on_http_error && r.status >= 400)
    die(22, "the server answered " + std::to_string(r.status));  // CURLE_HTTP_RETURNED_ERROR
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"httpkit-fetch: fetch URLs with the httpkit client (curl-like flags)"};
  app.add_option("urls", f.urls, "URLs, fetched in turn over pooled connections");
  app.add_option("-X,--request,--method", f.method,
                 "request method (any token: PROPFIND, MOVE, ... as well)");
  app.add_option("-H,--header", f.headers, "extra header 'Name: value' (repeatable)")
      ->allow_extra_args(false);
  app.add_option("-d,--data", f.data,
                 "form data to POST (repeatable, joined by &; @FILE reads a file)")
      ->allow_extra_args(false);
  app.add_option("--data-binary", f.data_binary, "raw body to POST; @FILE reads a file");
  app.add_option("--data-file", f.data_file,
                 "POST the file's bytes, streamed as sent (not read into memory); - for stdin");
  app.add_option("-T,--upload-file", f.upload_file,
                 "PUT the file's bytes, streamed; - reads stdin (sent chunked)");
  app.add_option("-o,--output", f.output, "write the body to FILE instead of stdout");
  app.add_flag("-L,--location", f.follow, "follow redirects");
  app.add_option("--max-redirs", f.max_redirects, "redirects to follow at most (with -L)");
  app.add_flag("--trace-redirects", f.trace_redirects,
               "print each URL that redirected to stderr ('redirect: URL')");
  app.add_flag("--allow-unsafe-redirect-methods", f.unsafe_redirects,
               "keep the method and body on 301/302 (default: switch to GET)");
  app.add_flag("-k,--insecure", f.insecure, "do not verify the server certificate");
  app.add_option("--cacert", f.cacert, "trust the CAs in this PEM file");
  app.add_option("--capath", f.capath, "trust the CAs in this directory");
  app.add_option("--cert", f.cert, "client certificate (PEM)");
  app.add_option("--key", f.key, "client key (PEM)");
  app.add_option("--connect-timeout", f.connect_timeout, "seconds to get a connection");
  app.add_option("-m,--max-time", f.max_time, "seconds for the whole request");
  app.add_option("--idle-timeout", f.idle_timeout,
                 "seconds the server may stay silent (default 60)");
  app.add_option("-x,--proxy", f.proxy,
                 "proxy [http://|https://][user:pass@]host:port (https: TLS to the proxy, "
                 "checked with --cacert / -k as the origin is)");
  app.add_flag("-i,--include", f.include, "print the status line and headers");
  app.add_flag("-I,--head", f.head, "send HEAD and print the headers");
  app.add_flag("-w,--timing", f.timing,
               "print DNS, connect, TLS, first byte and total times to stderr");
  auto* raw = app.add_flag("--raw", f.raw, "do not ask for or decode gzip/deflate");
  app.add_flag("--compressed", f.compressed,
               "ask for gzip/deflate and decode it (the default; curl's flag)")
      ->excludes(raw);
  std::string max_filesize;
  app.add_option("--max-filesize", max_filesize,
                 "stop with exit 63 once a decoded body passes BYTES (k, M, G suffixes: "
                 "KiB, MiB, GiB; 0: no limit, the default)");
  app.add_flag("-f,--fail", f.fail_on_http_error, "exit 22 on an HTTP status >= 400");
  app.add_option("--resolve", f.resolve, "HOST:PORT:ADDRESS, like curl (the port is ignored)")
      ->allow_extra_args(false);
  app.add_option("--ws", f.ws_url, "interactive WebSocket session: stdin lines out, messages in");
  app.add_option("--ping-interval", f.ping_interval,
                 "with --ws: ping after SECONDS of silence; no pong within 10 s ends the session");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : fetch_app::kUsage;
  }
  if (f.urls.empty() && f.ws_url.empty()) die(fetch_app::kUsage, "no URL given (try --help)");
  if (!max_filesize.empty()) {
    auto limit = parse_size(max_filesize);
    if (!limit)
      die(fetch_app::kUsage,
          "bad --max-filesize '" + max_filesize + "' (want BYTES, or with a k, M or G suffix)");
    f.max_filesize = *limit;
  }

  ClientConfig config;
  for (const std::string& r : f.resolve) {
    auto first = r.find(':'), second = r.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos)
      die(fetch_app::kUsage, "bad --resolve '" + r + "' (want HOST:PORT:ADDRESS)");
    std::string address = r.substr(second + 1);
    if (address.size() > 2 && address.front() == '[' && address.back() == ']')
      address = address.substr(1, address.size() - 2);
    config.resolve.push_back({r.substr(0, first), address});
  }
  Client client(config);

  if (!f.ws_url.empty())
    return fetch_app::run_websocket_session(client, f.ws_url, build(f, f.ws_url),
                                            seconds(f.ping_interval));

  FILE* out = stdout;
  if (!f.output.empty()) {
    out = std::fopen(f.output.c_str(), "wb");
    if (!out)
      die(fetch_app::kWriteError, "cannot open '" + f.output + "': " + std::strerror(errno));
  }
  for (const std::string& url : f.urls)
    fetch_one(client, f, url, out);
  if (out != stdout && std::fclose(out) != 0)
    die(fetch_app::kWriteError, "cannot write '" + f.output + "': " + std::strerror(errno));
  return 0;
}
