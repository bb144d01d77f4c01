#include "server/server_channel.hpp"

#include "server/loop_server.hpp"

namespace httpkit::server {

ServerChannel::ServerChannel(LoopServer& loop, ServerConnection& connection,
                             std::shared_ptr<const ChannelHandlers> handlers,
                             const ResponseContext& ctx, bool websocket)
    : loop_(loop),
      handlers_(std::move(handlers)),
      fd_(connection.fd),
      generation_(connection.generation),
      ctx_(ctx),
      websocket_(websocket) {}

bool ServerChannel::admit(std::size_t bytes) {
  if (!open()) return false;
  const ServerOptions& o = loop_.options();
  std::size_t mine = queued_.load(std::memory_order_relaxed);
  std::size_t all = loop_.queued_total().load(std::memory_order_relaxed);
  // A message larger than a cap still goes out when nothing is queued:
  // the caps bound a backlog, not the size of one message.
  if ((mine && mine + bytes > o.channel_max_queued) || (all && all + bytes > o.max_queued_total)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    if (o.channel_overflow == ServerOptions::Overflow::close) {
      // The peer does not read: there is no point in a polite close.
      server::log_event(o, server_events::channel_overflow_closed);
      submit({Op::abort, true, 1008, {}, {}});
    }
    return false;
  }
  queued_.fetch_add(bytes, std::memory_order_relaxed);
  loop_.queued_total().fetch_add(bytes, std::memory_order_relaxed);
  return true;
}

bool ServerChannel::submit(Outgoing out) {
  if (!open()) return false;
  if (loop_.in_loop_thread()) {
    loop_.channel_apply(*this, std::move(out));
    return true;
  }
  loop_.post([self = shared_from_this(), out = std::move(out)]() mutable {
    self->loop_.channel_apply(*self, std::move(out));
  });
  return true;
}

bool ServerChannel::send(std::string data, std::optional<bool> close_after) {
  bool end = close_after.value_or(!websocket_);
  std::size_t n = data.size();
  if (!admit(n)) return false;
  return submit({Op::text, end, 1000, std::move(data), {}});
}

bool ServerChannel::send_binary(std::string data) {
  if (!admit(data.size())) return false;
  return submit({Op::binary, !websocket_, 1000, std::move(data), {}});
}

bool ServerChannel::send_response(Response response, bool close_after) {
  if (websocket_) return false;
  std::size_t n = 0;
  if (auto* s = std::get_if<std::string>(&response.body)) n = s->size();
  if (!admit(n)) return false;
  return submit({Op::response, close_after, 1000, {}, std::move(response)});
}

bool ServerChannel::ping(std::string payload) {
  if (!websocket_ || payload.size() > 125) return false;
  return submit({Op::ping, false, 1000, std::move(payload), {}});
}

bool ServerChannel::close(uint16_t code, std::string_view reason) {
  return submit({Op::close, true, code, std::string(reason), {}});
}

ScheduledTask ServerChannel::schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  return loop_.schedule(delay, std::move(task));
}

}  // namespace httpkit::server
