// A client WebSocket after its 101: frames in through the message
// assembler, frames out masked (and deflated when agreed), the closing
// handshake with its timeout. Owned by its UpstreamConnection; the public
// WebSocket handle reaches it by posting to the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "httpkit/websocket_client.hpp"
#include "io/timer_wheel.hpp"
#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/handshake.hpp"
#include "ws/message_assembler.hpp"

namespace httpkit {

// What the public handle shares with its session.
struct WebSocket::State {
  std::mutex mutex;
  std::weak_ptr<client::WsSession> session;
  std::weak_ptr<client::ClientCore> core;
  bool open = false;
  bool closing = false;
  uint16_t close_code = 0;  // what on_close reported
  std::string subprotocol;
  bool deflate = false;
  std::size_t unsent = 0;  // bytes queued by send() and not yet written
  std::size_t max_unsent = 0;
};

namespace client {

class ClientCore;
class UpstreamConnection;
class WsSession;

struct WsTimer : io::TimerNode {
  WsSession* owner = nullptr;
};

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(ClientCore& core, WebSocketOptions options, WebSocketHandlers handlers,
            ws::ClientHandshake handshake);
  ~WsSession();

  const ws::ClientHandshake& handshake() const { return handshake_; }
  const std::shared_ptr<WebSocket>& handle() const { return handle_; }

  // The 101 was good: take over `c` (and the bytes that followed the head).
  void start(UpstreamConnection& c, std::string leftover, const ws::UpgradeResult& agreed);
  // The connection or handshake failed before start().
  void failed(const ClientError& error);

  void on_event(uint32_t events);
  void send_message(std::string_view data, bool binary);
  void send_ping(std::string_view payload);
  void begin_close(uint16_t code, std::string_view reason);

 private:
  static void on_close_timeout(io::TimerNode* node);
  static void on_ping_timer(io::TimerNode* node);
  void arm_ping_timer(uint64_t delay_ms);
  // Reads what the socket has; `peer_closing`: the event also said the
  // peer shut its side, so read to the end of stream.
  void read(bool peer_closing);
  // False once the session is over.
  bool process(char* data, std::size_t size);
  void queue_frame(ws::Opcode opcode, std::string_view payload, bool compressed);
  void flush();
  void finish(uint16_t code, std::string_view reason);
  // The handle says closed, with `code`.
  void mark_closed(uint16_t code);

  ClientCore& core_;
  WebSocketOptions options_;
  WebSocketHandlers handlers_;
  ws::ClientHandshake handshake_;
  std::shared_ptr<WebSocket> handle_;
  UpstreamConnection* conn_ = nullptr;
  ws::MessageAssembler assembler_;
  std::unique_ptr<ws::DeflateContext> deflate_;
  std::string outbox_;
  std::size_t out_offset_ = 0;
  std::size_t user_bytes_in_outbox_ = 0;
  WsTimer close_timer_;
  WsTimer ping_timer_;          // ping_interval / ping_timeout
  uint64_t last_input_ms_ = 0;  // the ping timer is re-armed lazily from this
  bool awaiting_pong_ = false;
  bool close_sent_ = false;
  bool finished_ = false;
};

}  // namespace client
}  // namespace httpkit
