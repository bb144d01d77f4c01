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
struct Connection;

// What the request that opened the channel means for its response.
struct ResponseContext {
  int version_minor = 1;
  bool keep_alive = true;
  bool head_method = false;
};

class ServerChannel final : public Channel, public std::enable_shared_from_this<ServerChannel> {
 public:
  ServerChannel(LoopServer& loop, Connection& connection,
                std::shared_ptr<const ChannelHandlers> handlers, const ResponseContext& ctx,
                bool websocket);

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

  // What a send asks the loop to do.
  enum class Op : uint8_t { text, binary, response, ping, close, abort };
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

  LoopServer& loop_;
  int fd_;
  uint32_t generation_;
  std::shared_ptr<const ChannelHandlers> handlers_;
  std::shared_ptr<ServerChannel> self_;  // the connection's reference, while open
  std::atomic<bool> open_{true};
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> dropped_{0};
  std::size_t output_counted_ = 0;  // loop only: this connection's unsent bytes in queued_
  ResponseContext ctx_;
  bool websocket_;
  bool above_low_water_ = false;  // loop only
  bool head_sent_ = false;        // HTTP only
  http::Framing framing_ = http::Framing::content_length;

  // WebSocket only (loop thread).
  bool close_sent_ = false;     // our close frame is out; waiting for the peer's
  bool awaiting_pong_ = false;  // a server ping is unanswered
  CloseStatus close_reason_ = CloseStatus::normal;  // reported once the socket closes
  uint64_t last_activity_ms_ = 0;
  std::unique_ptr<ws::DeflateContext> deflate_;      // when permessage-deflate was agreed
  std::unique_ptr<ws::MessageAssembler> assembler_;  // only while a frame is half-read
};

}  // namespace httpkit::server
