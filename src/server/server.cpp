// Server: resolves the options into loops, threads and processes.
#include "httpkit/server.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "io/socket.hpp"
#include "io/worker_processes.hpp"
#include "server/connection_table.hpp"
#include "server/handler_body_plan.hpp"
#include "server/loop_server.hpp"
#include "server/server_log.hpp"
#include "tls/server_context.hpp"
#include "tls/server_tls_layer.hpp"

namespace httpkit {
namespace {

// Descriptors a process keeps for itself (stdio, the event backend, eventfds, files).
constexpr std::size_t kReservedDescriptors = 64;
// Share of a process's descriptors `processes = auto` plans to use, leaving
// room for the uneven spread of SO_REUSEPORT hashing.
constexpr double kAutoFill = 0.8;
// Workers still alive this long after their stop timeout are killed.
constexpr std::chrono::seconds kWorkerKillGrace{5};

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
}

// SIGINT and SIGTERM, and SIGHUP (reload the certificates) with TLS.
sigset_t stop_signals(bool hangup = false) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (hangup) sigaddset(&set, SIGHUP);
  return set;
}

// Waits for SIGINT/SIGTERM (already blocked) while `running()` holds,
// calling `on_hangup()` for each SIGHUP when `hangup` (also blocked).
template <typename Running, typename OnHangup>
bool wait_for_stop_signal(bool hangup, Running running, OnHangup on_hangup) {
  sigset_t set = stop_signals(hangup);
  while (running()) {
    timespec wait{0, 200'000'000};
    const int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig == SIGHUP) {
      on_hangup();
    } else if (sig > 0) {
      return true;
    }
  }
  return false;
}

// All the loops of one process.
class ProcessServer {
 public:
  ProcessServer(Handler handler, const ServerOptions& options, std::size_t process_limit,
                std::function<std::unique_ptr<io::StreamLayer>()> layer_factory)
      : shared_(std::move(handler), options, process_limit) {
    shared_.layer_factory = std::move(layer_factory);
  }

  ~ProcessServer() {
    stop(shared_.options.stop_timeout);
    join();
    // Before the loops go: handler jobs still queued or running post their
    // answers to them.
    shared_.pool.reset();
  }

  // Opens the listeners (two with a separate TLS port): one SO_REUSEPORT
  // socket per loop, or one per process that every loop watches
  // (ServerOptions::accept). The sockets close when their loops stop.
  void start(int threads) {
    const ServerOptions& o = shared_.options;
    const bool tls = o.tls.has_value();
    const bool split = tls && o.tls_port.has_value();
    const bool shared = o.accept == ServerOptions::Accept::shared;
    std::vector<std::vector<server::Listener>> per_loop{std::size_t(threads)};
    auto open = [&](bool first, uint16_t port, uint16_t& bound) {
      auto socket = std::make_shared<server::ListenSocket>(
          io::listen_tcp(o.host, first ? port : bound, true));
      if (first) bound = io::local_port_of(socket->fd());
      return socket;
    };
    for (int i = 0; i < threads; ++i) {
      auto& ls = per_loop[std::size_t(i)];
      const bool first = i == 0;
      if (first || !shared) {
        ls.push_back({open(first, o.port, bound_port_), tls && !split, shared});
        if (split) ls.push_back({open(first, *o.tls_port, bound_tls_port_), true, shared});
      } else {
        ls = per_loop[0];
      }
    }
    if (tls && !split) bound_tls_port_ = bound_port_;
    for (auto& ls : per_loop)
      loops_.push_back(std::make_unique<server::LoopServer>(shared_, ls));
    // Loop threads never take the stop signals: the thread in run() does.
    sigset_t block = stop_signals(tls), previous;
    pthread_sigmask(SIG_BLOCK, &block, &previous);
    running_loops_ = int(loops_.size());
    for (std::size_t i = 0; i < loops_.size(); ++i)
      threads_.emplace_back([this, i, l = loops_[i].get()] {
        server::name_this_thread(shared_.options.thread_name_prefix, "loop", int(i));
        l->run();
        loop_ended();
      });
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }

  // Any thread, any number of times: a shorter timeout brings the cut forward.
  void stop(std::chrono::milliseconds timeout) {
    for (auto& loop : loops_)
      loop->begin_stop(timeout);
  }

  // True once every loop has ended (they end only after stop()).
  bool finished() const {
    std::lock_guard lock(state_mutex_);
    return running_loops_ == 0;
  }

