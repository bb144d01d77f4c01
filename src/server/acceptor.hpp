// Takes new connections off one loop's listening socket: as many as the
// process may hold, pausing (and retrying on a timer) at the limit or when
// descriptors run out.
#pragma once

#include "io/event_loop.hpp"

namespace httpkit::server {

class LoopServer;

class Acceptor {
 public:
  // `layered`: the listener's connections get the server's layer (TLS).
  Acceptor(io::EventLoop& loop, LoopServer& server, int listen_fd, bool layered);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Accepts until the backlog is empty or the process is full.
  void accept_all();
  // A connection closed: take the ones the limit held back.
  void resume_if_paused() {
    if (paused_) accept_all();
  }
  // Stops listening for good (graceful stop).
  void close();

 private:
  static void on_listener_event(void* self, int fd, uint32_t events);
  static void on_retry(io::TimerNode* node);
  void pause();

  io::EventLoop& loop_;
  LoopServer& server_;
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
