// The HTTP/1.1 server: a handler from Request to Response, run on one
// event loop per thread, optionally in several worker processes.
//
//   httpkit::Server server([](const httpkit::Request& req) {
//     return httpkit::Response::text("hello " + std::string(req.path()));
//   }, {.port = 8090});
//   server.run();  // until SIGINT/SIGTERM
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "httpkit/logger.hpp"
#include "httpkit/request.hpp"
#include "httpkit/request_body.hpp"
#include "httpkit/response.hpp"
#include "httpkit/tls_options.hpp"

namespace httpkit {

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8090;  // 0 picks a free port; see Server::port()

  int threads = 0;    // event loops per process; 0 = one per core
  int processes = 1;  // worker processes; 0 = auto (from the fd limit and max_connections)
  std::size_t max_connections = 0;  // whole server; 0 = as many as descriptors allow
  // How a process's loops take new connections.
  //   per_loop: each loop has its own SO_REUSEPORT socket and the kernel
  //     spreads connections over them by a hash of their addresses: nothing
  //     shared, but a loop busy with a TLS handshake can have the next
  //     connection queued behind it while another loop idles.
  //   shared: one socket per process that every loop watches; a new
  //     connection wakes one loop that is waiting (EPOLLEXCLUSIVE), as
  //     nginx's workers share theirs.
  enum class Accept { per_loop, shared };
  Accept accept = Accept::per_loop;

  // Limits (http-kit's defaults).
  std::size_t max_body = 8u << 20;   // 413 beyond
  std::size_t max_line = 8192;       // 414 beyond
  std::size_t max_head = 64u << 10;  // 431 beyond
  std::size_t max_headers = 100;     // 431 beyond
  // Consulted once a request's head is parsed: a per-request body limit,
  // or a body streamed to the handler (request_body.hpp; a Router's
  // body_plan() builds it from route options). Null: max_body, buffered.
  BodyPlanner body_plan = {};

  // Every wait a peer controls has a deadline.
  std::chrono::milliseconds header_timeout{30'000};  // first byte to end of head (slowloris)
  std::chrono::milliseconds body_timeout{60'000};    // between two reads of a body
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive between requests
  std::chrono::milliseconds write_timeout{60'000};   // between two writes that make progress
  std::chrono::milliseconds stop_timeout{5'000};     // graceful stop: in-flight work gets this long

  std::optional<std::string> server_header = "httpkit";  // nullopt: no Server header

  // 0 runs handlers inline on the loop (fastest; handlers must not block).
  // N > 0 runs them on N worker threads per process, like http-kit's pool.
  int worker_threads = 0;
  std::size_t worker_queue = 20480;  // pending handler calls beyond this get 503
  // http-kit's :worker-pool: when set, every handler call is handed to it
  // (worker_threads and worker_queue are then unused). It returns false
  // when it cannot take the task, and the client gets 503. A task it takes
  // must run once (on any thread); tasks that run after the server stopped
  // do nothing.
  std::function<bool(std::function<void()> task)> executor{};
  // Threads are named PREFIX-loop-N and PREFIX-work-N (Linux keeps 15
  // characters, so a long prefix is cut): what top -H and perf show.
  std::string thread_name_prefix = "httpkit";

  // Channels (long-polling, streaming, SSE, WebSocket): bytes queued for a
  // peer that reads slower than the handler sends.
  enum class Overflow { close, drop };
  std::size_t channel_max_queued = 1u << 20;  // per connection
  std::size_t channel_low_water = 64u << 10;  // on_drain once below this again
  std::size_t max_queued_total = 256u << 20;  // all channels of a process
  Overflow channel_overflow = Overflow::close;

  // WebSocket.
  std::size_t max_ws = 4u << 20;                      // message size; close 1009 beyond
  std::chrono::milliseconds ws_ping_interval{0};      // 0: the server sends no pings
  std::chrono::milliseconds ws_pong_timeout{30'000};  // after a ping, close 1001 without a pong
  std::chrono::milliseconds ws_idle_timeout{0};       // 0: none; close 1001 after this silence
  std::chrono::milliseconds ws_close_timeout{5'000};  // for the peer's close frame

  // HTTPS (and wss). Set alone, `port` speaks TLS; with `tls_port` too,
  // `port` stays plain HTTP and TLS is served on `tls_port` (0 picks a free
  // port; see Server::tls_port()).
  std::optional<ServerTlsOptions> tls{};
  std::optional<uint16_t> tls_port{};

  // run(): SIGINT/SIGTERM stop gracefully; with TLS, SIGHUP reloads the
  // certificates (reload_tls(), in every worker process).
  bool handle_signals = true;
  Logger logger = {};  // null: log_to_stderr
  // http-kit's error-logger, warn-logger and event-logger (logger.hpp).
  // Null error and warn loggers go to `logger`; a null event logger drops
  // events.
  ErrorLogger error_logger = {};
  WarnLogger warn_logger = {};
  EventLogger event_logger = {};
};

enum class ServerStatus { stopped, running, stopping };

class Server {
 public:
  Server(Handler handler, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the loops (and worker processes) in the background.
  // Throws std::system_error when the address cannot be bound.
  void start();
  // start() if needed, then block until the server has stopped.
  void run();
  // Graceful stop: stop accepting, close idle connections, let in-flight
  // responses finish within stop_timeout, then close the rest. Safe from
  // any thread and from a signal handler's thread; returns immediately.
  void stop();
  // The same with this timeout instead of stop_timeout. Called again while
  // stopping, a shorter timeout brings the cut forward (a longer one
  // changes nothing); on a stopped server it does nothing.
  void stop(std::chrono::milliseconds timeout);
  // Blocks until stopped.
  void wait();
  // Blocks until stopped or `timeout` passed: true when stopped. Any thread.
  bool wait_for(std::chrono::milliseconds timeout);

  ServerStatus status() const;
  uint16_t port() const;      // the bound port (useful with port 0)
  uint16_t tls_port() const;  // the port that speaks TLS; 0 without TLS
  const ServerOptions& options() const;

  // Reads the certificates and keys of options().tls again: new handshakes
  // use them, connections already open go on with theirs. False (and
  // `error` set, the old certificates kept) when they cannot be used. With
  // worker processes, each worker reloads (after the files were checked
  // here).
  bool reload_tls(std::string* error = nullptr);

  // Connections currently open in this process (all loops).
  std::size_t connection_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// How many worker processes `processes = 0` (auto) resolves to.
int auto_process_count(std::size_t max_connections, int threads);

}  // namespace httpkit
