// What as_channel decided about a WebSocket upgrade, for the loop that
// switches the connection over.
#pragma once

#include <optional>
#include <vector>

#include "httpkit/response.hpp"
#include "ws/deflate.hpp"

namespace httpkit {

struct WebSocketAccept {
  std::vector<Header> headers;  // of the 101 response
  std::optional<ws::DeflateParams> deflate;
};

}  // namespace httpkit
