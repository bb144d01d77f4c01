#include "io/scheduled_tasks.hpp"

#include <atomic>

namespace httpkit::io {

struct ScheduledTasks::Task : TimerNode {
  ScheduledTasks* owner = nullptr;
  std::function<void()> run;
  std::atomic<bool> cancelled{false};
};

ScheduledTasks::~ScheduledTasks() {
  for (auto& [raw, task] : armed_)
    loop_.timers().cancel(*raw);
}

void ScheduledTasks::arm(const std::shared_ptr<Task>& task, uint64_t delay_ms) {
  if (task->cancelled) return;
  armed_.emplace(task.get(), task);
  loop_.timers().arm(*task, loop_.now_ms(), delay_ms);
}

std::function<void()> ScheduledTasks::schedule(std::chrono::milliseconds delay,
                                               std::function<void()> run) {
  auto task = std::make_shared<Task>();
  task->owner = this;
  task->run = std::move(run);
  task->fire = [](TimerNode* node) {
    auto* t = static_cast<Task*>(node);
    auto self = t->owner->armed_.extract(t);  // keeps the task alive while it runs
    if (!t->cancelled) t->run();
  };
  uint64_t delay_ms = uint64_t(std::max<int64_t>(0, delay.count()));
  if (loop_.in_loop_thread()) {
    arm(task, delay_ms);
  } else {
    loop_.post([this, task, delay_ms] { arm(task, delay_ms); });
  }
  std::weak_ptr<Task> weak = task;
  EventLoop* loop = &loop_;
  return [weak, loop] {
    auto t = weak.lock();
    if (!t || t->cancelled.exchange(true)) return;
    // Unfile it on its loop so it is freed now rather than when due.
    loop->post([t] {
      if (!t->armed()) return;
      t->owner->loop_.timers().cancel(*t);
      t->owner->armed_.erase(t.get());
    });
  };
}

}  // namespace httpkit::io