  // Until every loop ended or `timeout` passed; true when they ended (and
  // their threads are joined).
  bool wait_for(std::chrono::milliseconds timeout) {
    {
      std::unique_lock lock(state_mutex_);
      if (!loops_ended_.wait_for(lock, timeout, [this] { return running_loops_ == 0; }))
        return false;
    }
    join();
    return true;
  }

  void join() {
    std::lock_guard lock(join_mutex_);
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
    if (!done_) log_deadline_closes();
    done_ = true;
  }

  // Called by the last loop to end (on its thread).
  std::function<void()> on_finished;

  // Which deadlines ended connections in this process, if any did.
  void log_deadline_closes() const {
    static constexpr std::string_view kNames[] = {"first request", "head (408)", "body (408)",
                                                  "idle",          "write",      "handshake"};
    static_assert(std::size(kNames) == std::size_t(server::Deadline::count));
    std::string line;
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
      const uint64_t n = shared_.deadline_closes[i].load(std::memory_order_relaxed);
      if (n == 0) continue;
      line += (line.empty() ? "" : ", ") + std::string(kNames[i]) + " " + std::to_string(n);
    }
    if (!line.empty())
      server::log_info(shared_.options, "connections closed by deadlines: " + line);
  }
  uint16_t port() const { return bound_port_; }
  uint16_t tls_port() const { return bound_tls_port_; }

  std::size_t connection_count() const {
    std::size_t n = 0;
    for (auto& loop : loops_)
      n += loop->connection_count();
    return n;
  }

 private:
  server::SharedState shared_;
  std::vector<std::unique_ptr<server::LoopServer>> loops_;
  std::vector<std::thread> threads_;
  uint16_t bound_port_ = 0;
  uint16_t bound_tls_port_ = 0;
  std::atomic<bool> done_{false};
  std::mutex join_mutex_;  // wait() and wait_for() may race from several threads
  mutable std::mutex state_mutex_;
  std::condition_variable loops_ended_;
  int running_loops_ = 0;

  void loop_ended() {
    bool last;
    {
      std::lock_guard lock(state_mutex_);
      last = --running_loops_ == 0;
    }
    if (!last) return;
    if (on_finished) on_finished();
    loops_ended_.notify_all();
  }
};

// The Logger WorkerProcesses takes, onto the server's error and warn loggers.
Logger process_logger(const ServerOptions& options) {
  return [options](LogLevel level, std::string_view message) {
    if (level == LogLevel::error) return server::log_error(options, message, nullptr);
    if (level == LogLevel::warning) return server::log_warn(options, message);
    server::log_info(options, message);
  };
}

}  // namespace

int auto_process_count(std::size_t max_connections, int threads) {
  (void)threads;  // all loops of a process share its descriptor limit
  if (max_connections == 0) return 1;
  double per_process =
      double(io::descriptor_limit() - std::min(io::descriptor_limit() / 2, kReservedDescriptors)) *
      kAutoFill;
  return std::max(1, int(std::ceil(double(max_connections) / per_process)));
}

struct Server::Impl {
  Handler handler;
  ServerOptions options;
  int threads = 1;
  int processes = 1;
  std::atomic<ServerStatus> status{ServerStatus::stopped};
  std::mutex mutex;
  std::unique_ptr<ProcessServer> local;          // processes == 1
  std::unique_ptr<io::WorkerProcesses> workers;  // processes > 1
  std::thread supervisor;                        // with workers: restarts them, reaps them
  std::mutex supervisor_mutex;
  std::condition_variable supervisor_ended;
  bool supervised = false;  // the supervisor returned: every worker exited
  int reserved_port_fd = -1;
  int reserved_tls_port_fd = -1;
  uint16_t port = 0;
  uint16_t tls_port = 0;
  // TLS: the ticket secret is made once, before any worker forks, so that
  // every process derives the same keys; each process has its context.
  std::shared_ptr<const tls::TicketKeys> tickets;
  tls::CurrentContext tls_context;

  bool tls() const { return options.tls.has_value(); }

  // Builds the TLS context from the files as they are now and makes it the
  // one new handshakes use, in this process.
  bool load_tls(std::string* error) {
    std::string e;
    std::shared_ptr<const tls::ServerContext> next =
        tls::ServerContext::build(*options.tls, tickets, e);
    if (!next) {
      if (error) *error = e;
      server::log_error(options, "TLS reload failed: " + e, nullptr);
      return false;
    }
    tls_context.set(std::move(next));
    return true;
  }

