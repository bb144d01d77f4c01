// receive_body: the answer that takes a streamed body, and the same
// callbacks run at once over a body the server already read.
#include <atomic>
#include <optional>

#include "httpkit/request_body.hpp"

namespace httpkit {
namespace {

// The handle of a body that was read whole: there is nothing to pause, and
// the answer is kept for receive_body to return.
class BufferedBody final : public RequestBody {
 public:
  explicit BufferedBody(uint64_t size) : size_(size) {}
  void pause() override {}
  void resume() override {}
  bool paused() const override { return false; }
  bool respond(Response response) override {
    if (response_) return false;
    response_ = std::move(response);
    return true;
  }
  uint64_t received() const override { return size_; }
  bool answered() const { return response_.has_value(); }
  std::optional<Response> take() { return std::move(response_); }

 private:
  uint64_t size_;
  std::optional<Response> response_;
};

}  // namespace

std::string_view to_string(BodyAbort reason) {
  switch (reason) {
    case BodyAbort::peer_closed:
      return "peer closed";
    case BodyAbort::timeout:
      return "body timeout";
    case BodyAbort::too_large:
      return "body too large";
    case BodyAbort::bad_framing:
      return "bad chunked framing";
    case BodyAbort::server_closed:
      return "server closed";
  }
  return "?";
}

Response receive_body(const Request& request, BodyHandlers handlers) {
  if (request.body_pending()) {
    Response r;
    r.body = ReceiveBody{std::make_shared<const BodyHandlers>(std::move(handlers))};
    return r;
  }
  const auto body = std::make_shared<BufferedBody>(request.body().size());
  const RequestBodyPtr handle = body;
  if (!request.body().empty() && handlers.on_data) handlers.on_data(handle, request.body());
  if (!body->answered() && handlers.on_end) handlers.on_end(handle);
  if (auto answer = body->take()) return std::move(*answer);
  return Response::text("Internal Server Error: the body's handler did not answer\n", 500);
}

}  // namespace httpkit
