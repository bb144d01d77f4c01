#include "server/loop_server.hpp"

#include <unistd.h>

#include "io/container_of.hpp"
#include "io/socket.hpp"
#include "server/request_body_stream.hpp"

namespace httpkit::server {

SharedState::SharedState(Handler h, const ServerOptions& o, std::size_t process_limit)
    : handler(std::move(h)),
      options(o),
      table(io::descriptor_limit()),
      max_connections(process_limit) {
  parse_limits.max_request_line = o.max_line;
  parse_limits.max_head_bytes = std::max(o.max_head, o.max_line);
  parse_limits.max_headers = o.max_headers;
  chunked_limits.max_body = o.max_body;
  chunked_limits.max_trailers = std::max(o.max_head, o.max_line);
  if (o.executor) {
    pool = std::make_unique<HandlerPool>(o.executor);
  } else if (o.worker_threads > 0) {
    pool = std::make_unique<HandlerPool>(o.worker_threads, o.worker_queue, o.thread_name_prefix);
  }
}

LoopServer::LoopServer(SharedState& shared, int listen_fd)
    : LoopServer(shared,
                 {{std::make_shared<ListenSocket>(listen_fd), bool(shared.layer_factory)}}) {}

LoopServer::LoopServer(SharedState& shared, const std::vector<Listener>& listeners)
    : shared_(shared), options_(shared.options), header_storage_(shared.options.max_headers) {
  connection_kind_ = loop_.register_kind(&LoopServer::on_connection_event, this);
  if (shared_.layer_factory) shared_.table.reserve_layers();
  for (const Listener& l : listeners)
    acceptors_.push_back(std::make_unique<Acceptor>(loop_, *this, l.socket,
                                                    l.layered && shared_.layer_factory, l.shared));
  loop_.set_after_events([this] { release_closed(); });
  out_.reserve(io::Backend::kReadBufferSize);
  stop_timer_.node.fire = &LoopServer::on_stop_timer;
  stop_timer_.self = this;
}

LoopServer::~LoopServer() = default;

void LoopServer::run() {
  loop_.run();
}

// ---------------------------------------------------------------- lifetime

void LoopServer::adopt(int fd, bool layered) {
  if (!shared_.table.fits(fd)) {
    ::close(fd);
    return;
  }
  io::set_nodelay(fd);
  ServerConnection& c = shared_.table.at(fd);
  const uint32_t generation = c.generation + 1;
  c = ServerConnection{};
  c.fd = fd;
  c.owner = this;
  c.generation = generation;
  c.timer.fire = &LoopServer::on_connection_timer;
  std::chrono::milliseconds first_deadline = options_.header_timeout;
  if (layered) {
    std::unique_ptr<io::StreamLayer> layer = shared_.layer_factory();
    if (layer->handshaking()) {
      c.handshaking = true;
      first_deadline = layer->handshake_timeout();
    }
    shared_.table.set_layer(fd, std::move(layer));
  }
  connections_.fetch_add(1, std::memory_order_relaxed);
  shared_.connections.fetch_add(1, std::memory_order_relaxed);
  // A connection must finish its handshake within the handshake timeout,
  // and send its first request within the header timeout.
  c.phase = Phase::reading;
  arm(c, first_deadline);
  if (!loop_.add(fd, io::kReadable | io::kWritable, connection_kind_)) close_connection(c);
}

ServerConnection* LoopServer::find(int fd, uint32_t generation) {
  ServerConnection& c = shared_.table.at(fd);
  if (c.owner != this || c.generation != generation || c.closed()) return nullptr;
  return &c;
}

// Ends the connection now; its descriptor and buffers go after this loop
// iteration (release_closed), so nothing up the call stack holds a
// reference to freed or recycled state.
void LoopServer::close_connection(ServerConnection& c, CloseStatus why) {
  if (c.closed()) return;
  c.phase = Phase::closed;
  loop_.timers().cancel(c.timer);
  if (serving_ == &c) out_.clear();
  if (c.channel) release_channel(c, why);
  if (c.streaming)
    abort_body(
        c, why == CloseStatus::client_close ? BodyAbort::peer_closed : BodyAbort::server_closed, 0);
  closed_.push_back(c.fd);
}

void LoopServer::release_closed() {
  retired_streams_.clear();
  if (closed_.empty()) return;
  for (int fd : closed_) {
    ServerConnection& c = shared_.table.at(fd);
    c.input.reset();
    c.output.reset();
    const std::unique_ptr<io::StreamLayer> layer = shared_.table.take_layer(fd);
    io::Stream stream(loop_, fd, layer.get());
    stream.shutdown();  // the layer's goodbye (TLS close_notify)
    // The slot is shared by every loop of the process: the moment the fd is
    // closed another loop may accept the same number and fill the slot, so
    // leave it clean first and close last.
    c.owner = nullptr;
    c.fd = -1;
    c.generation++;
    stream.close();
    connections_.fetch_sub(1, std::memory_order_relaxed);
    shared_.connections.fetch_sub(1, std::memory_order_relaxed);
  }
  closed_.clear();
  if (draining_ && connection_count() == 0) {
    loop_.stop();
    return;
  }
  for (auto& a : acceptors_)
    a->resume_if_paused();
}

// ------------------------------------------------------------------ events

void LoopServer::on_connection_event(void* self_ptr, int fd, uint32_t events) {
  auto* self = static_cast<LoopServer*>(self_ptr);
  ServerConnection& c = self->shared_.table.at(fd);
  if (c.owner != self || c.closed()) return;
  if (c.phase == Phase::lingering) {
    if (events & (io::kReadable | io::kPeerClosed | io::kFailed)) self->linger_readable(c);
    return;
  }
  ServingScope scope(*self, c);
  const bool peer_closing = events & (io::kPeerClosed | io::kFailed);
  // A long-poll or stream waits with reading paused: a hang-up is the only
  // sign that its client left.
  if (c.channel && c.phase == Phase::busy && peer_closing) {
    self->close_connection(c, CloseStatus::client_close);
    return;
  }
  if ((events & io::kWritable) && c.output) {
    self->on_writable(c);
    if (c.closed()) return;
  }
  // Bytes and the peer's FIN can arrive in one edge: read on to the end of
  // stream rather than stop at the short read, or the close is never seen.
  // A handshake that waited for the socket to take its flight goes on too.
  const bool handshake_can_send = c.handshaking && (events & io::kWritable) &&
                                  self->shared_.table.layer(fd)->handshake_waits_to_send();
  if ((events & io::kReadable) || peer_closing || handshake_can_send)
    self->on_readable(c, peer_closing);
}

void LoopServer::on_writable(ServerConnection& c) {
  const bool drained = continue_output(c);
  if (c.closed()) return;
  if (c.channel) account_output(c);
  if (!drained || c.closed()) return;
  if (c.phase == Phase::websocket) {
    if (c.close_after_write) {
      close_connection(c, c.channel->close_reason_);
    } else {
      resume(c);
    }
    return;
  }
  if (c.channel) return;  // an HTTP stream: its channel decides what comes next
  if (c.close_after_write) {
    finish_connection(c);
    return;
  }
  resume(c);
}

// Picks up after a response went out: pipelined bytes, then the socket.
void LoopServer::resume(ServerConnection& c) {
  if (c.phase == Phase::websocket) {
    if (c.input) {  // frames that came in behind the upgrade request
      const std::unique_ptr<PendingInput> in = std::move(c.input);
      ws_consume(c, in->bytes.data(), in->bytes.size());
      if (c.closed()) return;
    }
    if (c.read_pending && !c.output) {
      c.read_pending = false;
      ws_readable(c, false);
      return;
    }
  } else {
    if (c.input) {
      drain_input(c);
      if (c.closed()) return;
    }
    if (!busy(c) && c.read_pending) {
      c.read_pending = false;
      on_readable(c, false);  // flushes and sets the timer
      return;
    }
  }
  flush(c);
  if (!c.closed()) update_timer(c);
}

// ------------------------------------------------------------------ timers

void LoopServer::arm(ServerConnection& c, std::chrono::milliseconds delay) {
  loop_.timers().arm(c.timer, loop_.now_ms(), uint64_t(delay.count()));
  c.stall_deadline = false;
}

// The idle deadline (in_body false) or a body's between-reads deadline: left
// running if it already runs and no request bytes came since (consume()).
void LoopServer::arm_stall(ServerConnection& c, std::chrono::milliseconds delay, bool in_body) {
  const Phase phase = in_body ? Phase::reading : Phase::idle;
  if (!(c.stall_deadline && c.timer.armed() && c.in_body == in_body && c.phase == phase)) {
    arm(c, delay);
    c.stall_deadline = true;
  }
  c.phase = phase;
  c.in_body = in_body;
}

bool LoopServer::handshake_over(ServerConnection& c) {
  if (!c.handshaking) return true;
  if (shared_.table.layer(c.fd)->handshaking()) return false;
  c.handshaking = false;
  heap_trim_.note_activity();  // the handshake's transient memory is free now
  return true;
}

void LoopServer::update_timer(ServerConnection& c) {
  if (c.handshaking) {
    if (!handshake_over(c)) return;  // the handshake deadline runs on
    // Handshake done, no request yet: the first one gets the header timeout.
    // (Unless the bytes that came with the handshake's end already
    // failed: then the answer is out and the connection closes below.)
    if (c.phase == Phase::reading && !c.input && !c.output && !c.close_after_write && !draining_) {
      arm(c, options_.header_timeout);
      return;
    }
  }
  if (c.output) return;  // the write timer runs
  if (c.phase == Phase::websocket) {
    arm_ws_timer(c);
    return;
  }
  if (c.phase == Phase::busy) return;  // the handler or the channel decides
  if (c.close_after_write) {
    finish_connection(c);
    return;
  }
  if (c.streaming) {  // a body streamed to its handler: between reads
    arm_stall(c, options_.body_timeout, true);
    return;
  }
  if (c.input) {
    const bool in_body = c.input->progress.head_length != 0;
    // The header deadline runs from the head's first byte and is not
    // extended by trickling bytes; the body deadline runs between reads.
    if (in_body) {
      arm_stall(c, options_.body_timeout, true);
      return;
    }
    if (c.phase != Phase::reading || c.in_body) arm(c, options_.header_timeout);
    c.phase = Phase::reading;
    c.in_body = false;
    return;
  }
  if (draining_) {
    c.in_body = false;
    close_connection(c);
    return;
  }
  arm_stall(c, options_.idle_timeout, false);
}

void LoopServer::on_connection_timer(io::TimerNode* node) {
  ServerConnection& c = io::container_of<&ServerConnection::timer>(node);
  LoopServer* self = c.owner;
  if (!self || c.closed()) return;
  if (c.phase == Phase::lingering) {  // lingered long enough
    self->close_connection(c);
    return;
  }
  ServingScope scope(*self, c);
  // A request cut short by a deadline gets 408 when nothing of it has been
  // answered; an idle or stalled-writer connection is simply closed.
  if (c.phase == Phase::websocket && !c.output) {
    self->ws_timer_fired(c);
    return;
  }
  if (!self->handshake_over(c)) {
    self->count(Deadline::handshake);
    self->close_connection(c);
    return;
  }
  if (c.streaming && c.phase == Phase::reading && !c.output) {
    self->count(Deadline::body);
    self->abort_body(c, BodyAbort::timeout, 408);
    self->flush(c);
    if (!c.closed() && !c.output) self->close_connection(c);
    return;
  }
  if (c.phase == Phase::reading && c.input && !c.output) {
    self->count(c.in_body ? Deadline::body : Deadline::head);
    self->fail(c, 408, "request timeout", c.input->bytes);
    self->flush(c);
    if (!c.closed() && !c.output) self->close_connection(c);
    return;
  }
  self->count(c.output                    ? Deadline::write
              : c.phase == Phase::reading ? Deadline::first_request
                                          : Deadline::idle);
  self->close_connection(c);
}

// ---------------------------------------------------------------- stopping

void LoopServer::begin_stop() {
  begin_stop(options_.stop_timeout);
}

void LoopServer::begin_stop(std::chrono::milliseconds timeout) {
  loop_.post([this, timeout] {
    const uint64_t now = loop_.now_ms();
    const uint64_t deadline = now + uint64_t(std::max<int64_t>(0, timeout.count()));
    if (draining_) {
      if (stop_timer_.node.armed() && deadline < stop_deadline_ms_) {
        stop_deadline_ms_ = deadline;
        loop_.timers().arm(stop_timer_.node, now, deadline - now);
      }
      return;
    }
    draining_ = true;
    for (auto& a : acceptors_)
      a->close();
    // Close what is idle now; the rest closes after its response.
    for (std::size_t fd = 0; fd < shared_.table.capacity(); ++fd) {
      ServerConnection& c = shared_.table.at(int(fd));
      if (c.owner != this || c.closed()) continue;
      if (c.phase == Phase::websocket) {
        ServingScope scope(*this, c);
        ws_close(c, *c.channel, 1001, "server shutting down");
        if (!c.closed()) flush(c);
      } else if (c.phase != Phase::busy && !c.input && !c.output && !c.streaming) {
        close_connection(c);
      }
    }
    if (connection_count() == 0) {
      loop_.stop();
      return;
    }
    stop_deadline_ms_ = deadline;
    loop_.timers().arm(stop_timer_.node, now, deadline - now);
  });
}

void LoopServer::on_stop_timer(io::TimerNode* node) {
  LoopServer* self = io::container_of<&StopTimer::node>(node).self;
  log_event(self->options_, server_events::stop_timeout);
  for (std::size_t fd = 0; fd < self->shared_.table.capacity(); ++fd) {
    ServerConnection& c = self->shared_.table.at(int(fd));
    if (c.owner == self) self->close_connection(c);
  }
  self->loop_.stop();
}

}  // namespace httpkit::server
