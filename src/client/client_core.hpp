// The client's engine on its loop: submissions, pools, connections,
// exchanges, timers, and the resolver and TLS contexts they share.
//
// Everything here runs on the loop thread except the few entry points
// marked thread-safe, which post to the loop. Objects that a callback might
// still be using when they end (connections, exchanges) are parked in a
// graveyard and freed at the next top-level entry from the loop.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/exchange.hpp"
#include "client/host_pool.hpp"
#include "client/resolver.hpp"
#include "client/tls_context.hpp"
#include "client/upstream_connection.hpp"
#include "httpkit/client.hpp"
#include "io/event_loop.hpp"
#include "ws/deflate.hpp"

namespace httpkit::client {

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
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
  bool register_fd(UpstreamConnection& c);
  void unregister_fd(int fd);
  UpstreamConnection* connection_by_id(uint64_t id);

  void on_dialed(UpstreamConnection& c);
  // The reader finished (or, with `stopped`, the sink ended it early).
  void on_response_done(UpstreamConnection& c, bool stopped);
  void on_connection_failed(UpstreamConnection& c, ErrorKind kind, std::string message,
                            int sys_errno);
  void on_idle_closed(UpstreamConnection& c);
  void close(UpstreamConnection& c) { close_connection(c); }
  // Request or response bytes moved: the idle timeout starts again.
  void on_progress(Exchange& ex);
  void count_connection() { connections_opened_.fetch_add(1, std::memory_order_relaxed); }

  // Any thread: runs `task` on the loop (dropped if the core is gone).
  void post(std::function<void(ClientCore&)> task) { post_to_loop(std::move(task)); }
  ws::SharedDeflateContext& deflate_contexts() { return deflate_contexts_; }

  // ---- loop thread: for exchanges
  void fail(Exchange& ex, ErrorKind kind, std::string message,
            TimeoutKind timeout = TimeoutKind::none, int sys_errno = 0);
  // Runs a user callback, keeping its exceptions out of the loop (they
  // go to the configured logger).
  template <typename F>
  bool guarded(F&& f, const char* what);
  void log(LogLevel level, std::string_view message) const;

  static void on_idle_expired(io::TimerNode* node);
  static void on_phase_timeout(io::TimerNode* node);
  static void on_deadline(io::TimerNode* node);

 private:
  static void on_io(void* self, int fd, uint32_t events);

  // Top-level entry from the loop: frees what was parked.
  void bury();
  void post_to_loop(std::function<void(ClientCore&)> task);

  // Exchanges (client_core_flow.cpp).
  void begin(std::shared_ptr<Exchange> ex);
  void start_hop(Exchange& ex);
  void send_on(UpstreamConnection& c, Exchange& ex);
  void finish_hop(Exchange& ex);
  void complete(Exchange& ex);
  void arm_phase(Exchange& ex, ExchangePhase phase, std::chrono::milliseconds timeout);

  // Pools (pool.cpp).
  HostPool& pool_for(const Route& route);
  void acquire(HostPool& pool, Exchange& ex);
  void release(UpstreamConnection& c);
  void close_connection(UpstreamConnection& c);
  void slot_freed(HostPool& pool);
  UpstreamConnection& open_connection(HostPool& pool, Exchange& ex);
  void detach(Exchange& ex);
  // ws_session.cpp: a WebSocket handshake's answer is in.
  void finish_upgrade(UpstreamConnection& c, Exchange& ex, bool stopped);
  void sweep_pools();

  ClientConfig config_;
  std::unique_ptr<io::EventLoop> owned_loop_;
  io::EventLoop* loop_;
  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_;
  uint8_t kind_ = 0;
  std::atomic<bool> shut_down_{false};
  int submitting_ = 0;  // > 0 while request() runs on the loop: callbacks are deferred
  std::vector<http::HeaderField> header_storage_;  // response heads are parsed into it
  std::unique_ptr<Resolver> resolver_;
  TlsContexts tls_;
  ws::SharedDeflateContext deflate_contexts_;  // permessage-deflate without context takeover

  Exchange* live_ = nullptr;  // requests not yet answered (intrusive list)
  std::unordered_map<uint64_t, std::unique_ptr<UpstreamConnection>> connections_;
  std::unordered_map<std::string, std::unique_ptr<HostPool>> pools_;
  std::vector<UpstreamConnection*> by_fd_;
  std::vector<std::unique_ptr<UpstreamConnection>> dead_connections_;
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
    log(LogLevel::error, std::string(what) + " threw: " + e.what());
  } catch (...) {
    log(LogLevel::error, std::string(what) + " threw");
  }
  return false;
}

// The library's own way into a Client, outside the public API: a client
// on a loop that the caller drives (tests, or a server's loop).
struct ClientAccess {
  // Destroy the Client on that loop's thread.
  static std::unique_ptr<Client> on_loop(io::EventLoop& loop, ClientConfig config = {}) {
    return std::unique_ptr<Client>(
        new Client(std::make_shared<ClientCore>(std::move(config), &loop)));
  }
  static ClientCore& core(Client& c) { return *c.core_; }
};

}  // namespace httpkit::client
