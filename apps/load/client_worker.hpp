// One worker process of httpkit-load: an event loop that opens its share of
// the connections, runs the workload on each, and publishes what happens in
// its slot of the shared statistics. It stops when the parent says so (or
// on SIGTERM, or when the parent dies) and closes every connection.
//
// The workload (options.hpp) is one switch per event, not per byte: HTTP
// runs on HttpExchange as before, WebSocket on WsExchange with its own
// reading (every frame, pings answered) and sending (bytes the socket did
// not take wait in the connection's held bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "address_plan.hpp"
#include "client/tls_context.hpp"
#include "client/tls_layer.hpp"
#include "http_exchange.hpp"
#include "io/event_loop.hpp"
#include "load_connection.hpp"
#include "options.hpp"
#include "random.hpp"
#include "shared_stats.hpp"
#include "ws_exchange.hpp"

namespace httpkit::load {

struct WorkerPlan {
  int index = 0;
  std::size_t connections = 0;  // this worker's share
  Slice tuples;                 // the (source, port, destination) tuples it may use
  double rate = 0;              // its share of --rate; 0: unpaced
};

class ClientWorker {
 public:
  ClientWorker(const LoadOptions& options, const AddressPlan& plan, const WorkerPlan& mine,
               SharedStats& stats);
  ~ClientWorker();
  ClientWorker(const ClientWorker&) = delete;
  ClientWorker& operator=(const ClientWorker&) = delete;

  // Runs until told to stop, closes everything, and returns the exit status.
  int run();

 private:
  struct TickTimer : io::TimerNode {
    ClientWorker* self = nullptr;
  };

  // tests/load/worker_probe.hpp: turns the loop and fires timers by hand.
  friend struct WorkerProbe;

  static void on_event(void* self, int fd, uint32_t events);
  static void on_connection_timer(io::TimerNode* node);
  void on_response_deadline(LoadConnection& c, int fd);
  static void on_tick(io::TimerNode* node);

  // Opening connections at the planned pace.
  void top_up();
  bool open_next();
  void on_connect_result(LoadConnection& c, int fd, uint32_t events);
  void note_ramp_progress();
  // --tls: after the connect, the handshake; then the first request.
  void start_tls(LoadConnection& c, int fd);
  void continue_handshake(LoadConnection& c, int fd);

  // The exchange.
  void start_request(LoadConnection& c, int fd);
  void continue_send(LoadConnection& c, int fd);
  void read_response(LoadConnection& c, int fd, uint32_t events);
  void check_idle(LoadConnection& c, int fd);
  void complete_response(LoadConnection& c);

  // The WebSocket exchange: the same states, other bytes.
  void on_ws_event(LoadConnection& c, int fd, uint32_t events);
  void start_ws_send(LoadConnection& c, int fd);  // the upgrade, then one message per idle period
  bool send_ws(LoadConnection& c, int fd, std::string_view bytes);  // false: failed and closed
  bool flush_ws(LoadConnection& c, int fd);
  void read_ws(LoadConnection& c, int fd, uint32_t events);
  void complete_upgrade(LoadConnection& c);
  void say_goodbye(LoadConnection& c, int fd);

  void fail(LoadConnection& c, int fd, LoadFailure error);
  void close_connection(LoadConnection& c, int fd);
  void close_all();

  int fd_of(const LoadConnection& c) const { return int(&c - table_); }
  // The connection's stream: through its TLS layer with --tls.
  io::Stream stream(int fd) { return io::Stream(loop_, fd, tls_ ? tls_[fd] : nullptr); }
  uint32_t now_us() const;
  uint64_t elapsed_ms() const;

  const LoadOptions& options_;
  const AddressPlan& plan_;
  WorkerPlan mine_;
  WorkerSlot& slot_;
  ControlBlock& control_;
  const bool websocket_;
  HttpExchange exchange_;
  WsExchange ws_exchange_;
  std::string ws_output_;  // what the WebSocket exchange writes, before send()
  Random random_;
  io::EventLoop loop_;
  uint8_t connection_kind_ = 0;
  TickTimer tick_;

  LoadConnection* table_ = nullptr;  // indexed by fd, as large as the descriptor limit
  std::size_t table_size_ = 0;

  // --tls only (null otherwise): the worker's context and each connection's
  // layer, indexed by fd like table_.
  client::TlsContexts tls_contexts_;
  SSL_CTX* tls_ctx_ = nullptr;
  std::string tls_host_;  // SNI and the name verified
  client::TlsLayer** tls_ = nullptr;
  bool tls_failure_shown_ = false;

  uint64_t next_tuple_ = 0;
  std::size_t started_ = 0;  // connects issued (or given up for want of a tuple)
  // Connections between connect() and their first complete response: the
  // ramp keeps at most --max-connecting of them, so it cannot run ahead of
  // what the server accepts and answers (its backlog would fill instead).
  std::size_t ramping_ = 0;
  std::size_t open_ = 0;  // established and not closed
  bool ramp_done_ = false;
  bool target_reached_ = false;
  int max_fd_ = -1;
  uint64_t min_requests_ = UINT64_MAX;
  uint64_t below_two_ = 0;
};

}  // namespace httpkit::load
