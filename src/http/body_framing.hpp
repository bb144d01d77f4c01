// How a message's body is delimited (RFC 9112 §6): one enum for the
// request parser, the response parser, the field rules and the writer.
#pragma once

#include <cstdint>

namespace httpkit::http {

enum class BodyFraming : uint8_t {
  none,            // no body: a request without framing fields; HEAD, 1xx, 204, 304
  content_length,  // exactly Content-Length bytes
  chunked,         // the chunked coding is the final transfer coding
  until_close,     // responses only: the close ends the body
};

}  // namespace httpkit::http
