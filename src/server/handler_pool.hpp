// Worker threads for handlers that block, with a bounded queue: when it is
// full the server answers 503 instead of queueing without limit.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace httpkit::server {

class HandlerPool {
 public:
  using Job = std::function<void()>;

  HandlerPool(int threads, std::size_t max_queued);
  ~HandlerPool();  // finishes queued jobs, then joins

  // False when the queue is full or the pool is shutting down.
  bool submit(Job job);

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  std::size_t max_queued_;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace httpkit::server