  std::function<std::unique_ptr<io::StreamLayer>()> layer_factory() {
    if (!tls()) return nullptr;
    return [this]() -> std::unique_ptr<io::StreamLayer> {
      return std::make_unique<tls::ServerTlsLayer>(tls_context.get());
    };
  }

  // Before the loops (and any fork): the ticket secret and a first context,
  // so that a bad certificate fails start() itself.
  void prepare_tls() {
    if (!tls()) return;
    if (!tickets) tickets = std::make_shared<tls::TicketKeys>(options.tls->ticket_key_rotation);
    std::string error;
    std::shared_ptr<const tls::ServerContext> context =
        tls::ServerContext::build(*options.tls, tickets, error);
    if (!context) throw std::runtime_error(error);
    tls_context.set(std::move(context));
  }

  // Connections one process accepts at most. Within a process all loops
  // share the count, so SO_REUSEPORT's uneven spread over loops cannot
  // leave connections stuck in a full loop's backlog. Across processes the
  // spread is as uneven, so there max_connections only sizes `auto`, and
  // each process is bounded by its descriptors.
  std::size_t process_limit() const {
    std::size_t by_descriptors =
        io::descriptor_limit() - std::min(io::descriptor_limit() / 2, kReservedDescriptors);
    if (options.max_connections && processes == 1)
      return std::min(by_descriptors, options.max_connections);
    return by_descriptors;
  }

  void start_local() {
    local = std::make_unique<ProcessServer>(handler, options, process_limit(), layer_factory());
    local->on_finished = [this] { status = ServerStatus::stopped; };
    local->start(threads);
    port = local->port();
    tls_port = local->tls_port();
  }

  void start_workers() {
    // Hold the port so that every worker binds the same one, even port 0.
    reserved_port_fd = io::reserve_port(options.host, options.port);
    port = io::local_port_of(reserved_port_fd);
    ServerOptions worker_options = options;
    worker_options.port = port;
    if (tls() && options.tls_port) {
      reserved_tls_port_fd = io::reserve_port(options.host, *options.tls_port);
      tls_port = io::local_port_of(reserved_tls_port_fd);
      worker_options.tls_port = tls_port;
    } else if (tls()) {
      tls_port = port;
    }
    std::size_t limit = process_limit();
    int loop_threads = threads;
    workers = std::make_unique<io::WorkerProcesses>(
        processes,
        [this, worker_options, limit, loop_threads](int, int ready_fd) {
          close(reserved_port_fd);
          if (reserved_tls_port_fd >= 0) close(reserved_tls_port_fd);
          sigset_t set = stop_signals(tls());
          pthread_sigmask(SIG_BLOCK, &set, nullptr);
          ProcessServer server(handler, worker_options, limit, layer_factory());
          server.start(loop_threads);
          char ready = 1;
          if (write(ready_fd, &ready, 1) != 1) return 1;
          close(ready_fd);
          // SIGTERM from the master carries its stop timeout (sigqueue);
          // SIGHUP (forwarded by the master): this worker reloads.
          sigset_t signals = stop_signals(tls());
          while (!server.finished()) {
            siginfo_t info{};
            timespec wait{0, 200'000'000};
            const int sig = sigtimedwait(&signals, &info, &wait);
            if (sig == SIGHUP) {
              load_tls(nullptr);
            } else if (sig > 0) {
              server.stop(info.si_code == SI_QUEUE
                              ? std::chrono::milliseconds(info.si_value.sival_int)
                              : worker_options.stop_timeout);
            }
          }
          server.join();
          return 0;
        },
        process_logger(options),
        [this] { server::log_event(options, server_events::worker_died); });
    sigset_t set = stop_signals(tls());
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    workers->start(std::chrono::seconds(30));
    supervised = false;
    // Started after SIGCHLD was blocked above, so it inherits the mask.
    supervisor = std::thread([this] {
      workers->supervise(kWorkerKillGrace);
      {
        std::lock_guard lock(supervisor_mutex);
        supervised = true;
        status = ServerStatus::stopped;
      }
      supervisor_ended.notify_all();
    });
    close(reserved_port_fd);
    reserved_port_fd = -1;
    if (reserved_tls_port_fd >= 0) close(reserved_tls_port_fd);
    reserved_tls_port_fd = -1;
  }
};

