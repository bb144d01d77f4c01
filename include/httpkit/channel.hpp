// Channels: a handler takes the connection and answers later, from any
// thread, once or many times (http-kit's as-channel). One abstraction
// covers long-polling, streaming, server-sent events and WebSocket.
//
//   static const auto handlers = std::make_shared<httpkit::ChannelHandlers>(
//       httpkit::ChannelHandlers{
//           .on_receive = [](const httpkit::ChannelPtr& ch, std::string_view msg, bool) {
//             ch->send(std::string(msg));  // echo
//           }});
//   server handler: return httpkit::as_channel(req, handlers);
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "httpkit/close_status.hpp"
#include "httpkit/request.hpp"
#include "httpkit/response.hpp"

namespace httpkit {

class Channel;
using ChannelPtr = std::shared_ptr<Channel>;

// The callbacks of a channel. They run on the channel's event loop, one at a
// time and in order; they must not block. They are fixed when the channel
// is created, before any event can fire.
struct ChannelHandlers {
  std::function<void(const ChannelPtr&)> on_open;
  std::function<void(const ChannelPtr&, std::string_view message, bool binary)> on_receive;
  std::function<void(const ChannelPtr&, std::string_view payload)> on_ping;
  // WebSocket: the peer's pong (an answer to ping(), or unsolicited).
  std::function<void(const ChannelPtr&, std::string_view payload)> on_pong;
  // Once, when the channel closed, with why (see CloseInfo; a callable
  // taking CloseStatus fits too).
  std::function<void(const ChannelPtr&, const CloseInfo&)> on_close;
  // The bytes queued for the peer fell below the low-water mark again.
  std::function<void(const ChannelPtr&)> on_drain;

  // A WebSocket upgrade request was refused (400, or 426 for another
  // version) by as_channel; `reason` says why. Runs on the thread that
  // called as_channel, before the refusal is returned.
  std::function<void(const Request&, std::string_view reason)> on_handshake_error;

  // WebSocket handshake choices.
  std::vector<std::string> subprotocols;  // supported, most preferred first
  bool permessage_deflate = true;         // accept the client's offer (RFC 7692)
};

// Whether a request is a valid RFC 6455 opening handshake (§4.2.1: GET,
// HTTP/1.1, Upgrade: websocket, Connection: upgrade, a 16-byte base64
// Sec-WebSocket-Key, Sec-WebSocket-Version: 13), and if not, the status
// as_channel would answer (400, or 426 for another version) and why.
struct HandshakeCheck {
  bool ok = false;
  int status = 400;         // 101 when ok
  std::string_view reason;  // static text; empty when ok
  explicit operator bool() const { return ok; }
};
HandshakeCheck websocket_handshake_check(const Request& request);

// A task scheduled on a loop; cancel() is safe from any thread and after it ran.
class ScheduledTask {
 public:
  ScheduledTask() = default;
  explicit ScheduledTask(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  void cancel() {
    if (cancel_) cancel_();
  }

 private:
  std::function<void()> cancel_;
};

class Channel {
 public:
  virtual ~Channel() = default;

  // Sends `data`: on WebSocket a message (text unless `binary`); on HTTP the
  // first send writes the status and headers (200, text/html unless given
  // through send_response) and later ones are chunks. With `close_after`
  // (the default on HTTP, not on WebSocket) the response or the socket ends
  // after it. Safe from any thread; false when the channel is closed or the
  // data was refused by the queue limits.
  virtual bool send(std::string data, std::optional<bool> close_after = std::nullopt) = 0;
  virtual bool send_binary(std::string data) = 0;
  // HTTP only: the first send with a status, headers and a first body part.
  virtual bool send_response(Response response, bool close_after = true) = 0;
  virtual bool ping(std::string payload = {}) = 0;
  // Idempotent. WebSocket: a close frame with `code`, then the close.
  virtual bool close(uint16_t code = 1000, std::string_view reason = {}) = 0;

  virtual bool open() const = 0;
  virtual bool is_websocket() const = 0;

  // Bytes accepted by send() that the kernel has not taken yet.
  virtual std::size_t queued_bytes() const = 0;
  // Messages refused because a queue limit was hit (the drop policy).
  virtual std::size_t dropped_messages() const = 0;

  // Runs `task` on the channel's loop after `delay`.
  virtual ScheduledTask schedule(std::chrono::milliseconds delay, std::function<void()> task) = 0;
};

// What a handler returns to take the connection as a channel. For a
// WebSocket upgrade request the server answers the handshake (101), or
// 400/426 when the handshake is invalid; otherwise the HTTP response waits
// for the channel's first send.
Response as_channel(const Request& request, std::shared_ptr<const ChannelHandlers> handlers);

// Runs `task` after `delay` on a process-wide timer loop (http-kit's
// schedule-task). Keep tasks short; hand long work to a thread.
ScheduledTask schedule_task(std::chrono::milliseconds delay, std::function<void()> task);

// Server-sent events on an HTTP channel: the head, `data:`/`event:`/`id:`
// lines, multi-line data, and a comment heartbeat.
class EventStream {
 public:
  // Sends the text/event-stream head and starts the heartbeat (0: none).
  explicit EventStream(ChannelPtr channel,
                       std::chrono::milliseconds heartbeat = std::chrono::seconds(15));
  ~EventStream();
  bool send(std::string_view data, std::string_view event = {}, std::string_view id = {});
  bool comment(std::string_view text);
  void close();
  const ChannelPtr& channel() const { return channel_; }

  // The wire form of one event (exposed for tests and other transports).
  static std::string format(std::string_view data, std::string_view event, std::string_view id);

 private:
  void arm_heartbeat();

  ChannelPtr channel_;
  std::chrono::milliseconds heartbeat_;
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace httpkit
