// httpkit-fetch --ws: stdin lines go out as text messages, messages that
// come in are printed one per line.
#pragma once

#include <chrono>
#include <string>

#include "httpkit/client.hpp"

namespace httpkit::fetch_app {

// A ping_interval above zero pings after that much silence and ends the
// session when no pong follows (WebSocketOptions::ping_interval).
int run_websocket_session(Client& client, const std::string& url, const RequestOptions& options,
                          std::chrono::milliseconds ping_interval = {});

}  // namespace httpkit::fetch_app
