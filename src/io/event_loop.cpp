#include "io/event_loop.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace httpkit::io {
namespace {

constexpr uint8_t kWakeKind = 0;

uint64_t pack(uint8_t kind, int fd) {
  return (uint64_t{kind} << 32) | uint32_t(fd);
}

}  // namespace

uint64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1'000'000;
}

EventLoop::EventLoop() : now_ms_(monotonic_ms()), timers_(now_ms_) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  kinds_.push_back({nullptr, nullptr});  // kind 0 is the wake-up eventfd
  add(wake_fd_, kReadable, kWakeKind);
}

EventLoop::~EventLoop() {
  close(wake_fd_);
}

uint8_t EventLoop::register_kind(IoCallback callback, void* context) {
  if (kinds_.size() >= 255) throw std::length_error("too many descriptor kinds");
  kinds_.push_back({callback, context});
  return uint8_t(kinds_.size() - 1);
}

bool EventLoop::add(int fd, uint32_t events, uint8_t kind) {
  return backend_.watch(fd, events, pack(kind, fd));
}

bool EventLoop::modify(int fd, uint32_t events, uint8_t kind) {
  return backend_.rewatch(fd, events, pack(kind, fd));
}

void EventLoop::remove(int fd) {
  backend_.unwatch(fd);
}

void EventLoop::post(Task task) {
  if (posted_.push(std::move(task))) wake();
}

void EventLoop::stop() {
  stopping_.store(true, std::memory_order_release);
  wake();
}

void EventLoop::wake() {
  uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the loop will wake anyway.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

uint64_t EventLoop::refresh_now() {
  return now_ms_ = monotonic_ms();
}

void EventLoop::run_posted() {
  uint64_t counter;
  [[maybe_unused]] ssize_t n = read(wake_fd_, &counter, sizeof counter);
  posted_.take_all(running_);
  for (auto& task : running_)
    task();
  running_.clear();
}

void EventLoop::run_once(int max_wait_ms) {
  int64_t timer_wait = timers_.ms_until_next(now_ms_);
  int wait = max_wait_ms;
  if (timer_wait >= 0 && (wait < 0 || timer_wait < wait)) wait = int(timer_wait);
  int n = backend_.wait(events_, wait);
  refresh_now();
  bool woken = false;
  for (int i = 0; i < n; ++i) {
    uint64_t data = events_[i].token;
    uint8_t kind = uint8_t(data >> 32);
    if (kind == kWakeKind) {
      woken = true;
      continue;
    }
    const Kind& k = kinds_[kind];
    k.callback(k.context, int(uint32_t(data)), events_[i].events);
  }
  if (woken) run_posted();
  timers_.advance(now_ms_);
  if (after_events_) after_events_();
  backend_.submit();
}

namespace {

// sendfile(2) has no MSG_NOSIGNAL: a peer that resets a connection in the
// middle of a file raises SIGPIPE, whose default action ends the process
// (silently: it is not a crash the kernel logs). The loop's thread blocks
// it while the loop runs, so the call fails with EPIPE instead, and takes
// what it left pending before restoring the mask: the process's own
// disposition of SIGPIPE is the application's, untouched.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
  }
  ~SigpipeBlocked() {
    const timespec now{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &now) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t pipe_, previous_;
};

}  // namespace

void EventLoop::run() {
  owner_ = std::this_thread::get_id();
  const SigpipeBlocked sigpipe_blocked;
  while (!stopping_.load(std::memory_order_acquire))
    run_once(-1);
  // Tasks posted before stop() still run: a sender may be waiting on them.
  posted_.take_all(running_);
  for (auto& task : running_)
    task();
  running_.clear();
}

}  // namespace httpkit::io
