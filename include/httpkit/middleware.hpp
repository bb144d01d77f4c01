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

// Request bodies sent with a Content-Encoding (RFC 9110 §8.4): gzip
// (x-gzip), deflate, br or zstd, one coding ("identity" changes nothing).
// `next` gets the request with the decoded body, Content-Encoding gone
// and Content-Length the decoded size. The answers it gives itself: 415
// with Accept-Encoding for a coding it does not know or a stack of two
// (§15.5.16), 400 for a corrupt or truncated body, 413 when the decoded
// body would pass max_decoded. Decoding stops there: a few KiB that
// inflate to gigabytes (a decompression bomb) cost at most max_decoded
// plus the decoder's state (64 KiB pieces; zstd windows at most 8 MiB).
//
// It decodes bodies the server buffered. A streamed body (a body plan
// with stream, receive_body) is passed through as sent: its handler sees
// the raw coding.
//
//   app = httpkit::wrap_decode_request(app, {.max_decoded = 1u << 20});
struct RequestDecodingOptions {
  std::size_t max_decoded = 8u << 20;  // as ServerOptions::max_body; 413 beyond
};
Handler wrap_decode_request(Handler next, RequestDecodingOptions options = {});

// The id wrap_request_id chose for the request being handled on this
// thread (empty outside it).
std::string_view current_request_id();

}  // namespace httpkit
