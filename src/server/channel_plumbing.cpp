// The loop's side of channels: taking a connection as a channel, writing
// what its sends ask for, and letting it go.
#include "server/http_stream.hpp"
#include "server/loop_server.hpp"
#include "ws/frame.hpp"

namespace httpkit::server {
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
  if (out.op == Op::pull) {
    pull_stream(c, ch);
    return;
  }
  if (out.op == Op::close) {
    if (!ch.head_sent_) {  // nothing to finish cleanly: the close is the answer
      c.close_after_write = true;
      finish_http_channel(c);
      return;
    }
    // The filters' tail and the chunked end; a close-delimited body ends
    // with the close itself.
    if (!write_stream_piece(c, ch, {}, true, true)) return;
    if (ch.framing_ == http::BodyFraming::until_close) c.close_after_write = true;
    finish_http_channel(c);
    return;
  }

  static const Header kDefaultType[] = {{"Content-Type", "text/html; charset=utf-8"}};
  std::string_view data = out.data;
  int status = 200;
  std::span<const Header> headers = kDefaultType;
  if (out.op == Op::response) {
    if (auto* s = std::get_if<std::string>(&out.response.body)) data = *s;
    if (auto* v = std::get_if<std::string_view>(&out.response.body)) data = *v;
    status = out.response.status;
    headers = out.response.headers;
  }
  if (!ch.head_sent_) {
    if (out.op == Op::response && !out.response.output_filters.empty()) {
      if (!ch.http_) ch.http_ = new HttpStream;
      for (OutputFilter& setup : out.response.output_filters)
        ch.http_->setups.push_back(std::move(setup));
    }
    if (!write_stream_head(c, ch, status, headers, out.close_after ? &data : nullptr)) return;
    if (out.close_after) {
      finish_http_channel(c);
      return;
    }
  }
  // Every send is flushed through the filters: a channel's messages (SSE
  // events) must reach the peer as they are sent.
  if (!write_stream_piece(c, ch, data, true, out.close_after)) return;
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
  if (ch.websocket_) {
    detach_deflate(ch);
  } else {
    delete ch.http_;  // the stream's filters (a compressor) go with it
    ch.http_ = nullptr;
  }
  // A WebSocket that ends without a close frame ended abnormally (1006).
  if (ch.websocket_ && why == CloseStatus::client_close) why = CloseStatus::abnormal;
  // Unsent bytes of a closed channel no longer count against the caps.
  shared_.queued_total.fetch_sub(ch.output_counted_, std::memory_order_relaxed);
  ch.queued_.fetch_sub(ch.output_counted_, std::memory_order_relaxed);
  ch.output_counted_ = 0;
  auto self = std::move(ch.self_);  // keeps the channel alive through on_close
  // A WebSocket whose peer sent a close frame was reported then, with its
  // code and reason (ws_consume); anything else had no close frame.
  ch.report_close(CloseInfo{why, uint16_t(ch.websocket_ ? ws::close_code::abnormal : 0), {}});
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
  if (!ch.websocket_ && !c.output) {
    // All written: a write deadline armed while the socket was full no
    // longer applies (an HTTP channel has no other timer).
    loop_.timers().cancel(c.timer);
    // A stream body pulls its next pieces once the socket took the last ones.
    if (ch.http_ && ch.http_->generator && ch.head_sent_) post_pull(ch);
  }
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
