// Request bodies streamed to their handler: the loop's side of
// receive_body. A streamed request's handler runs at head time
// (http1_connection.cpp, dispatch); when it answers with receive_body the
// body's bytes go to its callbacks straight from the read buffer, and its
// answer comes later through the handle (respond), like a channel's.
//
// While the handler paused, or once the body ended and the answer is not
// out yet, the connection is `busy`: nothing is read, no deadline runs
// (the handler is not the peer), and at most the rest of one read waits in
// c.input.
#include "server/request_body_stream.hpp"

#include <algorithm>
#include <exception>

#include "server/loop_server.hpp"

namespace httpkit::server {

// ------------------------------------------------------------ the handle

void BodyStreamHandle::post_pause_change() {
  loop_.post([self = shared_from_this()] { self->loop_.body_pause_changed(*self); });
}

void BodyStreamHandle::pause() {
  if (!paused_.exchange(true, std::memory_order_acq_rel)) post_pause_change();
}

void BodyStreamHandle::resume() {
  if (paused_.exchange(false, std::memory_order_acq_rel)) post_pause_change();
}

bool BodyStreamHandle::respond(Response response) {
  if (responded_.exchange(true, std::memory_order_acq_rel)) return false;
  // Posted even from the loop thread: a callback's answer is applied
  // after the callback, never inside the read that called it.
  loop_.post([self = shared_from_this(), response = std::move(response)]() mutable {
    self->loop_.body_respond(*self, std::move(response));
  });
  return true;
}

// ------------------------------------------------------------- the loop

BodyStream* LoopServer::body_stream(const ServerConnection& c) {
  if (!c.streaming) return nullptr;
  const auto it = body_streams_.find(c.fd);
  return it == body_streams_.end() ? nullptr : it->second.get();
}

void LoopServer::begin_body_stream(ServerConnection& c, const RequestProgress& p,
                                   bool expect_continue, const ResponseContext& ctx) {
  auto s = std::make_unique<BodyStream>();
  s->handle = std::make_shared<BodyStreamHandle>(*this, c.fd, c.generation);
  s->ctx = ctx;
  s->framing = p.framing;
  s->remaining = p.content_length;
  s->max_body = p.max_body;
  s->expect_continue = expect_continue;
  body_streams_[c.fd] = std::move(s);
  c.streaming = true;
}

void LoopServer::start_body_stream(ServerConnection& c, const ResponseContext& ctx,
                                   const ReceiveBody& body) {
  BodyStream* s = body_stream(c);
  if (!s || s->handlers || !body.handlers) {
    // receive_body answers a buffered request itself; this one was made
    // by hand, or given twice.
    log_error(shared_.options, "a ReceiveBody answer for a body not streamed", nullptr);
    if (s) drop_body_stream(c);
    c.close_after_write = true;
    c.linger = true;
    write_response(c, ctx, Response::text("Internal Server Error\n", 500));
    return;
  }
  s->handlers = body.handlers;
  if (s->expect_continue) out_.append(kContinue);
  c.phase = Phase::reading;
  c.in_body = true;
}

void LoopServer::hold_body(ServerConnection& c) {
  if (c.phase == Phase::busy) return;
  c.phase = Phase::busy;
  loop_.timers().cancel(c.timer);
}

std::size_t LoopServer::feed_body(ServerConnection& c, char* data, std::size_t size) {
  BodyStream* s = body_stream(c);
  std::size_t used = 0;
  while (s && s->handlers && !s->ended && used < size) {
    BodyStreamHandle& h = *s->handle;
    if (h.paused_.load(std::memory_order_acquire) || h.responded_.load(std::memory_order_acquire)) {
      hold_body(c);  // the answer, or the resume, is on its way
      break;
    }
    if (s->framing == http::BodyFraming::chunked) {
      http::ChunkedLimits limits = shared_.chunked_limits;
      limits.max_body = s->max_body;
      const auto step = s->chunked.decode(data + used, size - used, limits);
      const std::string_view piece(data + used, step.decoded);  // decoded in place
      used += step.consumed;
      if (step.status == http::ChunkedStatus::bad) {
        abort_body(c, BodyAbort::bad_framing, 400);
        return used;
      }
      if (step.status == http::ChunkedStatus::too_large) {
        abort_body(c, BodyAbort::too_large, 413);
        return used;
      }
      if (!deliver(c, *s, piece)) return used;
      if (step.status == http::ChunkedStatus::done) end_body(c, *s);
    } else {
      const std::size_t n = std::size_t(std::min<uint64_t>(s->remaining, size - used));
      const std::string_view piece(data + used, n);
      used += n;
      s->remaining -= n;
      if (!deliver(c, *s, piece)) return used;
      if (!s->remaining) end_body(c, *s);
    }
    s = body_stream(c);  // still the same unless a callback's throw ended it
  }
  return used;
}

// Runs a body callback. What it throws is logged and answered 500 (the
// handler can no longer be trusted to answer); false then.
namespace {
template <class Call>
bool guarded(const ServerOptions& options, BodyStream& s, Call&& call) {
  try {
    call();
    return true;
  } catch (...) {
    log_error(options, "a body handler threw", std::current_exception());
  }
  s.handle->respond(Response::text("Internal Server Error\n", 500));
  return false;
}
}  // namespace

// Calls on_data; false when the stream ended meanwhile (the callback threw).
bool LoopServer::deliver(ServerConnection& c, BodyStream& s, std::string_view piece) {
  if (piece.empty()) return true;
  s.handle->received_.fetch_add(piece.size(), std::memory_order_relaxed);
  if (!s.handlers->on_data) return true;
  if (guarded(shared_.options, s, [&] { s.handlers->on_data(s.handle, piece); })) return true;
  hold_body(c);
  return false;
}

void LoopServer::end_body(ServerConnection& c, BodyStream& s) {
  s.ended = true;
  hold_body(c);  // until the answer: requests behind this one wait
  if (!s.handlers->on_end || s.handle->responded_.load(std::memory_order_acquire)) return;
  guarded(shared_.options, s, [&] { s.handlers->on_end(s.handle); });
}

void LoopServer::abort_body(ServerConnection& c, BodyAbort reason, int status) {
  BodyStream* s = body_stream(c);
  if (!s) return;
  const std::shared_ptr<BodyStreamHandle> handle = s->handle;
  const std::shared_ptr<const BodyHandlers> handlers = s->handlers;
  const bool ended = s->ended;
  drop_body_stream(c);
  c.input.reset();
  if (handlers && handlers->on_abort && !ended &&
      !handle->responded_.load(std::memory_order_acquire)) {
    try {
      handlers->on_abort(handle, reason);
    } catch (...) {
      log_error(shared_.options, "a body's on_abort threw", std::current_exception());
    }
  }
  if (!status || c.closed()) return;
  fail(c, status,
       status == 408   ? "request timeout"
       : status == 413 ? "request body too large"
                       : "invalid chunked body",
       {});
}

void LoopServer::drop_body_stream(ServerConnection& c) {
  const auto it = body_streams_.find(c.fd);
  c.streaming = false;
  if (it == body_streams_.end()) return;
  // Freed after this loop iteration: a caller up the stack may hold it.
  retired_streams_.push_back(std::move(it->second));
  body_streams_.erase(it);
}

void LoopServer::body_pause_changed(BodyStreamHandle& h) {
  ServerConnection* c = find(h.fd_, h.generation_);
  if (!c) return;
  BodyStream* s = body_stream(*c);
  if (!s || s->handle.get() != &h || !s->handlers || s->ended ||
      h.responded_.load(std::memory_order_acquire))
    return;
  ServingScope scope(*this, *c);
  if (h.paused_.load(std::memory_order_acquire)) {
    hold_body(*c);
    return;
  }
  if (c->phase != Phase::busy) return;
  c->phase = Phase::reading;
  resume(*c);  // what waited in c.input, then the socket; re-arms the body deadline
}

void LoopServer::body_respond(BodyStreamHandle& h, Response response) {
  ServerConnection* c = find(h.fd_, h.generation_);
  if (!c) return;
  BodyStream* s = body_stream(*c);
  if (!s || s->handle.get() != &h) return;
  ServingScope scope(*this, *c);
  ResponseContext ctx = s->ctx;
  if (draining_) ctx.keep_alive = false;
  const bool ended = s->ended;
  drop_body_stream(*c);
  if (!ended) {
    // Answered early: the rest of the body is not read. The connection
    // ends after the answer, lingering so that the client gets it.
    c->input.reset();
    c->close_after_write = true;
    c->linger = true;
  }
  c->phase = Phase::idle;
  write_response(*c, ctx, response);
  if (c->closed()) return;
  resume(*c);
}

}  // namespace httpkit::server
