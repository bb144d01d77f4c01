// Pools: which connection a request gets, and what a connection does when
// its request is over.
#include "client/client_core.hpp"

namespace httpkit::client {

void HostPool::push_idle(UpstreamConnection& c) {
  c.idle_prev = nullptr;
  c.idle_next = idle_head;
  if (idle_head) idle_head->idle_prev = &c;
  idle_head = &c;
  if (!idle_tail) idle_tail = &c;
  ++idle_count;
}

void HostPool::remove_idle(UpstreamConnection& c) {
  if (c.idle_prev)
    c.idle_prev->idle_next = c.idle_next;
  else
    idle_head = c.idle_next;
  if (c.idle_next)
    c.idle_next->idle_prev = c.idle_prev;
  else
    idle_tail = c.idle_prev;
  c.idle_prev = c.idle_next = nullptr;
  --idle_count;
}

UpstreamConnection* HostPool::pop_idle_newest() {
  UpstreamConnection* c = idle_head;
  if (c) remove_idle(*c);
  return c;
}

HostPool& ClientCore::pool_for(const Route& route) {
  auto& slot = pools_[route.key];
  if (!slot) slot = std::make_unique<HostPool>(route);
  return *slot;
}

void ClientCore::acquire(HostPool& pool, Exchange& ex) {
  ex.pool = &pool;
  if (!ex.fresh_connection) {
    if (UpstreamConnection* c = pool.pop_idle_newest()) {
      idle_connections_.fetch_sub(1, std::memory_order_relaxed);
      loop_->timers().cancel(c->idle_timer);
      c->state = UpstreamState::busy;
      requests_reused_.fetch_add(1, std::memory_order_relaxed);
      send_on(*c, ex);
      return;
    }
  }
  if (pool.open >= config_.max_connections && ex.fresh_connection && pool.idle_count > 0) {
    // The retry wants a new connection: make room by retiring an idle one.
    close_connection(*pool.oldest_idle());
  }
  if (pool.open < config_.max_connections) {
    UpstreamConnection& c = open_connection(pool, ex);
    c.dial();
    return;
  }
  if (pool.waiting.size() >= config_.max_pending) {
    fail(ex, ErrorKind::overloaded,
         "too many requests waiting for a connection to " + pool.route.describe());
    return;
  }
  pool.waiting.push_back(&ex);
  arm_phase(ex, ExchangePhase::queued, ex.opts.effective_connect_timeout());
}

UpstreamConnection& ClientCore::open_connection(HostPool& pool, Exchange& ex) {
  const uint64_t id = next_connection_id_++;
  auto owned = std::make_unique<UpstreamConnection>(*this, pool, id);
  UpstreamConnection& c = *owned;
  connections_.emplace(id, std::move(owned));
  ++pool.open;
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  c.exchange = &ex;
  ++c.generation;
  ex.conn = &c;
  arm_phase(ex, ExchangePhase::connecting, ex.opts.effective_connect_timeout());
  return c;
}

// The response is over and the connection can carry another request.
void ClientCore::release(UpstreamConnection& c) {
  HostPool& pool = c.pool;
  while (!pool.waiting.empty()) {
    Exchange* next = pool.waiting.front();
    pool.waiting.pop_front();
    if (next->phase != ExchangePhase::queued) continue;
    c.state = UpstreamState::busy;
    requests_reused_.fetch_add(1, std::memory_order_relaxed);
    send_on(c, *next);
    return;
  }
  c.state = UpstreamState::idle;
  pool.push_idle(c);
  idle_connections_.fetch_add(1, std::memory_order_relaxed);
  loop_->timers().arm(c.idle_timer, loop_->now_ms(), c.keepalive_ms);
}

void ClientCore::close_connection(UpstreamConnection& c) {
  if (c.state == UpstreamState::closed) return;
  if (c.state == UpstreamState::idle) {
    c.pool.remove_idle(c);
    idle_connections_.fetch_sub(1, std::memory_order_relaxed);
  }
  loop_->timers().cancel(c.idle_timer);
  if (c.exchange) {
    c.exchange->conn = nullptr;
    c.exchange = nullptr;
  }
  ++c.generation;
  unregister_fd(c.fd());
  c.shut();
  c.state = UpstreamState::closed;
  HostPool& pool = c.pool;
  if (!c.upgraded) --pool.open;  // an upgraded connection left its pool already
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  auto it = connections_.find(c.id);
  if (it != connections_.end()) {
    dead_connections_.push_back(std::move(it->second));
    connections_.erase(it);
  }
  slot_freed(pool);
  if (pool.open == 0 && pool.waiting.empty()) maybe_empty_pools_.push_back(pool.route.key);
}

// A connection of `pool` went away: a waiting request may open a new one.
void ClientCore::slot_freed(HostPool& pool) {
  // A dial can fail at once and free its slot again: the outer call's loop
  // carries on rather than recursing once per waiting request.
  if (shut_down_ || pool.filling) return;
  pool.filling = true;
  while (!pool.waiting.empty() && pool.open < config_.max_connections) {
    Exchange* next = pool.waiting.front();
    pool.waiting.pop_front();
    if (next->phase != ExchangePhase::queued) continue;
    UpstreamConnection& c = open_connection(pool, *next);
    c.dial();
  }
  pool.filling = false;
}

void ClientCore::on_idle_expired(io::TimerNode* node) {
  UpstreamConnection& c = *static_cast<UpstreamTimer*>(node)->owner;
  c.core.bury();
  c.core.close_connection(c);
}

// Pools with no connection and no waiter are dropped, so talking to many
// hosts over time does not grow memory. Runs from bury(), where no caller
// up the stack holds a pool.
void ClientCore::sweep_pools() {
  for (const std::string& key : maybe_empty_pools_) {
    auto it = pools_.find(key);
    if (it != pools_.end() && it->second->open == 0 && it->second->waiting.empty())
      pools_.erase(it);
  }
  maybe_empty_pools_.clear();
}

void ClientCore::on_idle_closed(UpstreamConnection& c) {
  close_connection(c);
}

}  // namespace httpkit::client
