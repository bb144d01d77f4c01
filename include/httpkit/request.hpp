// The request a handler sees: views into the bytes the server read.
//
// A Request is valid for the duration of the handler call. When the server
// runs handlers on a worker pool it hands out a detached copy that owns its
// bytes, so the same type serves both.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "httpkit/header_view.hpp"
#include "httpkit/params.hpp"

namespace httpkit {

// A `:name` or `*name` capture of the route that a Router chose (its value
// percent-decoded).
struct PathParam {
  std::string_view name;
  std::string_view value;
};

class Router;

class Request {
 public:
  std::string_view method() const { return method_; }
  std::string_view target() const { return target_; }  // as sent: path?query
  std::string_view path() const { return path_; }
  std::string_view query_string() const { return query_; }
  int version_minor() const { return version_minor_; }
  std::string_view protocol() const { return version_minor_ ? "HTTP/1.1" : "HTTP/1.0"; }
  // "https" when the connection's stream has a protecting layer (TLS).
  std::string_view scheme() const { return secure_ ? "https" : "http"; }

  // Header lookup is case-insensitive; repeated fields are all kept.
  std::span<const HeaderView> headers() const { return headers_; }
  std::optional<std::string_view> header(std::string_view name) const;
  std::vector<std::string_view> header_values(std::string_view name) const;

  std::string_view body() const { return body_; }
  std::optional<std::string_view> content_type() const { return header("content-type"); }

  // Decoded `?a=1&b=2` and, for application/x-www-form-urlencoded bodies,
  // the form fields (Ring's wrap-params). Computed on each call.
  Params query_params() const;
  Params form_params() const;

  // The peer's IP as text, its port, and our port (looked up on first use).
  const std::string& remote_addr() const;
  uint16_t remote_port() const;
  uint16_t local_port() const;

  bool keep_alive() const { return keep_alive_; }

  // The Host header's name without its port (an IPv6 literal keeps its
  // brackets), else our own address on the connection (Ring's
  // :server-name).
  std::string_view server_name() const;
  // When the head was parsed (wall clock).
  std::chrono::system_clock::time_point start_time() const { return start_time_; }
  // A WebSocket opening request (RFC 6455 §4.2.1): GET with Upgrade:
  // websocket and Connection: upgrade. Whether as_channel would accept it
  // (the key, the version) is websocket_handshake_check's matter.
  bool is_websocket() const;
  // The body is still to come, for receive_body: the server's body plan
  // streams it (request_body.hpp). body() is empty then.
  bool body_pending() const { return body_pending_; }

  // The captures of the route a Router chose for this request (empty
  // outside a routed handler). Valid as long as the request; detached()
  // copies them.
  std::span<const PathParam> path_params() const { return path_params_; }
  std::optional<std::string_view> path_param(std::string_view name) const;

  // A copy that owns all its bytes; used to move a request off its loop.
  Request detached() const;

  // A copy with `body` and `headers` (copied) in place of this one's: for
  // middleware that rewrites a request (wrap_decode_request). It owns its
  // bytes like a detached() copy, but still knows its connection (the
  // peer's address is looked up as for this one). body_pending() is false.
  Request with_body(std::string body, std::span<const HeaderView> headers) const;

 private:
  friend class RequestBuilder;
  friend class Router;  // binds the captures for the routed handler's call

  std::string_view method_, target_, path_, query_, body_;
  std::span<const HeaderView> headers_;
  int version_minor_ = 1;
  bool keep_alive_ = true;
  bool secure_ = false;
  bool body_pending_ = false;
  std::chrono::system_clock::time_point start_time_{};

  void load_addresses() const;
  Request copy_bytes() const;
  int fd_ = -1;  // the connection, while the request is on its loop
  mutable bool addresses_loaded_ = false;
  mutable uint16_t remote_port_ = 0, local_port_ = 0;
  mutable std::string remote_addr_, local_addr_;

  // Only a detached request owns storage: its bytes and its header array.
  std::shared_ptr<const std::string> owned_bytes_;
  std::shared_ptr<const std::vector<HeaderView>> owned_headers_;

  // Set by the Router around the handler's call (the request itself is
  // const to handlers, as Ring's request map is a value with assoc'd keys).
  mutable std::span<const PathParam> path_params_;
  struct OwnedPathParams {
    std::string bytes;
    std::vector<PathParam> params;
  };
  std::shared_ptr<const OwnedPathParams> owned_path_params_;
};

}  // namespace httpkit
