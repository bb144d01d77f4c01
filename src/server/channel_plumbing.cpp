// The loop's side of channels: taking a connection as a channel, writing
// what its sends ask for, and letting it go.
#include <cstdio>

#include "server/loop_server.hpp"

namespace httpkit::server {
namespace {

constexpr std::string_view kLastChunk = "0\r\n\r\n";

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;  // an empty chunk would end the body
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, std::size_t(n));
  out.append(data);
  out.append("\r\n");
}

}  // namespace

void LoopServer::start_channel(ServerConnection& c, const ResponseContext& ctx,
                               const ChannelBody& body) {
  auto channel = std::make_shared<ServerChannel>(*this, c, body.handlers, ctx, false);
  channel->self_ = channel;
  c.channel = channel.get();
  c.phase = Phase::busy;  // requests behind this one wait for the channel's answer
  loop_.timers().cancel(c.timer);
  if (channel->handlers().on_open) channel->handlers().on_open(channel);
}

void LoopServer::channel_apply(ServerChannel& ch, ServerChannel::Outgoing out) {
  const std::size_t bytes =
      out.op == ServerChannel::Op::response
          ? std::visit(
                [](const auto& b) -> std::size_t {
                  using B = std::decay_t<decltype(b)>;
                  if constexpr (std::is_same_v<B, std::string>) return b.size();
                  return 0;
                },
                out.response.body)
          : (out.op == ServerChannel::Op::text || out.op == ServerChannel::Op::binary
                 ? out.data.size()
                 : 0);
  // The message stays counted as queued until the socket has taken what it
  // will, and then leaves in the same change that counts what it refused
  // (account_output): a send racing on another thread never sees the queue
  // dip between the two and slips past the cap.
  const auto keep = ch.shared_from_this();  // ch outlives a close below
  const auto leave = [&] {
    ch.queued_.fetch_sub(bytes, std::memory_order_relaxed);
    shared_.queued_total.fetch_sub(bytes, std::memory_order_relaxed);
  };

  ServerConnection* found = find(ch.fd_, ch.generation_);
  if (!found || found->channel != &ch) return leave();
  ServerConnection& c = *found;
  ServingScope scope(*this, c);
  if (out.op == ServerChannel::Op::abort) {
    leave();
    close_connection(c, CloseStatus::server_close);
    return;
  }
  if (ch.websocket_) {
    ws_apply(c, ch, out);
  } else {
    http_channel_apply(c, ch, out);
  }
  if (c.closed() || scope.nested()) return leave();
  if (c.channel == &ch) {
    flush(c);
    if (!c.closed() && c.channel == &ch) return account_output(c, bytes);
    return leave();
  }
  leave();  // the response is complete: the channel is done with the queue
  if (scope.inside_another()) {
    // Serving the requests queued behind this response would parse heads
    // into the storage the other connection's handler still reads: later.
    flush(c);
    if (c.closed()) return;
    loop_.post([this, fd = c.fd, generation = c.generation] {
      if (ServerConnection* again = find(fd, generation)) {
        ServingScope later(*this, *again);
        resume(*again);
      }
    });
  } else {
    resume(c);  // the response is complete: serve what is queued behind it
  }
}

