#include "client/ws_session.hpp"

#include "client/client_core.hpp"

namespace httpkit::client {

WsSession::WsSession(ClientCore& core, WebSocketOptions options, WebSocketHandlers handlers,
                     ws::ClientHandshake handshake)
    : core_(core),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      handshake_(std::move(handshake)),
      handle_(std::make_shared<WebSocket>()) {
  close_timer_.owner = this;
  close_timer_.fire = &WsSession::on_close_timeout;
  ping_timer_.owner = this;
  ping_timer_.fire = &WsSession::on_ping_timer;
}

WsSession::~WsSession() {
  core_.loop().timers().cancel(close_timer_);
  core_.loop().timers().cancel(ping_timer_);
}

void WsSession::start(UpstreamConnection& c, std::string leftover,
                      const ws::UpgradeResult& agreed) {
  conn_ = &c;
  ws::AssemblerOptions assembler;
  assembler.role = ws::Role::client;
  assembler.deflate = agreed.deflate.has_value();
  assembler.max_message = options_.max_message;
  assembler_ = ws::MessageAssembler(assembler);
  if (agreed.deflate)
    deflate_ = std::make_unique<ws::DeflateContext>(*agreed.deflate, ws::Role::client,
                                                    core_.deflate_contexts());
  {
    std::lock_guard lock(handle_->state_->mutex);
    handle_->state_->open = true;
    handle_->state_->subprotocol = agreed.subprotocol;
    handle_->state_->deflate = agreed.deflate.has_value();
  }
  auto self = shared_from_this();
  if (handlers_.on_open) core_.guarded([&] { handlers_.on_open(*handle_); }, "websocket on_open");
  if (finished_) return;
  last_input_ms_ = core_.loop().now_ms();
  if (options_.ping_interval.count() > 0) arm_ping_timer(uint64_t(options_.ping_interval.count()));
  if (!leftover.empty() && !process(leftover.data(), leftover.size())) return;
  read(c.peer_closed);
}

void WsSession::arm_ping_timer(uint64_t delay_ms) {
  core_.loop().timers().arm(ping_timer_, core_.loop().now_ms(), std::max<uint64_t>(delay_ms, 1));
}

// Idle: ping. Waiting for a pong: dead. Input since the timer was armed
// (no per-read timer operation): wait for what is left of the interval.
void WsSession::on_ping_timer(io::TimerNode* node) {
  WsSession& s = *static_cast<WsTimer*>(node)->owner;
  auto self = s.shared_from_this();
  if (s.finished_ || s.close_sent_) return;
  const uint64_t now = s.core_.loop().now_ms();
  if (s.awaiting_pong_) {
    s.finish(ws::close_code::abnormal, "no pong within " +
                                           std::to_string(s.options_.ping_timeout.count()) +
                                           " ms of the keep-alive ping");
    return;
  }
  const uint64_t interval = uint64_t(s.options_.ping_interval.count());
  const uint64_t quiet = now - s.last_input_ms_;
  if (quiet < interval) {
    s.arm_ping_timer(interval - quiet);
    return;
  }
  s.awaiting_pong_ = true;
  s.queue_frame(ws::Opcode::ping, "httpkit-keepalive", false);
  s.flush();
  if (!s.finished_)
    s.arm_ping_timer(uint64_t(std::max<int64_t>(s.options_.ping_timeout.count(), 1)));
}

void WsSession::failed(const ClientError& error) {
  if (finished_) return;
  finished_ = true;
  mark_closed(ws::close_code::abnormal);
  auto self = shared_from_this();
  if (handlers_.on_error) core_.guarded([&] { handlers_.on_error(error); }, "websocket on_error");
  if (handlers_.on_close)
    core_.guarded([&] { handlers_.on_close(*handle_, CloseStatus::abnormal, error.message); },
                  "websocket on_close");
}

void WsSession::on_event(uint32_t events) {
  auto self = shared_from_this();
  if ((events & io::kWritable) && out_offset_ < outbox_.size()) flush();
  if (!finished_ && (events & (io::kReadable | io::kPeerClosed | io::kFailed)))
    read((events & (io::kPeerClosed | io::kFailed)) != 0);
}

void WsSession::read(bool peer_closing) {
  if (finished_) return;
  const io::IoResult out = conn_->stream().receive_all(peer_closing, [&](std::span<char> bytes) {
    last_input_ms_ = core_.loop().now_ms();
    return process(bytes.data(), bytes.size());
  });
  if (finished_ || out.status == io::IoStatus::again || out.done()) return;
  if (out.status == io::IoStatus::closed) {
    finish(ws::close_code::abnormal, "the connection closed without a close frame");
  } else {
    finish(ws::close_code::abnormal, conn_->failure_text(out, "read"));
  }
}

bool WsSession::process(char* data, std::size_t size) {
  std::size_t pos = 0;
  while (!finished_) {
    ws::Event ev = assembler_.next(data + pos, size - pos, deflate_.get());
    pos += ev.consumed;
    switch (ev.kind) {
      case ws::EventKind::need_more:
        return true;
      case ws::EventKind::text:
      case ws::EventKind::binary:
        if (handlers_.on_receive) {
          const bool binary = ev.kind == ws::EventKind::binary;
          core_.guarded([&] { handlers_.on_receive(*handle_, ev.payload, binary); },
                        "websocket on_receive");
        }
        break;
      case ws::EventKind::ping:
        queue_frame(ws::Opcode::pong, ev.payload, false);
        flush();
        if (!finished_ && handlers_.on_ping)
          core_.guarded([&] { handlers_.on_ping(*handle_, ev.payload); }, "websocket on_ping");
        break;
      case ws::EventKind::pong:
        if (awaiting_pong_) {
          awaiting_pong_ = false;
          arm_ping_timer(uint64_t(options_.ping_interval.count()));
        }
        if (handlers_.on_pong)
          core_.guarded([&] { handlers_.on_pong(*handle_, ev.payload); }, "websocket on_pong");
        break;
      case ws::EventKind::close: {
        std::string reason(ev.payload);
        if (!close_sent_) {  // echo it (RFC 6455 §5.5.1), then the server closes TCP
          close_sent_ = true;
          ws::append_close_frame(outbox_, ev.code, reason, ws::random_mask_key());
          flush();
        }
        finish(ev.code, reason);
        return false;
      }
      case ws::EventKind::error: {
        std::string reason(ev.payload);
        if (!close_sent_) {
          close_sent_ = true;
          ws::append_close_frame(outbox_, ev.code, reason, ws::random_mask_key());
          flush();
        }
        finish(ev.code, reason);
        return false;
      }
    }
    if (pos >= size && ev.kind != ws::EventKind::need_more) {
      // Everything consumed: one more call would only say need_more.
      return !finished_;
    }
  }
  return false;
}

void WsSession::queue_frame(ws::Opcode opcode, std::string_view payload, bool compress) {
  ws::OutgoingFrame frame;
  frame.opcode = opcode;
  frame.mask = ws::random_mask_key();
  if (compress && deflate_) {
    std::string z;
    if (deflate_->compress(payload, z)) {
      frame.rsv1 = true;
      ws::append_frame(outbox_, frame, z);
      return;
    }
  }
  ws::append_frame(outbox_, frame, payload);
}

void WsSession::send_message(std::string_view data, bool binary) {
  if (finished_ || close_sent_) return;
  user_bytes_in_outbox_ += data.size();
  queue_frame(binary ? ws::Opcode::binary : ws::Opcode::text, data, true);
  flush();
}

void WsSession::send_ping(std::string_view payload) {
  if (finished_ || close_sent_) return;
  queue_frame(ws::Opcode::ping, payload.substr(0, ws::kMaxControlPayload), false);
  flush();
}

void WsSession::begin_close(uint16_t code, std::string_view reason) {
  if (finished_ || close_sent_) return;
  close_sent_ = true;
  ws::append_close_frame(outbox_, code, reason, ws::random_mask_key());
  flush();
  if (!finished_)
    core_.loop().timers().arm(close_timer_, core_.loop().now_ms(),
                              uint64_t(std::max<int64_t>(options_.close_timeout.count(), 1)));
}

void WsSession::on_close_timeout(io::TimerNode* node) {
  WsSession& s = *static_cast<WsTimer*>(node)->owner;
  auto self = s.shared_from_this();
  s.finish(ws::close_code::abnormal, "no close frame from the peer in time");
}

void WsSession::flush() {
  while (!finished_ && out_offset_ < outbox_.size()) {
    const io::IoResult out = conn_->stream().send(std::string_view(outbox_).substr(out_offset_));
    out_offset_ += out.bytes;
    if (out.status == io::IoStatus::again) return;
    if (!out.done()) {
      finish(ws::close_code::abnormal, "write failed: " + conn_->failure_text(out, "write"));
      return;
    }
  }
  if (out_offset_ >= outbox_.size()) {
    outbox_.clear();
    out_offset_ = 0;
    if (user_bytes_in_outbox_) {
      std::lock_guard lock(handle_->state_->mutex);
      handle_->state_->unsent -= std::min(handle_->state_->unsent, user_bytes_in_outbox_);
      user_bytes_in_outbox_ = 0;
    }
  }
}

void WsSession::finish(uint16_t code, std::string_view reason) {
  if (finished_) return;
  finished_ = true;
  core_.loop().timers().cancel(close_timer_);
  core_.loop().timers().cancel(ping_timer_);
  mark_closed(code);
  auto self = shared_from_this();  // closing the connection drops its hold on us
  std::string why(reason);
  if (conn_) {
    UpstreamConnection* c = conn_;
    conn_ = nullptr;
    core_.close(*c);
  }
  if (handlers_.on_close)
    core_.guarded([&] { handlers_.on_close(*handle_, close_status_of(code), why); },
                  "websocket on_close");
}

void WsSession::mark_closed(uint16_t code) {
  std::lock_guard lock(handle_->state_->mutex);
  handle_->state_->open = false;
  handle_->state_->close_code = code;
}

// ------------------------------------------------------------------ core

void ClientCore::finish_upgrade(UpstreamConnection& c, Exchange& ex, bool stopped) {
  std::shared_ptr<WsSession> session = ex.ws;
  std::string message;
  if (!stopped && ex.reader.upgraded()) {
    ws::UpgradeResult agreed =
        ws::check_upgrade_response(ex.result.status, ex.result.headers.all(), session->handshake());
    if (agreed.ok) {
      c.exchange = nullptr;
      ex.conn = nullptr;
      ++c.generation;
      c.upgraded = true;
      --c.pool.open;
      c.state = UpstreamState::websocket;
      c.ws = session;
      std::string leftover = c.take_inbox();
      slot_freed(c.pool);
      complete(ex);
      session->start(c, std::move(leftover), agreed);
      return;
    }
    message =
        "WebSocket handshake with " + ex.route.describe() + " failed: " + std::string(agreed.error);
  } else if (stopped && ex.sink_error) {
    message = ex.sink_error.message;
  } else {
    message = "WebSocket handshake refused by " + ex.route.describe() + ": HTTP status " +
              std::to_string(ex.result.status);
  }
  c.exchange = nullptr;
  ex.conn = nullptr;
  close_connection(c);
  fail(ex, ErrorKind::protocol, std::move(message));
}

}  // namespace httpkit::client

