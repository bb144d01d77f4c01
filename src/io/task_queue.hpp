// Closures posted to a loop from other threads (many producers, one
// consumer). A mutex-guarded vector swapped out whole by the consumer: the
// lock is held for a push_back or a swap, never while a task runs.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

namespace httpkit::io {

class TaskQueue {
 public:
  using Task = std::function<void()>;

  // Returns true if the queue was empty, i.e. the consumer needs a wake-up.
  bool push(Task task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    return tasks_.size() == 1;
  }

  // Moves every queued task into `out` (which the caller keeps for reuse).
  void take_all(std::vector<Task>& out) {
    out.clear();
    std::lock_guard lock(mutex_);
    out.swap(tasks_);
  }

 private:
  std::mutex mutex_;
  std::vector<Task> tasks_;
};

}  // namespace httpkit::io
