#include "supervisor.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "address_plan.hpp"
#include "client_worker.hpp"
#include "reporter.hpp"
#include "shared_stats.hpp"

namespace httpkit::load {
namespace {

// How long workers get to close their connections before SIGKILL.
constexpr uint64_t kStopGraceNs = 30'000'000'000ull;

struct Worker {
  pid_t pid = -1;
  bool exited = false;
  bool failed = false;  // died before being told to stop, or exited non-zero
};

// The share of `total` worker `index` of `count` gets: the rest of an
// uneven split goes to the first ones.
std::size_t share(std::size_t total, int count, int index) {
  return total / std::size_t(count) + (std::size_t(index) < total % std::size_t(count) ? 1 : 0);
}

pid_t fork_worker(const LoadOptions& options, const AddressPlan& plan, const WorkerPlan& mine,
                  SharedStats& stats) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // The worker: stop when the parent dies, with a clean signal mask.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) _exit(1);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int status = 1;
  try {
    ClientWorker worker(options, plan, mine, stats);
    status = worker.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "httpkit-load worker %d: %s\n", mine.index, e.what());
  }
  std::fflush(nullptr);
  _exit(status);
}

// Reaps exited workers; returns how many exited while the run was still on.
int reap(std::vector<Worker>& workers, bool stopping) {
  int died = 0;
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return died;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      Worker& w = workers[i];
      if (w.pid != pid) continue;
      w.exited = true;
      const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!clean || !stopping) {
        w.failed = true;
        ++died;
        std::fprintf(stderr, "httpkit-load: worker %zu (pid %d) %s %d\n", i, int(pid),
                     WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
      }
    }
  }
}

int alive(const std::vector<Worker>& workers) {
  return int(std::count_if(workers.begin(), workers.end(),
                           [](const Worker& w) { return w.pid > 0 && !w.exited; }));
}

}  // namespace

