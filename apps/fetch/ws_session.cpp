#include "ws_session.hpp"

#include <cstdio>

namespace httpkit::fetch_app {

int run_websocket_session(Client&, const std::string&, const RequestOptions&) {
  std::fprintf(stderr, "httpkit-fetch: --ws is not available yet\n");
  return 1;
}

}  // namespace httpkit::fetch_app