void LoopServer::http_channel_apply(ServerConnection& c, ServerChannel& ch,
                                    ServerChannel::Outgoing& out) {
  using Op = ServerChannel::Op;
  if (out.op == Op::ping) return;
  if (out.op == Op::close) {
    if (!ch.head_sent_ || ch.framing_ == http::BodyFraming::until_close) {
      // Nothing to finish cleanly: the close is the answer.
      c.close_after_write = true;
      finish_http_channel(c);
      return;
    }
    if (ch.framing_ == http::BodyFraming::chunked) emit(c, kLastChunk);
    finish_http_channel(c);
    return;
  }

  std::string_view data = out.data;
  if (out.op == Op::response) {
    if (auto* s = std::get_if<std::string>(&out.response.body)) data = *s;
    if (auto* v = std::get_if<std::string_view>(&out.response.body)) data = *v;
  }
  const bool send_body = !ch.ctx_.head_method;
  std::string& buffer = out_;  // ServingScope made it this connection's
  if (!ch.head_sent_) {
    static const Header kDefaultType[] = {{"Content-Type", "text/html; charset=utf-8"}};
    http::ResponseHead head;
    head.version_minor = ch.ctx_.version_minor;
    head.keep_alive = ch.ctx_.keep_alive && !draining_;
    head.date = date_.now();
    head.server = options_.server_header;
    head.headers = kDefaultType;
    if (out.op == Op::response) {
      head.status = out.response.status;
      head.headers = out.response.headers;
      head.keep_alive = head.keep_alive && !http::asks_to_close(out.response.headers);
    }
    if (out.close_after) {
      head.framing = http::BodyFraming::content_length;
      head.content_length = data.size();
    } else if (ch.ctx_.version_minor >= 1) {
      head.framing = http::BodyFraming::chunked;
    } else {
      head.framing = http::BodyFraming::until_close;  // HTTP/1.0 has no chunks
      head.keep_alive = false;
    }
    ch.framing_ = head.framing;
    ch.head_sent_ = true;
    if (!head.keep_alive) c.close_after_write = true;
    http::append_response_head(buffer, head);
    if (send_body) {
      if (head.framing == http::BodyFraming::chunked) {
        append_chunk(buffer, data);
      } else {
        buffer.append(data);
      }
    }
    if (out.close_after) finish_http_channel(c);
    return;
  }
  if (send_body) {
    if (ch.framing_ == http::BodyFraming::chunked) {
      append_chunk(buffer, data);
      if (out.close_after) buffer.append(kLastChunk);
    } else if (ch.framing_ == http::BodyFraming::until_close) {
      buffer.append(data);
    }
  }
  if (out.close_after) {
    if (ch.framing_ == http::BodyFraming::until_close) c.close_after_write = true;
    finish_http_channel(c);
  }
}

// The channel's response is complete; the connection goes back to serving
// requests (or closes, if the response said so).
void LoopServer::finish_http_channel(ServerConnection& c) {
  release_channel(c, CloseStatus::server_close);
  c.phase = Phase::idle;
}

void LoopServer::release_channel(ServerConnection& c, CloseStatus why) {
  ServerChannel& ch = *c.channel;
  c.channel = nullptr;
  ch.open_.store(false, std::memory_order_release);
  ch.assembler_.reset();
  detach_deflate(ch);
  // A WebSocket that ends without a close frame ended abnormally (1006).
  if (ch.websocket_ && why == CloseStatus::client_close) why = CloseStatus::abnormal;
  // Unsent bytes of a closed channel no longer count against the caps.
  shared_.queued_total.fetch_sub(ch.output_counted_, std::memory_order_relaxed);
  ch.queued_.fetch_sub(ch.output_counted_, std::memory_order_relaxed);
  ch.output_counted_ = 0;
  auto self = std::move(ch.self_);  // keeps the channel alive through on_close
  if (ch.handlers().on_close) ch.handlers().on_close(self, why);
}

// Counts the connection's unsent output as queued channel bytes (and takes
// `leaving`, a message just handed to the socket, off the queue in the same
// change), and tells the handler when the queue drained below the low-water
// mark.
void LoopServer::account_output(ServerConnection& c, std::size_t leaving) {
  ServerChannel& ch = *c.channel;
  const std::size_t unsent = c.output ? c.output->bytes.size() - c.output->offset : 0;
  const std::size_t counted = ch.output_counted_ + leaving;
  if (unsent >= counted) {
    ch.queued_.fetch_add(unsent - counted, std::memory_order_relaxed);
    shared_.queued_total.fetch_add(unsent - counted, std::memory_order_relaxed);
  } else {
    ch.queued_.fetch_sub(counted - unsent, std::memory_order_relaxed);
    shared_.queued_total.fetch_sub(counted - unsent, std::memory_order_relaxed);
  }
  ch.output_counted_ = unsent;
  std::size_t queued = ch.queued_.load(std::memory_order_relaxed);
  if (queued >= options_.channel_low_water) {
    ch.above_low_water_ = true;
  } else if (ch.above_low_water_) {
    ch.above_low_water_ = false;
    if (ch.handlers().on_drain) {
      auto self = ch.shared_from_this();
      ch.handlers().on_drain(self);
    }
  }
}

void LoopServer::emit(ServerConnection& c, std::string_view bytes) {
  ServingScope scope(*this, c);
  out_.append(bytes);
  if (!scope.nested()) flush(c);
}

}  // namespace httpkit::server
