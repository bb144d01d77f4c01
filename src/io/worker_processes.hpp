// Worker processes: the unit of scale past one process's descriptor limit.
//
// The master forks N workers, waits until each says it is serving, and
// then supervises: a worker that dies is started again; stop() asks every
// worker to drain (SIGTERM) and, after a grace period, kills the stragglers.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "httpkit/logger.hpp"

namespace httpkit::io {

class WorkerProcesses {
 public:
  // Runs in the child. It writes one byte to `ready_fd` once it serves and
  // returns the exit status.
  using WorkerMain = std::function<int(int index, int ready_fd)>;

  // `on_died` is called (on the supervising thread) for each worker that
  // exits while the server runs, before it is started again.
  WorkerProcesses(int count, WorkerMain main, Logger logger = log_to_stderr,
                  std::function<void()> on_died = {});

  // Forks every worker and waits (up to `timeout`) until all are ready.
  // The caller must have blocked SIGCHLD (and the stop signals) first.
  // Throws std::runtime_error if a worker fails to start.
  void start(std::chrono::milliseconds timeout);

  // Supervises until stop() was called and every worker has exited.
  // Workers still alive `grace` after their stop timeout are killed.
  void supervise(std::chrono::milliseconds grace);

  // Thread-safe: asks the supervisor to send every worker SIGTERM, with
  // `timeout` (ms) as the signal's value (sigqueue; a worker reads it from
  // si_value when si_code is SI_QUEUE). Again with a shorter timeout, the
  // workers are told again.
  void stop(std::chrono::milliseconds timeout);

  int count() const { return int(pids_.size()); }
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  pid_t spawn(int index, int ready_fd);
  bool wait_ready(int ready_fd, int workers, std::chrono::milliseconds timeout);
  void reap(bool restart);

  WorkerMain main_;
  Logger logger_;
  std::vector<pid_t> pids_;
  std::function<void()> on_died_;
  // The shortest stop timeout asked for, in ms; -1 while none was.
  std::atomic<int64_t> stop_timeout_ms_{-1};
};

}  // namespace httpkit::io