namespace httpkit {

using client::ClientCore;
using client::WsSession;

WebSocket::WebSocket() : state_(std::make_shared<State>()) {}

bool WebSocket::send(std::string data) {
  return queue(std::move(data), false);
}

bool WebSocket::send_binary(std::string data) {
  return queue(std::move(data), true);
}

bool WebSocket::queue(std::string data, bool binary) {
  std::shared_ptr<ClientCore> core;
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->open || state_->closing) return false;
    if (state_->unsent + data.size() > state_->max_unsent) return false;
    state_->unsent += data.size();
    core = state_->core.lock();
  }
  if (!core) return false;
  core->post([weak = state_->session, data = std::move(data), binary](ClientCore&) {
    if (auto s = weak.lock()) s->send_message(data, binary);
  });
  return true;
}

bool WebSocket::ping(std::string payload) {
  std::shared_ptr<ClientCore> core;
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->open || state_->closing) return false;
    core = state_->core.lock();
  }
  if (!core) return false;
  core->post([weak = state_->session, payload = std::move(payload)](ClientCore&) {
    if (auto s = weak.lock()) s->send_ping(payload);
  });
  return true;
}

bool WebSocket::close(uint16_t code, std::string_view reason) {
  std::shared_ptr<ClientCore> core;
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->open || state_->closing) return false;
    state_->closing = true;
    core = state_->core.lock();
  }
  if (!core) return false;
  core->post([weak = state_->session, code, reason = std::string(reason)](ClientCore&) {
    if (auto s = weak.lock()) s->begin_close(code, reason);
  });
  return true;
}

