#include "server/handler_pool.hpp"

#include <pthread.h>

namespace httpkit::server {

void name_this_thread(const std::string& prefix, const char* role, int index) {
  std::string suffix = std::string("-") + role + "-" + std::to_string(index);
  constexpr std::size_t kMax = 15;  // pthread_setname_np: 16 bytes with the NUL
  std::string name = prefix.substr(0, kMax > suffix.size() ? kMax - suffix.size() : 0) + suffix;
  name.resize(std::min(name.size(), kMax));
  pthread_setname_np(pthread_self(), name.c_str());
}

HandlerPool::HandlerPool(int threads, std::size_t max_queued, std::string name_prefix)
    : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this, i, name_prefix] {
      name_this_thread(name_prefix, "work", i);
      work();
    });
}

HandlerPool::HandlerPool(Executor executor)
    : executor_(std::move(executor)), gate_(std::make_shared<Gate>()) {}

HandlerPool::~HandlerPool() {
  if (gate_) {
    // Taking the lock exclusively waits for the jobs that run now.
    std::unique_lock lock(gate_->mutex);
    gate_->closed = true;
    return;
  }
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_)
    t.join();
}

bool HandlerPool::submit(Job job) {
  if (executor_) {
    // A job posts its answer to a loop: it must not run once the loops
    // are gone, and the pool's destructor (before the loops go) waits for
    // the ones running.
    Job task = [gate = gate_, job = std::move(job)] {
      std::shared_lock lock(gate->mutex);
      if (!gate->closed) job();
    };
    try {
      return executor_(std::move(task));
    } catch (...) {
      return false;  // an executor that throws took nothing
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (closing_ || jobs_.size() >= max_queued_) return false;
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void HandlerPool::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return closing_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace httpkit::server
