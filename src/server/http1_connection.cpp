// The HTTP/1 request cycle (RFC 9112): bytes in, heads and bodies framed,
// handlers called inline or on the worker pool, pipelined requests answered
// in order.
#include <cstring>
#include <exception>

#include "server/loop_server.hpp"
#include "server/request_body_stream.hpp"
#include "server/request_builder.hpp"

namespace httpkit::server {
namespace {

// A batch of pipelined responses is written once it grows past this.
constexpr std::size_t kOutFlushThreshold = 256 * 1024;

// The one place a handler is called: what it throws becomes a 500, and
// goes to the error logger with the exception itself.
Response run_handler(const SharedState& shared, const Request& request) {
  try {
    return shared.handler(request);
  } catch (...) {
    log_event(shared.options, server_events::handler_threw);
    log_error(shared.options, "handler threw", std::current_exception());
  }
  return Response::text("Internal Server Error\n", 500);
}

}  // namespace

void LoopServer::on_readable(ServerConnection& c, bool peer_closing) {
  if (c.phase == Phase::websocket) {
    ws_readable(c, peer_closing);
    return;
  }
  if (busy(c)) {
    c.read_pending = true;
    return;
  }
  const io::IoResult r = stream(c).receive_all(peer_closing, [&](std::span<char> bytes) {
    consume(c, bytes.data(), bytes.size());
    if (c.closed() || c.phase == Phase::websocket) return false;
    if (busy(c)) c.read_pending = true;
    return !busy(c);
  });
  if (c.closed()) return;
  if (c.phase == Phase::websocket) {  // upgraded: the rest are frames
    c.read_pending = true;
    resume(c);
    return;
  }
  if (r.status == io::IoStatus::closed || r.status == io::IoStatus::failed) {
    if (c.streaming && c.phase != Phase::busy) {  // a body cut short: its handler hears it
      close_connection(c, CloseStatus::client_close);
      return;
    }
    // The peer closed (or the socket failed): answer what was complete.
    c.close_after_write = true;
    if (c.phase == Phase::busy) return;  // the handler's answer closes it
    flush(c);
    if (!c.closed() && !c.output) close_connection(c);
    return;
  }
  flush(c);
  if (!c.closed()) update_timer(c);
}

void LoopServer::consume(ServerConnection& c, char* data, std::size_t size) {
  if (size) c.stall_deadline = false;  // progress: a stall deadline starts over
  if (c.input) {
    c.input->bytes.append(data, size);
    drain_input(c);
    return;
  }
  for (;;) {
    if (c.streaming) {  // body bytes go to the handler from the read buffer
      const std::size_t used = feed_body(c, data, size);
      data += used;
      size -= used;
      if (c.closed() || c.close_after_write || !size) return;
      // Paused, or the body ended and its answer is not out: keep the rest.
      if (c.streaming || busy(c)) return stash(c, RequestProgress{}, data, size);
    }
    RequestProgress progress;
    const std::size_t used = process(c, data, size, progress);
    if (c.closed() || c.close_after_write) return;
    data += used;
    size -= used;
    if (!size) return;
    if (!c.streaming) return stash(c, progress, data, size);
  }
}

void LoopServer::drain_input(ServerConnection& c) {
  while (c.input) {
    PendingInput& in = *c.input;
    if (c.streaming) {
      const std::size_t used = feed_body(c, in.bytes.data(), in.bytes.size());
      if (c.closed()) return;
      if (c.close_after_write) {
        c.input.reset();
        return;
      }
      in.bytes.erase(0, used);
      if (in.bytes.empty()) {
        c.input.reset();
        return;
      }
      if (c.streaming || busy(c)) return;
    }
    const std::size_t used = process(c, in.bytes.data(), in.bytes.size(), in.progress);
    if (c.closed()) return;
    if (c.close_after_write) {
      c.input.reset();
      return;
    }
    in.bytes.erase(0, used);
    RequestProgress& p = in.progress;
    if (p.raw_pos > p.body_end) {  // drop chunk framing that was decoded away
      in.bytes.erase(p.body_end, p.raw_pos - p.body_end);
      p.raw_pos = p.body_end;
    }
    if (in.bytes.empty()) {
      c.input.reset();
      return;
    }
    if (!c.streaming) return;  // else the rest is the streamed request's body
  }
}

// Keeps the unfinished request (and anything behind it) for the next read.
void LoopServer::stash(ServerConnection& c, const RequestProgress& p, const char* base,
                       std::size_t size) {
  auto in = std::make_unique<PendingInput>();
  in->progress = p;
  if (p.framing == http::BodyFraming::content_length && p.head_length)
    in->bytes.reserve(p.head_length + p.content_length);
  in->bytes.append(base, p.body_end);
  in->bytes.append(base + p.raw_pos, size - p.raw_pos);
  in->progress.raw_pos = p.body_end;
  c.input = std::move(in);
}

// Answers every complete request in [base, base+size); returns the bytes
// they took. `progress` describes the first request and, on return, the
// unfinished one at the returned offset.
std::size_t LoopServer::process(ServerConnection& c, char* base, std::size_t size,
                                RequestProgress& progress) {
  std::size_t pos = 0;
  while (pos < size && !busy(c)) {
    std::size_t request_end = 0;
    if (advance(c, progress, base + pos, size - pos, request_end) != Step::complete) break;
    dispatch(c, progress, base + pos);
    if (c.closed()) return pos;
    pos += request_end;
    progress = RequestProgress{};
    if (c.streaming) return pos;  // its body follows: the caller hands it over
    // The next head's deadline runs from its own first byte: update_timer
    // starts a header deadline only for a connection not already reading.
    if (c.phase == Phase::reading) c.phase = Phase::idle;
    if (out_.size() > kOutFlushThreshold) {
      flush(c);
      if (c.closed()) return pos;
    }
  }
  return pos;
}

LoopServer::Step LoopServer::advance(ServerConnection& c, RequestProgress& p, char* base,
                                     std::size_t size, std::size_t& request_end) {
  std::string_view bytes(base, size);
  if (!p.head_length) {
    http::RequestHead head;
    const std::size_t end = http::find_head_end(bytes, p.scan_from);
    auto parsed = http::parse_request_head(end ? bytes.substr(0, end) : bytes, shared_.parse_limits,
                                           header_storage_.data(), header_storage_.size(), head);
    if (parsed.status == http::ParseStatus::error) {
      fail(c, http::status_of(parsed.error), http::to_string(parsed.error), bytes);
      return Step::failed;
    }
    if (!end || parsed.status == http::ParseStatus::incomplete) {
      p.scan_from = size > 3 ? size - 3 : 0;
      return Step::need_more;
    }
    // dispatch() reuses this parse when the bytes have not moved meanwhile.
    parsed_head_ = head;
    parsed_head_base_ = base;
    p.head_length = head.head_length;
    p.framing = head.framing;
    p.content_length = head.content_length;
    p.body_end = p.raw_pos = p.head_length;
    p.max_body = options_.max_body;
    if (options_.body_plan && !plan_body(c, head, p)) {
      fail(c, 500, "Internal Server Error", bytes);
      return Step::failed;
    }
    if (p.framing == http::BodyFraming::content_length && p.content_length > p.max_body) {
      fail(c, 413, "request body too large", bytes);
      return Step::failed;
    }
    if (p.stream) {  // the handler is called now and takes the body as it comes
      request_end = p.head_length;
      return Step::complete;
    }
    const bool body_missing = (p.framing == http::BodyFraming::content_length &&
                               size - p.head_length < p.content_length) ||
                              (p.framing == http::BodyFraming::chunked && size == p.head_length);
    if (head.expect_continue && head.version_minor == 1 && body_missing && !p.continue_sent) {
      out_.append(kContinue);
      p.continue_sent = true;
    }
  }
  switch (p.framing) {
    case http::BodyFraming::none:
      request_end = p.head_length;
      return Step::complete;
    case http::BodyFraming::until_close:  // never for a request: the field rules refuse it
      fail(c, 400, "invalid framing", bytes);
      return Step::failed;
    case http::BodyFraming::content_length:
      if (size - p.head_length >= p.content_length) {
        p.body_end = p.raw_pos = p.head_length + p.content_length;
        request_end = p.body_end;
        return Step::complete;
      }
      p.body_end = p.raw_pos = size;
      return Step::need_more;
    case http::BodyFraming::chunked: {
      // Decoded bytes move down over the framing they came with, so the
      // body ends up contiguous behind the head.
      http::ChunkedLimits limits = shared_.chunked_limits;
      limits.max_body = p.max_body;
      auto step = p.chunked.decode(base + p.raw_pos, size - p.raw_pos, limits);
      if (step.decoded && p.raw_pos != p.body_end)
        std::memmove(base + p.body_end, base + p.raw_pos, step.decoded);
      p.body_end += step.decoded;
      p.raw_pos += step.consumed;
      switch (step.status) {
        case http::ChunkedStatus::done:
          request_end = p.raw_pos;
          return Step::complete;
        case http::ChunkedStatus::more:
          return Step::need_more;
        case http::ChunkedStatus::too_large:
          fail(c, 413, "request body too large", bytes);
          break;
        case http::ChunkedStatus::bad:
          fail(c, 400, "invalid chunked body", bytes);
          break;
      }
      return Step::failed;
    }
  }
  return Step::failed;
}

void LoopServer::fail(ServerConnection& c, int status, std::string_view reason,
                      std::string_view request) {
  // A response to HEAD has no body (RFC 9112 §6.3), even an error's. The
  // method is read off the raw bytes: the head may not have parsed.
  const std::size_t start = request.find_first_not_of("\r\n");
  const bool head_method = start != std::string_view::npos && request.substr(start, 5) == "HEAD ";
  std::string body;
  if (!head_method) {
    body.assign(reason);
    body.push_back('\n');
  }
  http::append_simple_response(out_, status, body, date_.now(), options_.server_header,
                               /*keep_alive=*/false);
  c.close_after_write = true;
  c.linger = true;  // the rest of the request may still be on its way
}

void LoopServer::dispatch(ServerConnection& c, const RequestProgress& p, const char* base) {
  http::RequestHead head = parsed_head_;
  if (parsed_head_base_ != base || head.head_length != p.head_length) {
    http::parse_request_head({base, p.head_length}, shared_.parse_limits, header_storage_.data(),
                             header_storage_.size(), head);
  }
  parsed_head_base_ = nullptr;
  const Request request = RequestBuilder::from_head(
      head, {base + p.head_length, p.body_end - p.head_length}, c.fd, stream(c).secure(), p.stream);
  const ResponseContext ctx{uint8_t(head.version_minor), head.keep_alive && !draining_,
                            head.method == "HEAD"};
  if (p.stream) begin_body_stream(c, p, head.expect_continue && head.version_minor == 1, ctx);

  if (!shared_.pool) {
    answer(c, ctx, run_handler(shared_, request));
    return;
  }

  // Off the loop: the request must own its bytes, and the answer comes back
  // as a posted task that finds the connection again by fd and generation.
  const int fd = c.fd;
  const uint32_t generation = c.generation;
  const SharedState* shared = &shared_;
  const bool queued =
      shared_.pool->submit([this, shared, fd, generation, ctx, request = request.detached()]() {
        loop_.post([this, fd, generation, ctx, response = run_handler(*shared, request)]() {
          complete_async(fd, generation, ctx, response);
        });
      });
  if (!queued) {
    log_event(shared_.options, server_events::queue_full);
    answer(c, ctx, Response::text("Service Unavailable: handler queue full\n", 503));
    return;
  }
  c.phase = Phase::busy;
  loop_.timers().cancel(c.timer);
}

void LoopServer::complete_async(int fd, uint32_t generation, const ResponseContext& ctx,
                                const Response& response) {
  ServerConnection* c = find(fd, generation);
  if (!c) return;  // closed meanwhile
  ServingScope scope(*this, *c);
  c->phase = Phase::idle;
  ResponseContext effective = ctx;
  if (draining_) effective.keep_alive = false;
  answer(*c, effective, response);
  resume(*c);
}

void LoopServer::answer(ServerConnection& c, const ResponseContext& ctx, const Response& response) {
  if (c.streaming && !std::holds_alternative<ReceiveBody>(response.body)) {
    // Answered without taking the body (a refusal, an error): it is not
    // read, so the connection ends after the answer, lingering so that the
    // client reads it.
    drop_body_stream(c);
    c.input.reset();
    c.close_after_write = true;
    c.linger = true;
  }
  write_response(c, ctx, response);
}

// Asks the server's body plan about the request whose head is parsed;
// false when the plan threw.
bool LoopServer::plan_body(ServerConnection& c, const http::RequestHead& head, RequestProgress& p) {
  BodyPlan plan;
  try {
    plan = options_.body_plan(RequestBuilder::from_head(head, {}, c.fd, stream(c).secure()));
  } catch (...) {
    log_error(options_, "body_plan threw", std::current_exception());
    return false;
  }
  if (plan.max_body) p.max_body = *plan.max_body;
  // A body streams only if there is one.
  p.stream = plan.stream && (p.framing == http::BodyFraming::chunked ||
                             (p.framing == http::BodyFraming::content_length && p.content_length));
  return true;
}

}  // namespace httpkit::server
