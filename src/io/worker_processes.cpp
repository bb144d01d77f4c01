#include "io/worker_processes.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "io/event_loop.hpp"

namespace httpkit::io {

WorkerProcesses::WorkerProcesses(int count, WorkerMain main, Logger logger,
                                 std::function<void()> on_died)
    : main_(std::move(main)),
      logger_(std::move(logger)),
      pids_(std::size_t(count), -1),
      on_died_(std::move(on_died)) {}

void WorkerProcesses::stop(std::chrono::milliseconds timeout) {
  const int64_t ms = std::max<int64_t>(0, timeout.count());
  int64_t current = stop_timeout_ms_.load();
  while ((current < 0 || ms < current) && !stop_timeout_ms_.compare_exchange_weak(current, ms)) {
  }
}

pid_t WorkerProcesses::spawn(int index, int ready_fd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  // The worker: die with the master, start with a clean signal mask.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) _exit(1);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  int status = 1;
  try {
    status = main_(index, ready_fd);
  } catch (const std::exception& e) {
    logger_(LogLevel::error, "worker " + std::to_string(index) + ": " + e.what());
  }
  _exit(status);
}

bool WorkerProcesses::wait_ready(int ready_fd, int workers, std::chrono::milliseconds timeout) {
  uint64_t deadline = monotonic_ms() + uint64_t(timeout.count());
  int ready = 0;
  while (ready < workers) {
    uint64_t now = monotonic_ms();
    if (now >= deadline) return false;
    pollfd p{ready_fd, POLLIN, 0};
    int n = poll(&p, 1, int(deadline - now));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    char buf[256];
    ssize_t got = read(ready_fd, buf, sizeof buf);
    if (got <= 0) return false;  // every writer died
    ready += int(got);
  }
  return true;
}

void WorkerProcesses::start(std::chrono::milliseconds timeout) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  for (int i = 0; i < count(); ++i)
    pids_[std::size_t(i)] = spawn(i, pipe_fds[1]);
  close(pipe_fds[1]);
  bool ok = wait_ready(pipe_fds[0], count(), timeout);
  close(pipe_fds[0]);
  if (!ok) {
    for (pid_t pid : pids_)
      if (pid > 0) kill(pid, SIGKILL);
    reap(false);
    throw std::runtime_error("worker processes did not start");
  }
}

void WorkerProcesses::reap(bool restart) {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] != pid) continue;
      pids_[i] = -1;
      if (restart) {
        if (on_died_) on_died_();
        logger_(LogLevel::warning, "worker " + std::to_string(i) + " (pid " + std::to_string(pid) +
                                       ") exited (status " + std::to_string(status) +
                                       "); restarting");
        int pipe_fds[2];
        if (pipe2(pipe_fds, O_CLOEXEC) != 0) break;
        pids_[i] = spawn(int(i), pipe_fds[1]);
        close(pipe_fds[1]);
        wait_ready(pipe_fds[0], 1, std::chrono::seconds(10));
        close(pipe_fds[0]);
      }
    }
  }
}

void WorkerProcesses::supervise(std::chrono::milliseconds grace) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int64_t signalled = -1;  // the timeout the workers were last told
  uint64_t kill_at = 0;
  for (;;) {
    const int64_t timeout = stop_timeout_ms_.load();
    const bool stopping = timeout >= 0;
    if (stopping && (signalled < 0 || timeout < signalled)) {
      sigval value{};
      value.sival_int = int(std::min<int64_t>(timeout, INT32_MAX));
      for (pid_t pid : pids_)
        if (pid > 0) sigqueue(pid, SIGTERM, value);
      signalled = timeout;
      kill_at = monotonic_ms() + uint64_t(timeout) + uint64_t(grace.count());
    }
    reap(!stopping);
    bool any = false;
    for (pid_t pid : pids_)
      any |= pid > 0;
    if (!any && stopping) return;
    if (signalled >= 0 && monotonic_ms() >= kill_at) {
      for (pid_t pid : pids_)
        if (pid > 0) kill(pid, SIGKILL);
    }
    timespec wait{0, 100'000'000};
    sigtimedwait(&chld, nullptr, &wait);
  }
}

}  // namespace httpkit::io
