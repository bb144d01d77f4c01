// A request's way through the core: hops, connections, timeouts, retry,
// redirects, and the callback at the end.
#include <cstring>

#include "client/client_core.hpp"
#include "client/text_decode.hpp"

namespace httpkit::client {
namespace {

std::string ms_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

const char* dial_phase(const UpstreamConnection* c) {
  if (!c) return "connecting";
  switch (c->state) {
    case UpstreamState::resolving:
      return "resolving the host name";
    case UpstreamState::connecting:
      return "in TCP connect";
    case UpstreamState::tunnelling:
      return "in the proxy CONNECT";
    case UpstreamState::handshaking:
      return "in the TLS handshake";
    default:
      return "connecting";
  }
}

}  // namespace

void ClientCore::begin(std::shared_ptr<Exchange> ptr) {
  Exchange& ex = *ptr;
  ex.self = std::move(ptr);
  ex.live_next = live_;
  if (live_) live_->live_prev = &ex;
  live_ = &ex;
  if (shut_down_) {
    fail(ex, ErrorKind::cancelled, "the client shut down");
    return;
  }
  if (ex.prepare_error) {
    fail(ex, ErrorKind::invalid_request, *ex.prepare_error);
    return;
  }
  if (ex.opts.total_timeout.count() > 0)
    loop_->timers().arm(ex.deadline_timer, loop_->now_ms(),
                        uint64_t(ex.opts.total_timeout.count()));
  start_hop(ex);
}

void ClientCore::start_hop(Exchange& ex) {
  // Most requests go where the previous one went: reuse its route.
  const bool same_route = route_cache_valid_ && route_cache_.scheme == ex.url.scheme &&
                          route_cache_.host == ex.url.host && route_cache_.port == ex.url.port &&
                          route_cache_proxy_ == ex.opts.proxy_url &&
                          route_cache_tls_ == ex.opts.tls;
  if (same_route) {
    ex.route = cached_route_;
  } else {
    ex.route = route_for(ex.url, ex.proxy, ex.opts.tls);
    route_cache_ = ex.url;
    route_cache_proxy_ = ex.opts.proxy_url;
    route_cache_tls_ = ex.opts.tls;
    cached_route_ = ex.route;
    route_cache_valid_ = true;
  }
  Hop hop;
  hop.url = &ex.url;
  hop.method = ex.method;
  hop.send_body = ex.send_body;
  hop.strip_credentials = ex.strip_credentials;
  hop.proxy = ex.route.absolute_form ? &*ex.proxy : nullptr;
  hop.keep_alive = ex.keep_alive;
  if (auto error = encode_head(ex.opts, hop, ex.body, ex.head)) {
    fail(ex, ErrorKind::invalid_request, *error);
    return;
  }
  ex.written = 0;
  if (ex.send_body) ex.source.rewind();
  ex.body_bytes = 0;
  ex.redirect = {};
  ex.sink_error = {};
  ex.result.status = 0;
  ex.result.headers.clear();
  ex.result.body.clear();
  ex.phase = ExchangePhase::created;
  acquire(pool_for(ex.route), ex);
}

void ClientCore::arm_phase(Exchange& ex, ExchangePhase phase, std::chrono::milliseconds timeout) {
  ex.phase = phase;
  if (timeout.count() > 0) {
    loop_->timers().arm(ex.phase_timer, loop_->now_ms(), uint64_t(timeout.count()));
  } else {
    loop_->timers().cancel(ex.phase_timer);
  }
}

void ClientCore::send_on(UpstreamConnection& c, Exchange& ex) {
  c.exchange = &ex;
  ++c.generation;
  ex.conn = &c;
  ex.pool = &c.pool;
  c.keepalive_ms = uint64_t(std::max<int64_t>(ex.opts.keepalive.count(), 0));
  if (c.requests > 0) {
    // A pooled connection: nothing to resolve, connect or negotiate.
    auto now = ex.elapsed();
    ex.result.timing.dns = ex.result.timing.connect = now;
    ex.result.timing.tls = c.tls() ? now : std::chrono::microseconds(0);
  }
  requests_sent_.fetch_add(1, std::memory_order_relaxed);
  ResponseReader::Config config;
  config.limits.max_head_bytes = config_.max_response_head;
  config.limits.max_status_line = std::min<std::size_t>(8192, config_.max_response_head);
  config.limits.max_headers = config_.max_response_headers;
  config.fields = header_storage_.data();
  config.max_headers = header_storage_.size();
  config.decompress = ex.opts.auto_decompress;
  ex.reader.start({ex.method == "HEAD", false}, config);
  ex.last_progress_ms = loop_->now_ms();
  arm_phase(ex, ExchangePhase::sending, ex.opts.effective_idle_timeout());
  c.start_request();
}

void ClientCore::on_dialed(UpstreamConnection& c) {
  c.state = UpstreamState::busy;
  if (c.exchange) send_on(c, *c.exchange);
}

// Bytes moved. Re-arming the timer on every read and write would cost a
// wheel operation each; the timeout handler checks this stamp instead and
// re-arms for what is left.
void ClientCore::on_progress(Exchange& ex) {
  ex.last_progress_ms = loop_->now_ms();
}

void ClientCore::on_response_done(UpstreamConnection& c, bool stopped) {
  Exchange& ex = *c.exchange;
  if (ex.ws) {
    finish_upgrade(c, ex, stopped);
    return;
  }
  const bool reuse = !stopped && ex.reader.keep_alive() && ex.keep_alive && ex.request_sent() &&
                     !c.leftover && !shut_down_;
  c.exchange = nullptr;
  ex.conn = nullptr;
  ++c.generation;
  if (reuse) {
    release(c);
  } else {
    close_connection(c);
  }
  if (stopped && ex.sink_error) {
    ClientError e = ex.sink_error;
    fail(ex, e.kind, e.message, e.timeout, e.sys_errno);
    return;
  }
  finish_hop(ex);
}

void ClientCore::finish_hop(Exchange& ex) {
  if (ex.redirect.action == RedirectStep::Action::follow) {
    RedirectStep step = std::move(ex.redirect);
    ex.result.trace_redirects.push_back(ex.url.str());
    ex.url = std::move(step.url);
    ex.method = std::move(step.method);
    ex.send_body = ex.send_body && step.send_body;
    ex.strip_credentials = ex.strip_credentials || step.cross_origin;
    ++ex.redirects;
    ex.retried = false;
    ex.fresh_connection = false;
    start_hop(ex);
    return;
  }
  complete(ex);
}

void ClientCore::on_connection_failed(UpstreamConnection& c, ErrorKind kind, std::string message,
                                      int sys_errno) {
  Exchange* ex = c.exchange;
  const bool established = c.state == UpstreamState::busy;
  // A pooled connection the server had already given up on: nothing of the
  // response came, so an idempotent request can safely go again, once.
  const bool retry = ex && established && c.requests > 1 && kind == ErrorKind::reset &&
                     !ex->reader.any_bytes() && !ex->retried && is_idempotent(ex->method) &&
                     (!ex->send_body || ex->source.rewindable());
  close_connection(c);
  if (!ex) return;
  if (retry) {
    ex->retried = true;
    ex->fresh_connection = true;
    retries_.fetch_add(1, std::memory_order_relaxed);
    start_hop(*ex);
    return;
  }
  fail(*ex, kind, std::move(message), TimeoutKind::none, sys_errno);
}

void ClientCore::detach(Exchange& ex) {
  if (ex.phase == ExchangePhase::queued && ex.pool) {
    auto& waiting = ex.pool->waiting;
    for (auto it = waiting.begin(); it != waiting.end(); ++it) {
      if (*it == &ex) {
        waiting.erase(it);
        break;
      }
    }
  }
  if (ex.conn) {
    UpstreamConnection& c = *ex.conn;
    ex.conn = nullptr;
    c.exchange = nullptr;
    close_connection(c);  // mid-request: the connection's state is unknown
  }
}

void ClientCore::fail(Exchange& ex, ErrorKind kind, std::string message, TimeoutKind timeout,
                      int sys_errno) {
  if (ex.phase == ExchangePhase::done) return;
  detach(ex);
  ex.phase = ExchangePhase::done;
  ex.result.error = {kind, timeout, sys_errno, std::move(message)};
  ex.result.body.clear();
  complete(ex);
}

void ClientCore::complete(Exchange& ex) {
  ex.phase = ExchangePhase::done;
  loop_->timers().cancel(ex.phase_timer);
  loop_->timers().cancel(ex.deadline_timer);
  std::shared_ptr<Exchange> keep = std::move(ex.self);
  if (keep) {
    if (ex.live_prev)
      ex.live_prev->live_next = ex.live_next;
    else
      live_ = ex.live_next;
    if (ex.live_next) ex.live_next->live_prev = ex.live_prev;
    ex.live_prev = ex.live_next = nullptr;
  }
  ClientResponse& r = ex.result;
  r.url = ex.url.scheme.empty() ? ex.opts.url : ex.url.str();
  r.redirects = ex.redirects;
  r.timing.total = ex.elapsed();
  if (!r.error && !ex.stream_mode && ex.opts.as != BodyAs::bytes) {
    std::string_view type = r.headers.get("content-type").value_or("");
    if (ex.opts.as == BodyAs::text || is_textual(type)) convert_to_utf8(r.body, charset_of(type));
  }
  r.opts = std::move(ex.opts);
  if (submitting_ > 0) {
    // request() is still on the stack: callbacks never run inside it.
    post_to_loop([keep](ClientCore& core) {
      core.guarded([&] { keep->callback(std::move(keep->result)); }, "response callback");
    });
  } else {
    guarded([&] { ex.callback(std::move(r)); }, "response callback");
  }
  if (keep) dead_exchanges_.push_back(std::move(keep));
}

void ClientCore::on_phase_timeout(io::TimerNode* node) {
  Exchange& ex = *static_cast<ExchangeTimer*>(node)->owner;
  ClientCore& core = *ex.core;
  core.bury();
  const RequestOptions& o = ex.opts;
  const std::string where = ex.route.describe();
  switch (ex.phase) {
    case ExchangePhase::queued:
      core.fail(ex, ErrorKind::timeout,
                "no connection to " + where + " became free within " +
                    ms_text(o.effective_connect_timeout()) + " (max_connections " +
                    std::to_string(core.config_.max_connections) + ")",
                TimeoutKind::pool);
      break;
    case ExchangePhase::connecting:
      core.fail(ex, ErrorKind::timeout,
                std::string("connect timeout: no connection to ") + where + " within " +
                    ms_text(o.effective_connect_timeout()) + " (" + dial_phase(ex.conn) + ")",
                TimeoutKind::connect);
      break;
    case ExchangePhase::sending:
    case ExchangePhase::receiving: {
      const uint64_t idle_ms = uint64_t(o.effective_idle_timeout().count());
      const uint64_t quiet = core.loop_->now_ms() - ex.last_progress_ms;
      if (quiet < idle_ms) {  // there was progress since the timer was armed
        core.loop_->timers().arm(ex.phase_timer, core.loop_->now_ms(), idle_ms - quiet);
        break;
      }
      const char* waiting = !ex.request_sent()       ? "while sending the request"
                            : !ex.reader.head_done() ? "waiting for the response head"
                                                     : "waiting for the response body";
      core.fail(ex, ErrorKind::timeout,
                "idle timeout: nothing from " + where + " for " +
                    ms_text(o.effective_idle_timeout()) + " " + waiting,
                TimeoutKind::idle);
      break;
    }
    default:
      break;
  }
}

void ClientCore::on_deadline(io::TimerNode* node) {
  Exchange& ex = *static_cast<ExchangeTimer*>(node)->owner;
  ClientCore& core = *ex.core;
  core.bury();
  core.fail(ex, ErrorKind::timeout,
            "total timeout: the request to " + ex.url.str() + " took longer than " +
                ms_text(ex.opts.total_timeout),
            TimeoutKind::total);
}

}  // namespace httpkit::client
