// One event loop per thread, edge-triggered, over a Backend (backend.hpp).
//
// A loop owns its descriptors outright. Kinds of descriptors (listeners,
// server connections, client connections) register one callback each; the
// backend's token carries (kind, fd), so a connection needs no callback
// object of its own. Other threads reach a loop only through post().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "io/backend.hpp"
#include "io/task_queue.hpp"
#include "io/timer_wheel.hpp"

namespace httpkit::io {

// Event bits, the same for every backend.
enum EventBits : uint32_t {
  kReadable = 1u << 0,
  kWritable = 1u << 1,
  kPeerClosed = 1u << 2,  // the peer shut its side (reported with any interest)
  kFailed = 1u << 3,      // an error is pending, or both directions hung up
  // For add() only: the descriptor is watched by several loops (a shared
  // listening socket), and a readiness wakes one loop that is waiting
  // rather than every loop, and never one that is busy.
  kExclusive = 1u << 4,
};

class EventLoop {
 public:
  using IoCallback = void (*)(void* context, int fd, uint32_t events);
  using Task = TaskQueue::Task;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Returns the kind id to pass to add().
  uint8_t register_kind(IoCallback callback, void* context);

  // Watches `fd` edge-triggered for `events` (kReadable, kWritable).
  bool add(int fd, uint32_t events, uint8_t kind);
  bool modify(int fd, uint32_t events, uint8_t kind);
  void remove(int fd);

  // Thread-safe: runs `task` on this loop's thread soon.
  void post(Task task);
  // Thread-safe: run() returns after the current iteration.
  void stop();

  // Runs until stop(). Call from the thread that owns the loop.
  void run();
  // One iteration; waits at most `max_wait_ms` (-1: until an event).
  void run_once(int max_wait_ms);

  bool in_loop_thread() const { return std::this_thread::get_id() == owner_.load(); }

  TimerWheel& timers() { return timers_; }
  // Milliseconds on a monotonic clock, read once per iteration.
  uint64_t now_ms() const { return now_ms_; }
  uint64_t refresh_now();

  // Runs once per iteration after the events (e.g. to flush batched writes).
  void set_after_events(std::function<void()> hook) { after_events_ = std::move(hook); }

  // Where descriptors' bytes move; Stream is the way in for protocols.
  Backend& backend() { return backend_; }

 private:
  void wake();
  void run_posted();

  struct Kind {
    IoCallback callback;
    void* context;
  };

  Backend backend_;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<std::thread::id> owner_{};
  uint64_t now_ms_ = 0;
  TimerWheel timers_;
  TaskQueue posted_;
  std::vector<TaskQueue::Task> running_;
  std::vector<Kind> kinds_;
  std::array<ReadyEvent, 1024> events_;
  std::function<void()> after_events_;
};

uint64_t monotonic_ms();

}  // namespace httpkit::io
