// Request bodies taken as they arrive, instead of buffered whole.
//
// The server reads a body before calling the handler, up to max_body. A
// body plan, consulted once a request's head is parsed, changes that per
// request: another limit, or streaming, where the handler is called at
// once (with an empty body) and takes the body piece by piece:
//
//   options.body_plan = [](const httpkit::Request& head) {
//     return httpkit::BodyPlan{.max_body = 4ull << 30, .stream = head.path() == "/upload"};
//   };  // or router.body_plan() from per-route options
//
//   Response upload(const httpkit::Request& req) {
//     auto sum = std::make_shared<uint64_t>(0);
//     return httpkit::receive_body(req, {
//         .on_data = [sum](const httpkit::RequestBodyPtr&, std::string_view bytes) {
//           *sum += bytes.size();  // the bytes are gone after the call
//         },
//         .on_end = [sum](const httpkit::RequestBodyPtr& body) {
//           body->respond(httpkit::Response::text(std::to_string(*sum) + "\n"));
//         }});
//   }
//
// The callbacks run on the connection's event loop thread, one at a time,
// in order, also when worker_threads > 0 (only the handler runs on the
// pool); they must not block. A piece is a view into the loop's read
// buffer, chunked framing removed: nothing of the body is held by the
// server, so memory stays flat whatever its size. pause() stops reading
// the socket, so TCP's window holds the client back; the body deadline
// does not run while the handler paused.
//
// `Expect: 100-continue` is answered when the handler takes the body; a
// handler that answers without receive_body refuses it (the connection
// closes after the answer, lingering so the client reads it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "httpkit/request.hpp"
#include "httpkit/response.hpp"

namespace httpkit {

// What to do with one request's body, decided at head time.
struct BodyPlan {
  std::optional<std::size_t> max_body = {};  // replaces ServerOptions::max_body (413 beyond)
  bool stream = false;                       // the handler takes the body with receive_body
};

using BodyPlanner = std::function<BodyPlan(const Request& head)>;

// Why a streamed body ended early. Where a response is still possible the
// server sends it itself (408, 413, 400) once on_abort returned.
enum class BodyAbort : uint8_t {
  peer_closed,   // the client went away (or the connection failed)
  timeout,       // no bytes within body_timeout (not counted while paused)
  too_large,     // beyond the plan's max_body: 413
  bad_framing,   // malformed chunked coding: 400
  server_closed  // the server stopped, or a write to the peer failed
};
std::string_view to_string(BodyAbort reason);

// The handle of a body being received. Any thread may hold and use it.
class RequestBody {
 public:
  virtual ~RequestBody() = default;
  // Stop and start reading the socket (idempotent; any thread). Pieces
  // already in hand may still arrive after pause() from another thread;
  // from on_data, pause() takes effect before the next piece.
  virtual void pause() = 0;
  virtual void resume() = 0;
  virtual bool paused() const = 0;
  // The answer, once (false after the first call). Before the body ended,
  // no more callbacks come, the rest of the body is not read and the
  // connection closes after the response (lingering, so the client gets
  // it). Any thread.
  virtual bool respond(Response response) = 0;
  // Body bytes delivered so far.
  virtual uint64_t received() const = 0;
};
using RequestBodyPtr = std::shared_ptr<RequestBody>;

struct BodyHandlers {
  std::function<void(const RequestBodyPtr&, std::string_view bytes)> on_data = {};
  std::function<void(const RequestBodyPtr&)> on_end = {};
  std::function<void(const RequestBodyPtr&, BodyAbort reason)> on_abort = {};
};

// The handler's answer that takes the body. For a request the plan did not
// stream (its body already read), the callbacks run before this returns,
// with the whole body in one piece, and on_end (or on_data) must respond:
// so a body handler works either way. Without a response it gives 500.
Response receive_body(const Request& request, BodyHandlers handlers);

}  // namespace httpkit
