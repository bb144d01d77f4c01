// Middleware, Ring style: a function from a handler to a handler, so that
// composition reads as nesting:
//
//   httpkit::Handler app = wrap_request_id(wrap_cors(router, cors));
//
// Each wrap_* here is such a function with its options bound.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "httpkit/server.hpp"

namespace httpkit {

using Middleware = std::function<Handler(Handler)>;

// Cross-origin resource sharing (the Fetch standard's CORS protocol).
struct CorsOptions {
  // Origins allowed, exactly as browsers send them ("https://app.example");
  // "*" allows any.
  std::vector<std::string> allowed_origins{};
  std::vector<std::string> allowed_methods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  // Request headers allowed; empty: whatever the preflight asks for.
  std::vector<std::string> allowed_headers{};
  std::vector<std::string> exposed_headers{};
  // Cookies and credentials: the origin is echoed, never "*".
  bool allow_credentials = false;
  std::chrono::seconds max_age{600};  // how long a browser may cache a preflight
};

// Answers preflights (OPTIONS with Access-Control-Request-Method) itself:
// 204 with the allowed methods and headers, or 403 for an origin or method
// not allowed. Other requests go to `next`; an allowed origin gets
// Access-Control-Allow-Origin (and the rest) on the response. Every
// response that depends on Origin says `Vary: Origin`.
Handler wrap_cors(Handler next, CorsOptions options);

// X-Request-Id: honoured when the client sent a sane one (1-128 visible
// characters), else a random 128-bit hex id; set on the response, and
// readable by the handler and later middleware as current_request_id().
Handler wrap_request_id(Handler next, std::string header_name = "X-Request-Id");

// The id wrap_request_id chose for the request being handled on this
// thread (empty outside it).
std::string_view current_request_id();

}  // namespace httpkit
