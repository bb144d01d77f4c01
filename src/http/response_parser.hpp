// Incremental, zero-copy HTTP/1.1 response-head parser (RFC 9112), the
// client's counterpart of request_parser.hpp.
//
// Pure: bytes in, a ResponseHeadView of views into those bytes out. Nothing
// is allocated. The caller re-runs the parse over the grown buffer when more
// bytes arrive (`find_head_end` from request_parser.hpp tells when the blank
// line is there). How the body is delimited depends on the request too (a
// HEAD or CONNECT), so the caller says what it sent.
//
// Interim responses: a 1xx other than 101 is complete by itself and has no
// body; the caller parses the next head after it (RFC 9110 §15.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request_parser.hpp"

namespace httpkit::http {

// What is wrong with a response head. Every error is final: the connection
// cannot be trusted to carry another message and must be closed.
enum class ResponseError : uint8_t {
  none = 0,
  bad_status_line,      // not "HTTP/1.x SP 3DIGIT [SP reason] CRLF"
  unsupported_version,  // a major version other than 1
  bad_header,           // field syntax: name, value, line ending, obs-fold
  bad_framing,          // Content-Length / Transfer-Encoding that cannot be trusted
  head_too_large,       // over max_head_bytes or max_status_line
  too_many_headers,     // over max_headers
};

std::string_view to_string(ResponseError e);

// What the response answers: it decides framing the bytes cannot tell.
struct SentRequest {
  bool head = false;     // HEAD: no body
  bool connect = false;  // CONNECT: a 2xx opens a tunnel, no body
};

// How many header fields a response may carry unless configured otherwise;
// ClientOptions::max_response_headers has the same default.
inline constexpr std::size_t kDefaultMaxResponseFields = 128;

struct ResponseLimits {
  std::size_t max_status_line = 8192;  // bytes before the status line's CRLF
  std::size_t max_head_bytes = 65536;  // the whole head, status line included
  // Header fields, also bounded by the caller's array.
  std::size_t max_headers = kDefaultMaxResponseFields;
};

struct ResponseHeadView {
  uint8_t version_minor = 1;  // HTTP/1.x
  uint16_t status = 0;        // 100..599
  std::string_view reason;    // as sent, may be empty; clients ignore it (RFC 9112 §4)

  HeaderField* headers = nullptr;  // points into the caller's array
  std::size_t num_headers = 0;

  BodyFraming framing = BodyFraming::none;
  uint64_t content_length = 0;  // when framing == content_length

  bool keep_alive = true;       // another response may follow on this connection
  bool interim = false;         // 1xx other than 101: a final response follows
  bool upgraded = false;        // 101: the connection now speaks the Upgrade protocol
  bool tunnel = false;          // 2xx to CONNECT: the connection is now a tunnel
  std::size_t head_length = 0;  // bytes of the head including the final CRLF CRLF
};

struct ResponseParseResult {
  ParseStatus status;
  ResponseError error = ResponseError::none;
  std::string_view detail = {};  // on error: what exactly was wrong (static text)
};

// Parses one response head at the start of `buf`. On `incomplete` nothing in
// `out` is meaningful; a prefix that already breaks a rule or a limit is an
// error. A prefix of a head parses as `incomplete` or exactly as the whole
// head does, so the answer does not depend on how the bytes were split.
ResponseParseResult parse_response_head(std::string_view buf, const SentRequest& request,
                                        const ResponseLimits& limits, HeaderField* headers,
                                        std::size_t max_headers, ResponseHeadView& out);

}  // namespace httpkit::http
