// Drives one ClientWorker by hand, on the test's thread, against a peer the
// test plays itself on a loopback listener (port 0, read back). turn_until()
// runs the worker's loop an iteration at a time; expire_timers() runs its
// timers without a look at epoll first, which is what a worker busy with
// other connections does: its timers come due while events already wait.
#pragma once

#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "address_plan.hpp"
#include "client_worker.hpp"
#include "load_connection.hpp"
#include "options.hpp"
#include "shared_stats.hpp"

namespace httpkit::load {

// ClientWorker's friend: the steps of run(), one at a time.
struct WorkerProbe {
  static void open_connections(ClientWorker& w) { w.top_up(); }
  static io::EventLoop& loop(ClientWorker& w) { return w.loop_; }
  static int last_fd(const ClientWorker& w) { return w.max_fd_; }
  static LoadConnection& connection(ClientWorker& w, int fd) { return w.table_[fd]; }
  static void close_all(ClientWorker& w) { w.close_all(); }
};

// Names in test failures rather than bytes.
inline void PrintTo(LoadState state, std::ostream* out) {
  static const char* const names[] = {"unused", "connecting", "sending", "awaiting", "idle",
                                      "handshaking"};
  *out << names[std::size_t(state)];
}

namespace test {

constexpr int kWaitMs = 5000;  // the bound on every wait

// Calls `done` until it holds, at most kWaitMs; between calls, `step` (which
// should block briefly on an event, not spin).
inline bool wait_for(const std::function<bool()>& done, const std::function<void()>& step) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    step();
  }
  return true;
}

