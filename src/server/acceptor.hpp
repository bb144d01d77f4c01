// Takes new connections off a listening socket for one loop: as many as
// the process may hold, pausing (and retrying on a timer) at the limit or
// when descriptors run out.
#pragma once

#include <memory>

#include "io/event_loop.hpp"

namespace httpkit::server {

class LoopServer;

// A listening descriptor, closed when the last acceptor holding it lets go:
// a socket of its own per loop (SO_REUSEPORT), or one that all the loops of
// a process share.
class ListenSocket {
 public:
  explicit ListenSocket(int fd) : fd_(fd) {}
  ~ListenSocket();
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

class Acceptor {
 public:
  // `layered`: the listener's connections get the server's layer (TLS).
  // `shared`: other loops accept from the same socket; a new connection
  // wakes one of them that is waiting (EPOLLEXCLUSIVE), so a loop busy
  // with a handshake does not hold the next one back.
  Acceptor(io::EventLoop& loop, LoopServer& server, std::shared_ptr<ListenSocket> socket,
           bool layered, bool shared);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Accepts until the backlog is empty or the process is full.
  void accept_all();
  // A connection closed: take the ones the limit held back.
  void resume_if_paused() {
    if (paused_) accept_all();
  }
  // Stops listening for good (graceful stop); a shared socket closes when
  // its last loop stops.
  void close();

 private:
  static void on_listener_event(void* self, int fd, uint32_t events);
  static void on_retry(io::TimerNode* node);
  void pause();

  io::EventLoop& loop_;
  LoopServer& server_;
  std::shared_ptr<ListenSocket> socket_;
  int listen_fd_;
  bool layered_;
  bool paused_ = false;
  bool at_limit_ = false;  // the connection limit stopped accepting
  struct RetryTimer {
    io::TimerNode node;
    Acceptor* self = nullptr;
  } retry_;
};

}  // namespace httpkit::server
