// Output filters: how middleware sees a response that is streamed (h2o's
// h2o_filter_t::on_setup_ostream is the model).
//
// A middleware that transforms bodies changes whole bodies when the
// handler returns. A channel's sends (SSE included) and a StreamBody's
// pieces are produced later, so it also attaches a set-up to the Response
// it returns:
//
//   Response r = next(request);
//   r.output_filters.push_back([](httpkit::OutputHead& head) -> std::unique_ptr<BodyFilter> {
//     head.headers.push_back({"X-Filtered", "1"});
//     return std::make_unique<MyFilter>();  // or nullptr: leave the body alone
//   });
//
// The server calls each set-up, in the order they were added (the
// innermost middleware's first), when it is about to write the head: for a
// channel at its first send, when status and headers are finally known.
// A set-up may edit the head and returns a BodyFilter, or null. The body
// filters then see every outgoing piece in the same order, before chunked
// framing. Set-ups and filters run on the connection's loop thread and
// must not block. They apply to HTTP channel output (send_response's body
// included) and to StreamBody. The server ignores them on whole bodies (a
// string, a FileBody: the middleware transforms those when the handler
// returns) and on WebSocket.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace httpkit {

struct Header;

// The head of a streamed response, as the server is about to write it.
struct OutputHead {
  int status;
  std::vector<Header>& headers;  // editable: as the server will write them
                                 // (a channel's default Content-Type included)
  bool head_method;              // the request was HEAD: no body will follow
};

// Transforms one streamed body. Used by one response, from one thread.
class BodyFilter {
 public:
  virtual ~BodyFilter() = default;
  // Appends the transformed form of `in` (maybe nothing yet) to `out`.
  // `flush`: what went in so far must reach the peer now (every channel
  // send flushes, so SSE events are not held back); `last`: the body ends
  // here and nothing follows. False when the filter cannot go on: the
  // server then ends the response by closing the connection.
  virtual bool process(std::string_view in, bool flush, bool last, std::string& out) = 0;
};

// Called once per response, when its head is about to be written.
using OutputFilter = std::function<std::unique_ptr<BodyFilter>(OutputHead& head)>;

}  // namespace httpkit
