// The server's Channel: a handle any thread may hold, whose operations
// run on the loop that owns the connection.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "http/response_writer.hpp"
#include "httpkit/channel.hpp"
#include "ws/deflate.hpp"
#include "ws/message_assembler.hpp"

namespace httpkit::server {

class LoopServer;
struct ServerConnection;
struct HttpStream;

// What the request that opened the channel means for its response.
struct ResponseContext {
  uint8_t version_minor = 1;
  bool keep_alive = true;
  bool head_method = false;
};

class ServerChannel final : public Channel, public std::enable_shared_from_this<ServerChannel> {
 public:
  ServerChannel(LoopServer& loop, ServerConnection& connection,
                std::shared_ptr<const ChannelHandlers> handlers, const ResponseContext& ctx,
                bool websocket);
  ~ServerChannel() override;  // in http_stream.cpp, where HttpStream is complete

  bool send(std::string data, std::optional<bool> close_after) override;
  bool send_binary(std::string data) override;
  bool send_response(Response response, bool close_after) override;
  bool ping(std::string payload) override;
  bool close(uint16_t code, std::string_view reason) override;
  bool open() const override { return open_.load(std::memory_order_acquire); }
  bool is_websocket() const override { return websocket_; }
  std::size_t queued_bytes() const override { return queued_.load(std::memory_order_relaxed); }
  std::size_t dropped_messages() const override { return dropped_.load(std::memory_order_relaxed); }
  ScheduledTask schedule(std::chrono::milliseconds delay, std::function<void()> task) override;

  const ChannelHandlers& handlers() const { return *handlers_; }
  LoopServer& loop() const { return loop_; }

 private:
  friend class LoopServer;
  friend class WebSocketSession;

  // What a send asks the loop to do (pull: a StreamBody's next pieces).
  enum class Op : uint8_t { text, binary, response, ping, close, abort, pull };
  struct Outgoing {
    Op op;
    bool close_after = false;
    uint16_t code = 1000;
    std::string data;
    Response response;
  };

  // Checks the queue limits for `bytes` more; applies the overflow policy.
  bool admit(std::size_t bytes);
  bool submit(Outgoing out);

  // Tells the handler the channel closed (once: release_channel does not
  // again). Early for a WebSocket close frame, whose code and reason are
  // at hand only then.
  void report_close(const CloseInfo& info) {
    if (close_reported_) return;
    close_reported_ = true;
    if (handlers_->on_close) handlers_->on_close(shared_from_this(), info);
  }

  // Milliseconds since the last frame arrived (wraps every 49 days: fine
  // for timeouts shorter than that).
  uint64_t idle_ms(uint64_t now_ms) const { return uint32_t(uint32_t(now_ms) - last_activity_ms_); }

  // The fields are ordered by size so that an idle WebSocket connection's
  // channel, with its shared_ptr control block, is one 144-byte heap chunk
  // (see the static_assert below and bench/memory.sh --websocket).
  LoopServer& loop_;
  std::shared_ptr<const ChannelHandlers> handlers_;
  std::shared_ptr<ServerChannel> self_;  // the connection's reference, while open
  std::atomic<std::size_t> queued_{0};
  std::size_t output_counted_ = 0;  // loop only: this connection's unsent bytes in queued_
  // WebSocket with permessage-deflate agreed: a context its loop owns,
  // usually (no context takeover) shared with every connection of the same
  // window sizes, so deflate costs an idle connection nothing
  // (LoopServer::attach_deflate / detach_deflate).
  // An HTTP channel uses the slot for its output filters or stream body
  // (null when it has neither): the 120 bytes have no room for both.
  union {
    ws::DeflateContext* deflate_ = nullptr;  // websocket_ only
    HttpStream* http_;                       // !websocket_ only; owned
  };
  std::unique_ptr<ws::MessageAssembler> assembler_;  // only while a frame is half-read
  int fd_;
  uint32_t generation_;
  std::atomic<uint32_t> dropped_{0};
  uint32_t last_activity_ms_ = 0;  // WebSocket, loop only: the low 32 bits of now_ms()
  std::atomic<bool> open_{true};
  ResponseContext ctx_;
  const bool websocket_;
  http::BodyFraming framing_ = http::BodyFraming::content_length;
  CloseStatus close_reason_ = CloseStatus::normal;  // WebSocket: reported once the socket closes
  // Loop only. (Bit-fields share a byte: none may be read by other threads.)
  bool above_low_water_ : 1 = false;
  bool head_sent_ : 1 = false;       // HTTP only
  bool close_sent_ : 1 = false;      // WebSocket: our close frame is out; waiting for the peer's
  bool awaiting_pong_ : 1 = false;   // WebSocket: a server ping is unanswered
  bool close_reported_ : 1 = false;  // on_close ran
};

static_assert(sizeof(ServerChannel) <= 120, "an idle channel must fit a 144-byte heap chunk");

}  // namespace httpkit::server
