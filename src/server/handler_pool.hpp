// Where handlers run when they may block: worker threads with a bounded
// queue (when it is full the server answers 503 instead of queueing
// without limit), or the user's executor (http-kit's :worker-pool).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

namespace httpkit::server {

// Names the calling thread PREFIX-ROLE-N, cut to Linux's 15 characters.
void name_this_thread(const std::string& prefix, const char* role, int index);

class HandlerPool {
 public:
  using Job = std::function<void()>;
  using Executor = std::function<bool(Job)>;

  // `threads` workers named PREFIX-work-N.
  HandlerPool(int threads, std::size_t max_queued, std::string name_prefix = "httpkit");
  // Hands every job to `executor`.
  explicit HandlerPool(Executor executor);
  // Built-in workers: finish queued jobs, then join. Executor: waits for
  // jobs running now; jobs the executor runs later do nothing.
  ~HandlerPool();

  // False when the queue is full, the executor refused, or the pool is
  // shutting down.
  bool submit(Job job);

 private:
  void work();

  // What a job handed to the executor finds when it runs, however late.
  struct Gate {
    std::shared_mutex mutex;  // shared while a job runs
    bool closed = false;
  };

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  std::size_t max_queued_ = 0;
  bool closing_ = false;
  std::vector<std::thread> threads_;
  Executor executor_;
  std::shared_ptr<Gate> gate_;
};

}  // namespace httpkit::server
