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
  // a protecting layer.
  static Request from_head(const http::RequestHead& head, std::string_view body, int fd,
                           bool secure);
};

}  // namespace httpkit