int run_load(const LoadOptions& options) {
  uint32_t destination = 0;
  if (!parse_ipv4(options.host.c_str(), destination)) {
    std::fprintf(stderr, "httpkit-load: --host must be an IPv4 address\n");
    return 2;
  }
  const int processes = resolve_processes(options);
  const AddressPlan plan =
      AddressPlan::for_this_machine(destination, options.port, options.dest_addresses);
  const std::size_t per_worker_max = share(options.connections, processes, 0);
  const std::size_t sources = plan.sources_used(processes, per_worker_max);
  Reporter reporter(options);
  if (!reporter.open_csv()) return 2;

  char first[16], last_source[16];
  std::printf(
      "httpkit-load: %zu connections to %s:%u (%u destination address%s), %d processes "
      "of at most %zu (fd limit %zu), sources %s-%s (%zu ports each, none ephemeral)\n",
      options.connections, options.host.c_str(), unsigned(options.port), options.dest_addresses,
      options.dest_addresses == 1 ? "" : "es", processes, per_worker_max,
      auto_connections_per_process() + 4000, format_address(plan.at(0).source.address, first),
      format_address(plan.at(plan.slice(processes - 1, per_worker_max).end - 1).source.address,
                     last_source),
      plan.ports_per_source());
  if (options.workload == Workload::websocket) {
    std::printf("httpkit-load: WebSocket echo on %s, %u-%u bytes per message%s\n",
                options.ws_path.c_str(), options.length.min, options.length.max,
                options.deflate ? ", permessage-deflate required" : "");
  }
  std::fflush(stdout);

  SharedStats stats(processes);
  const uint64_t start_ns = monotonic_ns();
  stats.control().start_ns.store(start_ns);

  // The parent takes its signals synchronously; workers unblock them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGCHLD);
  sigprocmask(SIG_BLOCK, &signals, nullptr);

  std::vector<Worker> workers(static_cast<std::size_t>(processes));
  for (int i = 0; i < processes; ++i) {
    WorkerPlan mine;
    mine.index = i;
    mine.connections = share(options.connections, processes, i);
    mine.tuples = plan.slice(i, per_worker_max);
    mine.rate = options.rate / processes;
    workers[std::size_t(i)].pid = fork_worker(options, plan, mine, stats);
    if (workers[std::size_t(i)].pid < 0) {
      std::perror("fork");
      workers[std::size_t(i)].failed = workers[std::size_t(i)].exited = true;
    }
  }

  Snapshot previous = take_snapshot(stats), current;
  uint64_t second = 0, peak = 0;
  bool interrupted = false, worker_failed = false;
  double steady_from_s = -1, target_s = -1;
  const auto elapsed_s = [&] { return double(monotonic_ns() - start_ns) / 1e9; };
  for (;;) {
    // Sleep until the next whole second, taking signals as they come.
    const uint64_t next_ns = start_ns + (second + 1) * 1'000'000'000ull;
    bool stop = false;
    for (uint64_t now = monotonic_ns(); now < next_ns; now = monotonic_ns()) {
      const uint64_t wait = next_ns - now;
      timespec ts{time_t(wait / 1'000'000'000ull), long(wait % 1'000'000'000ull)};
      const int sig = sigtimedwait(&signals, nullptr, &ts);
      if (sig == SIGINT || sig == SIGTERM) {
        interrupted = stop = true;
        break;
      }
      if (sig == SIGCHLD && reap(workers, false) > 0) {
        worker_failed = stop = true;
        break;
      }
    }
    if (stop) break;
    ++second;
    current = take_snapshot(stats);
    peak = std::max(peak, current.concurrency());
    reporter.second({second, elapsed_s(), &current, &previous, alive(workers)});
    if (target_s < 0 && current.target_reached_workers == processes) {
      target_s = double(current.last_target_reached_ms) / 1000;
      std::printf("target reached: %zu connections in %.1f s\n", options.connections, target_s);
      std::fflush(stdout);
    }
    if (steady_from_s < 0 && current.ramp_done_workers == processes) {
      steady_from_s = double(current.last_ramp_done_ms) / 1000;
      if (target_s < 0) {
        std::printf(
            "ramp finished at %.1f s with %llu connections up, %llu errors, %llu not "
            "opened\n",
            steady_from_s, static_cast<unsigned long long>(current.concurrency()),
            static_cast<unsigned long long>(current.total_errors()),
            static_cast<unsigned long long>(current.not_opened));
        std::fflush(stdout);
      }
    }
    previous = current;
    const double t = elapsed_s();
    if (t >= options.duration_s) break;
    if (options.steady_s > 0 && steady_from_s >= 0 && t >= steady_from_s + options.steady_s) break;
  }

  // Stop: every worker closes its connections and exits; stragglers are killed.
  const double run_time = elapsed_s();
  stats.control().stop.store(1);
  for (const Worker& w : workers)
    if (w.pid > 0 && !w.exited) kill(w.pid, SIGTERM);
  const uint64_t deadline = monotonic_ns() + kStopGraceNs;
  while (alive(workers) > 0) {
    const uint64_t now = monotonic_ns();
    if (now >= deadline) {
      std::fprintf(stderr, "httpkit-load: killing %d workers that did not stop\n", alive(workers));
      for (Worker& w : workers)
        if (w.pid > 0 && !w.exited) kill(w.pid, SIGKILL);
      while (alive(workers) > 0) {
        int status;
        const pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == ECHILD) break;
        for (Worker& w : workers)
          if (w.pid == pid) w.exited = w.failed = true;
      }
      break;
    }
    timespec ts{0, 100'000'000};
    const int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) interrupted = true;
    reap(workers, true);
  }

  current = take_snapshot(stats);
  FinalReport report;
  report.options = &options;
  report.processes = processes;
  report.sources = sources;
  report.last = &current;
  report.elapsed_s = run_time;
  report.peak_concurrency = peak;
  report.time_to_target_s = target_s;
  report.ramp_done_s = steady_from_s;
  report.interrupted = interrupted;
  report.min_requests = UINT64_MAX;
  for (int i = 0; i < processes; ++i) {
    const WorkerSlot& slot = stats.slot(i);
    Worker& w = workers[std::size_t(i)];
    if (!slot.finished.get()) w.failed = true;
    if (w.failed) {
      ++report.workers_failed;
      continue;
    }
    if (slot.established.get() > 0) {
      report.min_requests = std::min(report.min_requests, slot.min_requests.get());
    }
    report.below_two_requests += slot.below_two_requests.get();
  }
  if (report.min_requests == UINT64_MAX) report.min_requests = 0;
  reporter.final(report);

  // Errors, or a target never reached, fail the run unless --allow-errors.
  const bool failed_run = (current.total_errors() > 0 || target_s < 0) && !options.allow_errors;
  return (failed_run || worker_failed || report.workers_failed) ? 1 : 0;
}

}  // namespace httpkit::load
