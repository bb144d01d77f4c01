// One epoll loop per thread, edge-triggered.
//
// A loop owns its descriptors outright. Kinds of descriptors (listeners,
// server connections, client connections) register one callback each; the
// epoll data word carries (kind, fd), so a connection needs no callback
// object of its own. Other threads reach a loop only through post().
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "io/task_queue.hpp"
#include "io/timer_wheel.hpp"

namespace httpkit::io {

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

  // Watches `fd` edge-triggered for `events` (EPOLLIN, EPOLLOUT, ...).
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

 private:
  void wake();
  void run_posted();

  struct Kind {
    IoCallback callback;
    void* context;
  };

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<std::thread::id> owner_{};
  uint64_t now_ms_ = 0;
  TimerWheel timers_;
  TaskQueue posted_;
  std::vector<TaskQueue::Task> running_;
  std::vector<Kind> kinds_;
  std::vector<epoll_event> events_;
  std::function<void()> after_events_;
};

uint64_t monotonic_ms();

}  // namespace httpkit::io
