// Incremental, zero-copy HTTP/1.1 request-head parser (RFC 9112).
//
// Pure: bytes in, a RequestHead of views into those bytes out. Nothing is
// allocated; the caller owns the bytes and keeps them alive while the views
// are used. "Incremental" in the picohttpparser sense: the caller re-runs the
// parse over the grown buffer when more bytes arrive, and `find_head_end`
// lets it skip re-parsing until the blank line that ends the head is there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/body_framing.hpp"
#include "httpkit/header_view.hpp"

namespace httpkit::http {

// name as sent (case preserved, never empty); value with OWS stripped.
using HeaderField = HeaderView;

// What is wrong with a request, as the status the server answers with.
enum class ParseError : uint8_t {
  none = 0,
  bad_request,        // 400: syntax, version, Host, framing conflicts
  uri_too_long,       // 414: request line over max_request_line
  headers_too_large,  // 431: head over max_head_bytes or over max_headers fields
  not_implemented,    // 501: a transfer coding other than chunked, an unknown method, CONNECT
  version_not_supported,  // 505: a major version other than 1 (HTTP/0.x, HTTP/2.0, ...)
};

int status_of(ParseError e);             // 400, 414, 431, 501, 505
std::string_view to_string(ParseError e);  // one-line human reason


struct ParseLimits {
  std::size_t max_request_line = 8192;  // bytes of method SP target SP version
  std::size_t max_head_bytes = 65536;   // the whole head, request line included
  std::size_t max_headers = 100;        // header fields, also bounded by the caller's array
};

struct RequestHead {
  std::string_view method;
  std::string_view target;  // request-target as sent
  std::string_view path;    // target up to '?' (or the whole authority/asterisk form)
  std::string_view query;   // after '?', without it; empty when none
  uint8_t version_minor = 1;  // HTTP/1.x

  HeaderField* headers = nullptr;  // points into the caller's array
  std::size_t num_headers = 0;

  BodyFraming framing = BodyFraming::none;
  uint64_t content_length = 0;  // when framing == content_length

  bool keep_alive = true;       // version default adjusted by Connection tokens
  bool expect_continue = false;  // Expect: 100-continue
  bool upgrade = false;          // Connection: upgrade + Upgrade header present
  std::size_t head_length = 0;   // bytes of the head including the final CRLF CRLF
};

enum class ParseStatus : uint8_t { complete, incomplete, error };

struct ParseResult {
  ParseStatus status;
  ParseError error = ParseError::none;
  std::string_view detail = {};  // on error: what exactly was wrong (static text, for logs)
};

// Returns the offset just past the blank line that ends a request head, or 0
// if it is not there yet. Empty lines before the request line are skipped, as
// parse_request_head skips them. `scan_from` lets a caller resume where it
// stopped: pass the buffer size of the previous call that returned 0 (or any
// smaller value); the bytes that straddle that point are re-examined.
std::size_t find_head_end(std::string_view buf, std::size_t scan_from = 0);

// Parses one request head at the start of `buf`. `headers`/`max_headers`
// is caller storage for the fields. On `incomplete` nothing in `out` is
// meaningful; an incomplete head that already breaks a limit, or whose bytes
// so far are already malformed, is an error. The answer depends only on the
// bytes, not on how they were split: a prefix of a head parses as
// `incomplete` or exactly as the whole does. Empty lines (CRLF) before the
// request line are skipped and counted in head_length (RFC 9112 §2.2).
ParseResult parse_request_head(std::string_view buf, const ParseLimits& limits,
                               HeaderField* headers, std::size_t max_headers, RequestHead& out);

}  // namespace httpkit::http
