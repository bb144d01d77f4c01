// A request body streamed to its handler (request_body.hpp): the handle
// any thread may hold, and the loop's per-request state behind it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "http/chunked_decoder.hpp"
#include "http/request_parser.hpp"
#include "httpkit/request_body.hpp"
#include "server/server_channel.hpp"

namespace httpkit::server {

class LoopServer;

inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

class BodyStreamHandle final : public RequestBody,
                               public std::enable_shared_from_this<BodyStreamHandle> {
 public:
  BodyStreamHandle(LoopServer& loop, int fd, uint32_t generation)
      : loop_(loop), fd_(fd), generation_(generation) {}

  void pause() override;
  void resume() override;
  bool paused() const override { return paused_.load(std::memory_order_acquire); }
  bool respond(Response response) override;
  uint64_t received() const override { return received_.load(std::memory_order_relaxed); }

 private:
  friend class LoopServer;
  void post_pause_change();

  LoopServer& loop_;
  const int fd_;
  const uint32_t generation_;
  std::atomic<bool> paused_{false};
  std::atomic<bool> responded_{false};
  std::atomic<uint64_t> received_{0};
};

// Loop thread only; lives from the head to the response (or the end).
struct BodyStream {
  std::shared_ptr<BodyStreamHandle> handle;
  std::shared_ptr<const BodyHandlers> handlers;  // null until the handler took the body
  ResponseContext ctx;
  http::BodyFraming framing = http::BodyFraming::content_length;
  uint64_t remaining = 0;  // Content-Length bytes still to come
  uint64_t max_body = 0;
  http::ChunkedDecoder chunked;
  bool expect_continue = false;
  bool ended = false;  // every byte delivered and on_end called
};

}  // namespace httpkit::server
