#include "ws_session.hpp"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include "exit_codes.hpp"

namespace httpkit::fetch_app {

int run_websocket_session(Client& client, const std::string& url, const RequestOptions& request,
                          std::chrono::milliseconds ping_interval) {
  std::atomic<bool> done{false};
  std::atomic<int> status{0};
  WebSocketOptions options;
  options.url = url;
  options.headers = request.headers;
  options.tls = request.tls;
  options.proxy_url = request.proxy_url;
  options.connect_timeout = request.connect_timeout;
  options.ping_interval = ping_interval;  // a dead peer ends the session (exit 56)
  WebSocketHandlers handlers;
  handlers.on_receive = [](WebSocket&, std::string_view message, bool) {
    std::fwrite(message.data(), 1, message.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  };
  handlers.on_error = [&](const ClientError& e) {
    std::fprintf(stderr, "httpkit-fetch: %s\n", to_string(e).c_str());
    status = exit_code_for(e);
  };
  handlers.on_close = [&](WebSocket& ws, CloseStatus why, std::string_view reason) {
    if (status == 0 && why != CloseStatus::normal && why != CloseStatus::no_status) {
      std::fprintf(stderr, "httpkit-fetch: websocket closed: %u %.*s\n", unsigned(ws.close_code()),
                   int(reason.size()), reason.data());
      status = 56;
    }
    done = true;
  };
  std::shared_ptr<WebSocket> ws = client.websocket(options, handlers);

  // Lines from stdin go out as text messages; EOF starts the close.
  std::string pending;
  bool stdin_open = true;
  while (!done) {
    if (!stdin_open || !ws->open()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      if (!pending.empty()) ws->send(pending);
      ws->close(1000, "bye");
      stdin_open = false;
      continue;
    }
    pending.append(buf, std::size_t(n));
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      ws->send(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  return status;
}

}  // namespace httpkit::fetch_app
