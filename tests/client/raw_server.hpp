// A scripted TCP server on a loopback port for client tests: each accepted
// connection runs `script(fd)` on its own thread, so a test can answer
// with exactly the bytes (or the silence, or the reset) it needs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httpkit::test {

class RawServer {
 public:
  using Script = std::function<void(int fd, int index)>;

  explicit RawServer(Script script, int backlog = 128);
  ~RawServer();
  RawServer(const RawServer&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  // Stop accepting (the listener stays open but unserviced).
  void stop();

 private:
  void accept_loop();

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
};

// Reads one request head plus its Content-Length body; "" on EOF/timeout.
std::string read_request(int fd, int timeout_ms = 5000);
bool write_all(int fd, std::string_view bytes);
// Closes with RST instead of FIN.
void reset_close(int fd);
// A port on 127.0.0.1 with nothing listening.
uint16_t closed_port();

}  // namespace httpkit::test
