// httpkit-fetch --ws: stdin lines go out as text messages, messages that
// come in are printed one per line.
#pragma once

#include <string>

#include "httpkit/client.hpp"

namespace httpkit::fetch_app {

int run_websocket_session(Client& client, const std::string& url, const RequestOptions& options);

}  // namespace httpkit::fetch_app
