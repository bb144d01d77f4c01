// Runs an httpkit::Server on an ephemeral loopback port for one test.
#pragma once

#include <memory>

#include "httpkit/server.hpp"

namespace httpkit::test {

inline ServerOptions test_options() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 1;
  o.handle_signals = false;
  o.logger = [](httpkit::LogLevel, std::string_view) {};
  return o;
}

class TestServer {
 public:
  explicit TestServer(Handler handler, ServerOptions options = test_options())
      : server_(std::make_unique<Server>(std::move(handler), std::move(options))) {
    server_->start();
  }
  ~TestServer() {
    server_->stop();
    server_->wait();
  }
  uint16_t port() const { return server_->port(); }
  Server& server() { return *server_; }

 private:
  std::unique_ptr<Server> server_;
};

}  // namespace httpkit::test
