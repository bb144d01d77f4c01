// The loop's side of WebSocket (RFC 6455): the switch from HTTP, frames in
// and out through the pure ws/ layer, the close handshake, pings and
// deadlines.
#include <algorithm>
#include <cstring>

#include "server/loop_server.hpp"
#include "server/websocket_accept.hpp"
#include "ws/frame.hpp"

namespace httpkit::server {
namespace {

uint64_t ms(std::chrono::milliseconds d) {
  return uint64_t(d.count());
}

}  // namespace

void LoopServer::start_websocket(ServerConnection& c, const ResponseContext&,
                                 const ChannelBody& body) {
  http::append_switching_protocols_head(out_, body.websocket->headers, date_.now(),
                                        options_.server_header);
  auto channel = std::make_shared<ServerChannel>(*this, c, body.handlers, ResponseContext{}, true);
  channel->self_ = channel;
  channel->last_activity_ms_ = uint32_t(loop_.now_ms());
  if (body.websocket->deflate) attach_deflate(*channel, *body.websocket->deflate);
  c.channel = channel.get();
  c.phase = Phase::websocket;
  c.in_body = false;
  loop_.timers().cancel(c.timer);
  if (channel->handlers().on_open) channel->handlers().on_open(channel);
}

void LoopServer::ws_readable(ServerConnection& c, bool peer_closing) {
  // Writes what the bytes read so far produced and counts what the socket
  // refused against the channel's queue caps. False if that closed `c`.
  const auto push = [&] {
    flush(c);
    if (!c.closed() && c.channel) account_output(c);  // may run on_drain
    return !c.closed();
  };
  // What we owe the peer cannot go out: read nothing more from it until it
  // drains (TCP backpressure: the peer's own sends then block), so a peer
  // that sends without reading cannot make us queue without end. (What is
  // left unread is reported again, with the peer's FIN if any, by the
  // kWritable event that finds the socket writable.)
  const auto owing = [&] {
    if (c.output) c.read_pending = true;
    return bool(c.output);
  };
  io::IoResult r;
  if (!owing()) {
    r = stream(c).receive_all(peer_closing, [&](std::span<char> bytes) {
      ws_consume(c, bytes.data(), bytes.size());
      // Out before the next read, so that owing() sees it.
      return !c.closed() && push() && !owing();
    });
    if (c.closed()) return;
  }
  if (r.status == io::IoStatus::closed || r.status == io::IoStatus::failed) {
    // EOF or a reset: after our close frame that is the expected end.
    const CloseStatus why =
        c.channel && c.channel->close_sent_ ? CloseStatus::normal : CloseStatus::client_close;
    flush(c);
    if (!c.closed()) close_connection(c, why);
    return;
  }
  if (push()) update_timer(c);
}

void LoopServer::ws_consume(ServerConnection& c, char* data, std::size_t size) {
  ServerChannel& ch = *c.channel;
  ch.last_activity_ms_ = uint32_t(loop_.now_ms());
  // An assembler lives on the heap only while a frame is half-read; the
  // common read of whole frames uses one on the stack.
  ws::AssemblerOptions rules{ws::Role::server, bool(ch.deflate_), options_.max_ws};
  ws::MessageAssembler local(rules);
  ws::MessageAssembler& assembler = ch.assembler_ ? *ch.assembler_ : local;
  auto self = ch.shared_from_this();  // handlers may close the connection
  const ChannelHandlers& handlers = ch.handlers();

  // RFC 6455 5.5.3: a pong for only the latest of several pings not yet
  // answered. A run of pings (up to the next other frame, or to the end of
  // what was read) gets one pong, so a ping flood costs one small frame per
  // read rather than one per ping.
  char pong_payload[125];
  std::size_t pong_size = 0;
  bool pong_due = false;
  const auto answer_pings = [&] {
    if (!pong_due || ch.close_sent_ || c.closed()) return;
    pong_due = false;
    std::string pong;
    ws::append_pong_frame(pong, {pong_payload, pong_size});
    emit(c, pong);
  };

  bool done = false;
  while (!done) {
    ws::Event e = assembler.next(data, size, ch.deflate_);
    data += e.consumed;
    size -= e.consumed;
    if (e.kind != ws::EventKind::ping) answer_pings();
    if (c.closed()) return;
    switch (e.kind) {
      case ws::EventKind::need_more:
        done = true;
        break;
      case ws::EventKind::text:
      case ws::EventKind::binary:
        if (handlers.on_receive && !ch.close_sent_)
          handlers.on_receive(self, e.payload, e.kind == ws::EventKind::binary);
        break;
      case ws::EventKind::ping:
        if (!ch.close_sent_) {
          // Answered below, once the run of pings it belongs to has been read.
          pong_size = std::min(e.payload.size(), sizeof pong_payload);
          std::memcpy(pong_payload, e.payload.data(), pong_size);
          pong_due = true;
          if (handlers.on_ping) handlers.on_ping(self, e.payload);
        }
        break;
      case ws::EventKind::pong:
        ch.awaiting_pong_ = false;
        if (handlers.on_pong && !ch.close_sent_) handlers.on_pong(self, e.payload);
        break;
      case ws::EventKind::close: {
        // Answer a close with the same code (RFC 6455 §5.5.1), then hang up.
        CloseStatus why = close_status_of(e.code);
        // The handler hears the peer's code and reason now, while the
        // reason is in hand; the socket closes once the echo is out.
        const CloseInfo info{why, e.code, std::string(e.payload)};
        if (!ch.close_sent_) {
          std::string frame;
          uint16_t echo = e.code == ws::close_code::no_status ? 0 : e.code;
          ws::append_close_frame(frame, echo, {});
          ch.close_sent_ = true;
          ch.open_.store(false, std::memory_order_release);
          emit(c, frame);
        }
        if (c.closed()) return;
        ch.report_close(info);
        if (c.closed()) return;
        c.close_after_write = true;
        flush(c);
        if (c.closed()) return;
        if (c.output) {
          ch.close_reason_ = why;  // on_writable closes once the echo is out
        } else {
          close_connection(c, why);
        }
        return;
      }
      case ws::EventKind::error:
        ws_close(c, ch, e.code, e.payload);
        if (c.closed()) return;
        c.close_after_write = true;  // no more reading: the stream is in doubt
        flush(c);
        if (!c.closed() && !c.output) close_connection(c, close_status_of(e.code));
        return;
    }
    if (c.closed()) return;
  }
  if (assembler.idle()) {
    ch.assembler_.reset();
  } else if (!ch.assembler_) {
    ch.assembler_ = std::make_unique<ws::MessageAssembler>(std::move(local));
  }
}

void LoopServer::ws_apply(ServerConnection& c, ServerChannel& ch, ServerChannel::Outgoing& out) {
  using Op = ServerChannel::Op;
  if (ch.close_sent_) return;
  switch (out.op) {
    case Op::text:
    case Op::binary:
    case Op::response: {
      std::string_view payload = out.data;
      if (out.op == Op::response) {
        if (auto* s = std::get_if<std::string>(&out.response.body)) payload = *s;
      }
      ws::OutgoingFrame frame;
      frame.opcode = out.op == Op::binary ? ws::Opcode::binary : ws::Opcode::text;
      if (ch.deflate_) {
        frame_scratch_.clear();
        if (ch.deflate_->compress(payload, frame_scratch_)) {
          frame.rsv1 = true;
          payload = frame_scratch_;
        }
      }
      char header[ws::kMaxFrameHeader];
      std::size_t header_size = ws::write_frame_header(header, frame, payload.size());
      out_.append(header, header_size);
      out_.append(payload);
      if (out.close_after) ws_close(c, ch, 1000, {});
      return;
    }
    case Op::ping: {
      ws::append_ping_frame(out_, out.data);
      return;
    }
    case Op::close:
      ws_close(c, ch, out.code, out.data);
      return;
    case Op::abort:
      return;  // handled by channel_apply
    case Op::pull:
      return;  // HTTP streams only
  }
}

// Sends our close frame; the connection ends when the peer answers, or at
// the close deadline.
void LoopServer::ws_close(ServerConnection& c, ServerChannel& ch, uint16_t code,
                          std::string_view reason) {
  if (ch.close_sent_) return;
  ch.close_sent_ = true;
  ch.close_reason_ = close_status_of(code);
  ch.open_.store(false, std::memory_order_release);
  std::string frame;
  ws::append_close_frame(frame, code, reason);
  emit(c, frame);
  if (c.channel == &ch) arm(c, options_.ws_close_timeout);
}

void LoopServer::attach_deflate(ServerChannel& ch, const ws::DeflateParams& params) {
  if (!params.server_no_context_takeover || !params.client_no_context_takeover) {
    auto context = std::make_unique<ws::DeflateContext>(params, ws::Role::server, shared_deflate_);
    ch.deflate_ = context.get();
    kept_deflate_.emplace(ch.deflate_, std::move(context));
    return;
  }
  const auto index = [](uint8_t bits) { return std::clamp<int>(bits, 8, 15) - 8; };
  auto& slot = stateless_deflate_[index(params.server_max_window_bits) * 8 +
                                  index(params.client_max_window_bits)];
  if (!slot) slot = std::make_unique<ws::DeflateContext>(params, ws::Role::server, shared_deflate_);
  ch.deflate_ = slot.get();
}

void LoopServer::detach_deflate(ServerChannel& ch) {
  if (ch.deflate_ && ch.deflate_->keeps_context()) kept_deflate_.erase(ch.deflate_);
  ch.deflate_ = nullptr;
}

void LoopServer::arm_ws_timer(ServerConnection& c) {
  ServerChannel& ch = *c.channel;
  const uint64_t now = loop_.now_ms();
  uint64_t due = UINT64_MAX;
  if (ch.close_sent_)
    due = now + ms(options_.ws_close_timeout);
  else if (ch.awaiting_pong_)
    due = now + ms(options_.ws_pong_timeout);
  else {
    if (options_.ws_ping_interval.count() > 0)
      due = std::min(due, now - ch.idle_ms(now) + ms(options_.ws_ping_interval));
    if (options_.ws_idle_timeout.count() > 0)
      due = std::min(due, now - ch.idle_ms(now) + ms(options_.ws_idle_timeout));
  }
  if (due == UINT64_MAX) {
    loop_.timers().cancel(c.timer);
    return;
  }
  if (c.timer.armed() && ch.close_sent_) return;  // keep the first close deadline
  loop_.timers().arm(c.timer, now, due > now ? due - now : 0);
}

void LoopServer::ws_timer_fired(ServerConnection& c) {
  ServerChannel& ch = *c.channel;
  const uint64_t now = loop_.now_ms();
  if (ch.close_sent_) {  // the peer never answered our close
    close_connection(c, ch.close_reason_);
    return;
  }
  if (ch.awaiting_pong_) {  // a dead peer: it will not read a close frame either
    close_connection(c, CloseStatus::going_away);
    return;
  }
  const uint64_t idle = ch.idle_ms(now);
  if (options_.ws_idle_timeout.count() > 0 && idle >= ms(options_.ws_idle_timeout)) {
    ws_close(c, ch, 1001, "idle timeout");
    flush(c);
    return;
  }
  if (options_.ws_ping_interval.count() > 0 && idle >= ms(options_.ws_ping_interval)) {
    ws::append_ping_frame(out_, {});
    ch.awaiting_pong_ = true;
    flush(c);
    if (c.closed()) return;
    account_output(c);
    if (c.closed() || c.output) return;
  }
  arm_ws_timer(c);
}

}  // namespace httpkit::server
