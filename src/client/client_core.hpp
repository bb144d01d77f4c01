// The client's engine on its loop: submissions, pools, connections,
// exchanges, timers, and the resolver and TLS contexts they share.
//
// Everything here runs on the loop thread except the few entry points
// marked thread-safe, which post to the loop. Objects that a callback might
// still be using when they end (connections, exchanges) are parked in a
// graveyard and freed at the next top-level entry from the loop.
#pragma once

#include <atomic>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/connection.hpp"
#include "client/exchange.hpp"
#include "client/host_pool.hpp"
#include "client/resolver.hpp"
#include "client/tls_context.hpp"
#include "httpkit/client.hpp"
#include "io/event_loop.hpp"
#include "ws/deflate.hpp"

namespace httpkit::client_detail {

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  static constexpr std::size_t kReadBufferSize = 64 * 1024;

  ClientCore(ClientConfig config, io::EventLoop* external_loop);
  ~ClientCore();

  // Starts the owned loop thread (no-op on an external loop).
  void start();
  // Cancels all requests, closes all connections, stops the owned loop.
  // Call from a non-loop thread for an owned loop, on the loop otherwise.
  void shutdown();

  // ---- thread-safe
  void submit(std::shared_ptr<Exchange> exchange);
  void cancel(std::weak_ptr<Exchange> exchange);
  void pause(std::weak_ptr<Exchange> exchange);
  void resume(std::weak_ptr<Exchange> exchange);
  bool on_loop_thread() const { return std::this_thread::get_id() == loop_thread_.load(); }
  ClientStats stats() const;
  uint64_t next_exchange_id() { return next_exchange_id_.fetch_add(1); }

  // ---- loop thread: for connections
  io::EventLoop& loop() { return *loop_; }
  Resolver& resolver() { return *resolver_; }
  TlsContexts& tls_contexts() { return tls_; }
  const ClientConfig& config() const { return config_; }
  char* read_buffer() { return read_buffer_.get(); }
  bool register_fd(Connection& c);
  void unregister_fd(int fd);
  Connection* connection_by_id(uint64_t id);

  void on_dialed(Connection& c);
  // The reader finished (or, with `stopped`, the sink ended it early).
  void on_response_done(Connection& c, bool stopped);
  void on_connection_failed(Connection& c, ErrorKind kind, std::string message, int sys_errno);
  void on_idle_closed(Connection& c);
  void close(Connection& c) { close_connection(c); }
  // Request or response bytes moved: the idle timeout starts again.
  void on_progress(Exchange& ex);
  void count_connection() { connections_opened_.fetch_add(1, std::memory_order_relaxed); }

  // Any thread: runs `task` on the loop (dropped if the core is gone).
  void post(std::function<void(ClientCore&)> task) { post_to_loop(std::move(task)); }
  ws::SharedDeflateContext& deflate_contexts() { return deflate_contexts_; }

  // ---- loop thread: for exchanges
  void fail(Exchange& ex, ErrorKind kind, std::string message,
            TimeoutKind timeout = TimeoutKind::none, int sys_errno = 0);
  // Runs a user callback, keeping its exceptions out of the loop.
  template <typename F>
  bool guarded(F&& f, const char* what);

  static void on_idle_expired(io::TimerNode* node);
  static void on_phase_timeout(io::TimerNode* node);
  static void on_deadline(io::TimerNode* node);

 private:
  static void on_io(void* self, int fd, uint32_t events);

  // Top-level entry from the loop: frees what was parked.
  void bury();
  void post_to_loop(std::function<void(ClientCore&)> task);

  // Exchanges (exchange_flow.cpp).
  void begin(std::shared_ptr<Exchange> ex);
  void start_hop(Exchange& ex);
  void send_on(Connection& c, Exchange& ex);
  void finish_hop(Exchange& ex);
  void complete(Exchange& ex);
  void arm_phase(Exchange& ex, ExchangePhase phase, milliseconds timeout);

  // Pools (pool.cpp).
  HostPool& pool_for(const Route& route);
  void acquire(HostPool& pool, Exchange& ex);
  void release(Connection& c);
  void close_connection(Connection& c);
  void slot_freed(HostPool& pool);
  Connection& open_connection(HostPool& pool, Exchange& ex);
  void detach(Exchange& ex);
  // ws_session.cpp: a WebSocket handshake's answer is in.
  void finish_upgrade(Connection& c, Exchange& ex, bool stopped);
  void sweep_pools();

  ClientConfig config_;
  std::unique_ptr<io::EventLoop> owned_loop_;
  io::EventLoop* loop_;
  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_;
  uint8_t kind_ = 0;
  std::atomic<bool> shut_down_{false};
  int submitting_ = 0;  // > 0 while request() runs on the loop: callbacks are deferred
  std::unique_ptr<char[]> read_buffer_;
  std::vector<http::HeaderField> header_storage_;  // response heads are parsed into it
  std::unique_ptr<Resolver> resolver_;
  TlsContexts tls_;
  ws::SharedDeflateContext deflate_contexts_;  // permessage-deflate without context takeover

  Exchange* live_ = nullptr;  // requests not yet answered (intrusive list)
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::unordered_map<std::string, std::unique_ptr<HostPool>> pools_;
  std::vector<Connection*> by_fd_;
  std::vector<std::unique_ptr<Connection>> dead_connections_;
  std::vector<std::shared_ptr<Exchange>> dead_exchanges_;
  std::vector<std::string> maybe_empty_pools_;
  // The last route computed, and what it was computed from.
  bool route_cache_valid_ = false;
  Url route_cache_;
  std::string route_cache_proxy_;
  TlsOptions route_cache_tls_;
  Route cached_route_;
  uint64_t next_connection_id_ = 1;
  std::atomic<uint64_t> next_exchange_id_{1};

  std::atomic<uint64_t> connections_opened_{0}, requests_sent_{0}, requests_reused_{0}, retries_{0};
  std::atomic<std::size_t> open_connections_{0}, idle_connections_{0};
};

template <typename F>
bool ClientCore::guarded(F&& f, const char* what) {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "httpkit client: %s threw: %s\n", what, e.what());
  } catch (...) {
    std::fprintf(stderr, "httpkit client: %s threw\n", what);
  }
  return false;
}

}  // namespace httpkit::client_detail