bool WebSocket::open() const {
  std::lock_guard lock(state_->mutex);
  return state_->open && !state_->closing;
}

uint16_t WebSocket::close_code() const {
  std::lock_guard lock(state_->mutex);
  return state_->close_code;
}

std::string WebSocket::subprotocol() const {
  std::lock_guard lock(state_->mutex);
  return state_->subprotocol;
}

bool WebSocket::deflate() const {
  std::lock_guard lock(state_->mutex);
  return state_->deflate;
}

std::shared_ptr<WebSocket> Client::websocket(WebSocketOptions options, WebSocketHandlers handlers) {
  ws::DeflatePolicy policy;
  policy.enabled = options.permessage_deflate;
  ws::ClientHandshake handshake = ws::make_client_handshake(options.subprotocols, policy);

  RequestOptions o;
  o.url = options.url;
  if (o.url.rfind("ws://", 0) == 0) o.url = "http://" + o.url.substr(5);
  if (o.url.rfind("wss://", 0) == 0) o.url = "https://" + o.url.substr(6);
  o.headers = options.headers;
  for (Header& h : handshake.headers())
    o.headers.push_back(std::move(h));
  o.connect_timeout = options.connect_timeout;
  o.idle_timeout = options.connect_timeout;
  o.follow_redirects = false;
  o.auto_decompress = false;
  o.as = BodyAs::bytes;
  o.max_body = 64 * 1024;
  o.proxy_url = options.proxy_url;
  o.tls = options.tls;

  const std::size_t max_unsent = options.max_send_buffer;
  auto session = std::make_shared<WsSession>(*core_, std::move(options), std::move(handlers),
                                             std::move(handshake));
  std::shared_ptr<WebSocket> handle = session->handle();
  {
    std::lock_guard lock(handle->state_->mutex);
    handle->state_->session = session;
    handle->state_->core = core_;
    handle->state_->max_unsent = max_unsent;
  }
  auto ex = std::make_shared<client::Exchange>(core_->next_exchange_id(), std::move(o),
                                               [session](ClientResponse r) {
                                                 if (r.error) session->failed(r.error);
                                               });
  ex->ws = session;
  ex->prepare_error = ex->prepare();
  core_->submit(std::move(ex));
  return handle;
}

}  // namespace httpkit
