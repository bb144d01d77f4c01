// One-shot tasks on a loop's timing wheel, schedulable and cancellable from
// any thread (http-kit's schedule-task).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>

#include "io/event_loop.hpp"

namespace httpkit::io {

class ScheduledTasks {
 public:
  explicit ScheduledTasks(EventLoop& loop) : loop_(loop) {}
  ~ScheduledTasks();  // drops tasks that have not run (on the loop's thread)

  // Returns a function that cancels the task (safe from any thread, any time).
  std::function<void()> schedule(std::chrono::milliseconds delay, std::function<void()> task);

 private:
  struct Task;
  void arm(const std::shared_ptr<Task>& task, uint64_t delay_ms);

  EventLoop& loop_;
  std::unordered_map<Task*, std::shared_ptr<Task>> armed_;  // loop thread only
};

}  // namespace httpkit::io
