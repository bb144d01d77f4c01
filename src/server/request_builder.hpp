// Fills a Request from a parsed head (the only code that sees its insides).
#pragma once

#include <string_view>

#include "http/request_parser.hpp"
#include "httpkit/request.hpp"

namespace httpkit {

class RequestBuilder {
 public:
  // Views into the bytes behind `head` and `body`; `fd` is asked for the
  // peer's address only if the handler wants it; `secure`: the stream has
  // a protecting layer; `body_pending`: the body is streamed after the
  // handler's call (receive_body).
  static Request from_head(const http::RequestHead& head, std::string_view body, int fd,
                           bool secure, bool body_pending = false);
};

}  // namespace httpkit