inline int ioctl_int(int fd, unsigned long request) {
  int n = -1;
  return ioctl(fd, request, &n) == 0 ? n : -1;
}
// Bytes a socket holds that its peer has not acknowledged (sent or not).
inline int unacknowledged(int fd) {
  return ioctl_int(fd, SIOCOUTQ);
}
// Bytes a socket holds that were not even sent (the peer's window is shut).
inline int unsent(int fd) {
  return ioctl_int(fd, SIOCOUTQNSD);
}
// Bytes that arrived and were not read.
inline int unread(int fd) {
  return ioctl_int(fd, FIONREAD);
}
inline bool writable(int fd) {
  pollfd p{fd, POLLOUT, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

class WorkerUnderTest {
 public:
  // `peer_receive_buffer` > 0 shrinks the peer's receive window, so that a
  // peer that stops reading soon stops the worker's sends. `backlog` is the
  // listener's.
  explicit WorkerUnderTest(LoadOptions options, int peer_receive_buffer = 0, int backlog = 4)
      : options_(std::move(options)) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (peer_receive_buffer > 0) {  // before listen(): the window is agreed in the handshake
      setsockopt(listener_, SOL_SOCKET, SO_RCVBUF, &peer_receive_buffer,
                 sizeof peer_receive_buffer);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener_, backlog) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      ADD_FAILURE() << "no loopback listener";
      return;
    }
    options_.host = "127.0.0.1";
    options_.port = ntohs(address.sin_port);
    options_.connections = 1;
    plan_ = std::make_unique<AddressPlan>(
        AddressPlan::for_this_machine(INADDR_LOOPBACK, options_.port, 1));
    stats_.control().start_ns = monotonic_ns();
    WorkerPlan mine;
    mine.connections = 1;
    mine.tuples = plan_->slice(0, 1);
    worker_ = std::make_unique<ClientWorker>(options_, *plan_, mine, stats_);
  }

  ~WorkerUnderTest() {
    if (worker_) WorkerProbe::close_all(*worker_);
    if (peer_ >= 0) close(peer_);
    if (filler_ >= 0) close(filler_);
    if (listener_ >= 0) close(listener_);
  }
  WorkerUnderTest(const WorkerUnderTest&) = delete;
  WorkerUnderTest& operator=(const WorkerUnderTest&) = delete;

  // Has the worker issue its one connect; true if it is in flight.
  bool open() {
    if (!worker_) return false;
    WorkerProbe::open_connections(*worker_);
    client_fd_ = WorkerProbe::last_fd(*worker_);
    return client_fd_ >= 0 && connection().state == LoadState::connecting;
  }

  // open(), and accepts the connection; the worker has then sent its first
  // request (or upgrade) as far as the socket took it.
  bool connect() {
    if (!open()) return false;
    const bool accepted = turn_until([&] {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 0) == 1) peer_ = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      return peer_ >= 0;
    });
    return accepted && turn_until([&] { return connection().state != LoadState::connecting; });
  }

  // Turns the worker's loop until `done` holds; false after kWaitMs.
  bool turn_until(const std::function<bool()>& done) {
    return wait_for(done, [&] { WorkerProbe::loop(*worker_).run_once(10); });
  }

  // Runs every timer the worker has armed, now, before its loop looks at
  // epoll again: each connection's one deadline comes, whatever it is.
  void expire_timers() {
    io::EventLoop& loop = WorkerProbe::loop(*worker_);
    // The wheel runs ahead of the loop's clock from here on: a timer armed
    // later is filed for the next tick after this one and fires on the
    // next call, not in real time.
    clock_ms_ = std::max(clock_ms_, loop.refresh_now()) + kBeyondEveryTimeout;
    loop.timers().advance(clock_ms_);
  }

  // The peer's side: what it received so far, what it sends.
  bool peer_receive_until(const std::function<bool(std::string_view received)>& done) {
    return peer_wait([&] { return done(received_); });
  }
  // Reads until the worker's socket has nothing left for the peer.
  bool peer_drain() {
    return peer_wait([&] { return unacknowledged(client_fd_) == 0 && unread(peer_) == 0; });
  }
  bool peer_send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(peer_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(std::size_t(n));
    }
    return true;
  }
  const std::string& peer_received() const { return received_; }

  // A connection the listener's backlog holds, not accepted: with backlog
  // 0 the queue is then full, and the worker's SYN goes unanswered.
  bool fill_backlog() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(options_.port);
    filler_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const timeval limit{kWaitMs / 1000, 0};
    setsockopt(filler_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);  // bounds connect()
    return ::connect(filler_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }

  // Until every byte the peer sent is in the worker's socket, unread.
  bool delivered() {
    return wait_for([&] { return unacknowledged(peer_) == 0; }, [] { poll(nullptr, 0, 1); });
  }
  // Until the worker's socket holds bytes it cannot send, and none in
  // flight whose acknowledgement could make room.
  bool send_stalled() {
    return wait_for(
        [&] {
          const int queued = unacknowledged(client_fd_);
          return queued > 0 && queued == unsent(client_fd_) && !writable(client_fd_);
        },
        [] { poll(nullptr, 0, 1); });
  }

  LoadConnection& connection() { return WorkerProbe::connection(*worker_, client_fd_); }
  int client_fd() const { return client_fd_; }
  const WorkerSlot& slot() const { return stats_.slot(0); }
  uint64_t errors(LoadFailure kind) const { return slot().errors[std::size_t(kind)].get(); }

 private:
  static constexpr uint64_t kBeyondEveryTimeout = 100'000;  // ms; --idle and --timeout are less

  // Reads what the worker sent until `done` holds; the worker's loop is not
  // turned meanwhile, only its kernel sends.
  bool peer_wait(const std::function<bool()>& done) {
    return wait_for(done, [&] {
      pollfd p{peer_, POLLIN, 0};
      poll(&p, 1, 10);
      char buffer[16384];
      ssize_t n;
      while ((n = recv(peer_, buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
        received_.append(buffer, std::size_t(n));
    });
  }

  LoadOptions options_;  // the worker keeps references to these three
  std::unique_ptr<AddressPlan> plan_;
  SharedStats stats_{1};
  std::unique_ptr<ClientWorker> worker_;
  int listener_ = -1;
  int peer_ = -1;
  int filler_ = -1;
  int client_fd_ = -1;
  uint64_t clock_ms_ = 0;
  std::string received_;
};

}  // namespace test
}  // namespace httpkit::load
