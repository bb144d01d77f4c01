// The server side of the WebSocket client tests: an echo channel on
// httpkit's own server. In a file of its own so that the client tests
// need not include the server's channel API.
#pragma once

#include "httpkit/request.hpp"
#include "httpkit/response.hpp"

namespace httpkit::test {

// Echoes every message (text as text, binary as binary); "bye" closes
// with 4001 "as asked".
Response echo_channel(const Request& req);

}  // namespace httpkit::test