namespace server {
namespace {
std::atomic<HandlerBodyPlan> registered_body_plan{nullptr};
}  // namespace

void register_handler_body_plan(HandlerBodyPlan find) {
  registered_body_plan.store(find);
}

BodyPlanner handler_body_plan(const Handler& handler) {
  const HandlerBodyPlan find = registered_body_plan.load();
  return find ? find(handler) : BodyPlanner{};
}
}  // namespace server

Server::Server(Handler handler, ServerOptions options) : impl_(std::make_unique<Impl>()) {
  server::resolve_loggers(options);
  // A bare Router plans its routes' bodies itself (router.hpp); a wrapped
  // one, or any other handler, needs the plan wired by hand.
  if (!options.body_plan) options.body_plan = server::handler_body_plan(handler);
  impl_->handler = std::move(handler);
  impl_->threads = resolve_threads(options.threads);
  impl_->processes = options.processes > 0
                         ? options.processes
                         : auto_process_count(options.max_connections, impl_->threads);
  impl_->options = std::move(options);
}

Server::~Server() {
  stop();
  wait();
}

void Server::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->status != ServerStatus::stopped) return;
  // What a previous run left: its threads are done or about to be.
  wait();
  impl_->local.reset();
  impl_->workers.reset();
  impl_->prepare_tls();
  if (impl_->processes > 1) {
    impl_->start_workers();
  } else {
    impl_->start_local();
  }
  impl_->status = ServerStatus::running;
}

void Server::run() {
  if (impl_->options.handle_signals) {
    // Block before the loop threads exist so that they inherit the mask
    // and the signal reaches this thread's sigtimedwait.
    sigset_t set = stop_signals(impl_->tls());
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }
  start();
  auto running = [this] { return impl_->status == ServerStatus::running; };
  auto reload = [this] { reload_tls(); };
  if (impl_->options.handle_signals && impl_->local) {
    if (wait_for_stop_signal(impl_->tls(), running, reload)) stop();
  }
  if (impl_->options.handle_signals && impl_->workers) {
    std::thread watcher([&] {
      if (wait_for_stop_signal(impl_->tls(), running, reload)) stop();
    });
    wait();
    watcher.join();
    return;
  }
  wait();
}

void Server::stop() {
  stop(impl_->options.stop_timeout);
}

void Server::stop(std::chrono::milliseconds timeout) {
  ServerStatus expected = ServerStatus::running;
  // The first stop, or a later one while stopping (its timeout may be
  // shorter); nothing once stopped.
  if (!impl_->status.compare_exchange_strong(expected, ServerStatus::stopping) &&
      expected != ServerStatus::stopping)
    return;
  if (impl_->local) impl_->local->stop(timeout);
  if (impl_->workers) impl_->workers->stop(timeout);
}

void Server::wait() {
  while (!wait_for(std::chrono::hours(24))) {
  }
}

bool Server::wait_for(std::chrono::milliseconds timeout) {
  Impl& i = *impl_;
  if (i.local) {
    if (!i.local->wait_for(timeout)) return false;
  } else if (i.workers) {
    std::unique_lock lock(i.supervisor_mutex);
    if (!i.supervisor_ended.wait_for(lock, timeout, [&i] { return i.supervised; })) return false;
    if (i.supervisor.joinable() && i.supervisor.get_id() != std::this_thread::get_id())
      i.supervisor.join();
  }
  i.status = ServerStatus::stopped;
  return true;
}

ServerStatus Server::status() const {
  return impl_->status;
}
uint16_t Server::port() const {
  return impl_->port;
}
uint16_t Server::tls_port() const {
  return impl_->tls_port;
}

bool Server::reload_tls(std::string* error) {
  if (!impl_->tls()) {
    if (error) *error = "TLS is not configured";
    return false;
  }
  std::lock_guard lock(impl_->mutex);
  if (!impl_->load_tls(error)) return false;  // checks the files here, even for workers
  if (impl_->workers)
    for (pid_t pid : impl_->workers->pids())
      kill(pid, SIGHUP);
  server::log_info(impl_->options, "TLS certificates reloaded");
  return true;
}
const ServerOptions& Server::options() const {
  return impl_->options;
}
std::size_t Server::connection_count() const {
  return impl_->local ? impl_->local->connection_count() : 0;
}

}  // namespace httpkit
