#include "server/loop_server.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <exception>

#include "io/socket.hpp"
#include "server/request_builder.hpp"

namespace httpkit::server {
namespace {

// Bodies above this go out with writev instead of being copied behind the head.
constexpr std::size_t kCopyBodyLimit = 32 * 1024;
// A batch of pipelined responses is written once it grows past this.
constexpr std::size_t kOutFlushThreshold = 256 * 1024;
constexpr uint64_t kAcceptRetryMs = 100;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

Connection& owner_of(io::TimerNode* node) {
  return *reinterpret_cast<Connection*>(reinterpret_cast<char*>(node) -
                                        offsetof(Connection, timer));
}

uint64_t ms(std::chrono::milliseconds d) {
  return uint64_t(d.count());
}

}  // namespace

SharedState::SharedState(Handler h, const ServerOptions& o, std::size_t process_limit)
    : handler(std::move(h)), options(o), table(descriptor_limit()), max_connections(process_limit) {
  parse_limits.max_request_line = o.max_line;
  parse_limits.max_head_bytes = std::max(o.max_head, o.max_line);
  parse_limits.max_headers = o.max_headers;
  chunked_limits.max_body = o.max_body;
  chunked_limits.max_trailers = std::max(o.max_head, o.max_line);
  if (o.worker_threads > 0) pool = std::make_unique<HandlerPool>(o.worker_threads, o.worker_queue);
}

LoopServer::LoopServer(SharedState& shared, int listen_fd)
    : shared_(shared),
      options_(shared.options),
      listen_fd_(listen_fd),
      read_buffer_(new char[kReadBufferSize]),
      header_storage_(shared.options.max_headers) {
  listener_kind_ = loop_.register_kind(&LoopServer::on_listener_event, this);
  connection_kind_ = loop_.register_kind(&LoopServer::on_connection_event, this);
  loop_.add(listen_fd_, io::kReadable, listener_kind_);
  out_.reserve(kReadBufferSize);
  stop_timer_.fire = &LoopServer::on_stop_timer;
  stop_timer_.self = this;
  accept_retry_timer_.fire = &LoopServer::on_accept_retry;
  accept_retry_timer_.self = this;
}

LoopServer::~LoopServer() {
  if (listen_fd_ >= 0) close(listen_fd_);
}

void LoopServer::run() {
  loop_.run();
}

// ---------------------------------------------------------------- accepting

void LoopServer::on_listener_event(void* self, int, uint32_t) {
  static_cast<LoopServer*>(self)->accept_all();
}

void LoopServer::on_accept_retry(io::TimerNode* node) {
  static_cast<LoopTimer*>(node)->self->accept_all();
}

void LoopServer::accept_all() {
  if (listen_fd_ < 0) return;
  accepting_paused_ = false;
  for (;;) {
    if (shared_.connections.load(std::memory_order_relaxed) >= shared_.max_connections) {
      // Leave the rest in the backlog. A close on this loop resumes at once;
      // the timer covers closes on the process's other loops.
      accepting_paused_ = true;
      loop_.timers().arm(accept_retry_timer_, loop_.now_ms(), kAcceptRetryMs);
      return;
    }
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        accepting_paused_ = true;
        loop_.timers().arm(accept_retry_timer_, loop_.now_ms(), kAcceptRetryMs);
      }
      return;  // EAGAIN: the backlog is empty
    }
    if (!shared_.table.fits(fd)) {
      close(fd);
      continue;
    }
    io::set_nodelay(fd);
    Connection& c = shared_.table.at(fd);
    uint32_t generation = c.generation + 1;
    c = Connection{};
    c.fd = fd;
    c.owner = this;
    c.generation = generation;
    c.timer.fire = &LoopServer::on_connection_timer;
    connections_.fetch_add(1, std::memory_order_relaxed);
    shared_.connections.fetch_add(1, std::memory_order_relaxed);
    // A connection must send its first request within the header timeout.
    c.phase = Phase::reading;
    loop_.timers().arm(c.timer, loop_.now_ms(), ms(options_.header_timeout));
    if (!loop_.add(fd, io::kReadable | io::kWritable, connection_kind_)) close_connection(c);
  }
}

void LoopServer::close_connection(Connection& c, CloseStatus why) {
  if (c.channel) release_channel(c, why);
  if (serving_ == &c) out_.clear();
  loop_.timers().cancel(c.timer);
  delete c.input;
  if (c.output && c.output->file_fd >= 0) close(c.output->file_fd);
  delete c.output;
  // The slot is shared by every loop of the process: the moment the fd is
  // closed another loop may accept the same number and fill the slot, so
  // leave it clean first and close last.
  const int fd = c.fd;
  c.input = nullptr;
  c.output = nullptr;
  c.owner = nullptr;
  c.fd = -1;
  c.generation++;
  close(fd);
  connections_.fetch_sub(1, std::memory_order_relaxed);
  shared_.connections.fetch_sub(1, std::memory_order_relaxed);
  if (draining_ && connection_count() == 0) loop_.stop();
  if (accepting_paused_) accept_all();
}

// ------------------------------------------------------------------ events

void LoopServer::on_connection_event(void* self_ptr, int fd, uint32_t events) {
  auto* self = static_cast<LoopServer*>(self_ptr);
  Connection& c = self->shared_.table.at(fd);
  if (c.owner != self) return;
  ServingScope scope(*self, c);
  uint32_t generation = c.generation;
  // A long-poll or stream waits with reading paused: a hang-up is the only
  // sign that its client left.
  if (c.channel && c.phase == Phase::busy && (events & (io::kPeerClosed | io::kFailed))) {
    self->close_connection(c, CloseStatus::client_close);
    return;
  }
  if ((events & io::kWritable) && c.output) {
    self->on_writable(c);
    if (c.generation != generation) return;
  }
  if (events & (io::kReadable | io::kPeerClosed | io::kFailed)) {
    // Bytes and the peer's FIN can arrive in one edge: read on to the EOF
    // rather than stop at the short read, or the close is never seen.
    self->hangup_seen_ = events & (io::kPeerClosed | io::kFailed);
    self->on_readable(c);
    self->hangup_seen_ = false;
  }
}

void LoopServer::on_readable(Connection& c) {
  if (c.phase == Phase::websocket) {
    ws_readable(c);
    return;
  }
  if (c.phase == Phase::busy || c.output || c.close_after_write) {
    c.read_pending = true;
    return;
  }
  const uint32_t generation = c.generation;
  for (;;) {
    ssize_t n = recv(c.fd, read_buffer_.get(), kReadBufferSize, 0);
    if (n > 0) {
      consume(c, read_buffer_.get(), std::size_t(n));
      if (c.generation != generation) return;  // closed while answering
      if (c.phase == Phase::websocket) {       // upgraded: the rest are frames
        c.read_pending = true;
        resume(c);
        return;
      }
      if (busy(c)) {
        c.read_pending = true;
        break;
      }
      // A short read emptied the socket: edge-triggered readiness reports new bytes.
      if (std::size_t(n) < kReadBufferSize && !hangup_seen_) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // The peer closed (or the socket failed): answer what was complete.
    c.close_after_write = true;
    if (c.phase == Phase::busy) return;  // the handler's answer closes it
    flush(c);
    if (c.generation == generation && !c.output) close_connection(c);
    return;
  }
  flush(c);
  if (c.generation == generation) update_timer(c);
}

void LoopServer::on_writable(Connection& c) {
  const uint32_t generation = c.generation;
  bool drained = continue_output(c);
  if (c.generation != generation) return;
  if (c.channel) account_output(c);
  if (!drained || c.generation != generation) return;
  if (c.phase == Phase::websocket) {
    if (c.close_after_write) {
      close_connection(c, c.channel->close_reason_);
    } else {
      resume(c);
    }
    return;
  }
  if (c.channel) return;  // an HTTP stream: its channel decides what comes next
  if (c.close_after_write) {
    close_connection(c);
    return;
  }
  resume(c);
}

// Picks up after a response went out: pipelined bytes, then the socket.
void LoopServer::resume(Connection& c) {
  const uint32_t generation = c.generation;
  if (c.phase == Phase::websocket) {
    if (c.input) {  // frames that came in behind the upgrade request
      PendingInput* in = c.input;
      c.input = nullptr;
      ws_consume(c, in->bytes.data(), in->bytes.size());
      delete in;
      if (c.generation != generation) return;
    }
    if (c.read_pending && !c.output) {
      c.read_pending = false;
      ws_readable(c);
      return;
    }
    flush(c);
    if (c.generation == generation) update_timer(c);
    return;
  }
  if (c.input) {
    drain_input(c);
    if (c.generation != generation) return;
  }
  if (!busy(c) && c.read_pending) {
    c.read_pending = false;
    on_readable(c);  // flushes and sets the timer
    return;
  }
  flush(c);
  if (c.generation == generation) update_timer(c);
}

// ---------------------------------------------------------------- requests

bool LoopServer::consume(Connection& c, char* data, std::size_t size) {
  if (c.input) {
    c.input->bytes.append(data, size);
    drain_input(c);
    return true;
  }
  RequestProgress progress;
  std::size_t used = process(c, data, size, progress);
  if (used < size && !c.close_after_write && c.open()) stash(c, progress, data + used, size - used);
  return true;
}

void LoopServer::drain_input(Connection& c) {
  PendingInput& in = *c.input;
  const uint32_t generation = c.generation;
  std::size_t used = process(c, in.bytes.data(), in.bytes.size(), in.progress);
  if (c.generation != generation) return;
  if (c.close_after_write) {
    delete c.input;
    c.input = nullptr;
    return;
  }
  in.bytes.erase(0, used);
  RequestProgress& p = in.progress;
  if (p.raw_pos > p.body_end) {  // drop chunk framing that was decoded away
    in.bytes.erase(p.body_end, p.raw_pos - p.body_end);
    p.raw_pos = p.body_end;
  }
  if (in.bytes.empty()) {
    delete c.input;
    c.input = nullptr;
  }
}

// Keeps the unfinished request (and anything behind it) for the next read.
void LoopServer::stash(Connection& c, const RequestProgress& p, const char* base,
                       std::size_t size) {
  auto* in = new PendingInput;
  in->progress = p;
  if (p.framing == http::BodyFraming::content_length && p.head_length)
    in->bytes.reserve(p.head_length + p.content_length);
  in->bytes.append(base, p.body_end);
  in->bytes.append(base + p.raw_pos, size - p.raw_pos);
  in->progress.raw_pos = p.body_end;
  c.input = in;
}

// Answers every complete request in [base, base+size); returns the bytes
// they took. `progress` describes the first request and, on return, the
// unfinished one at the returned offset.
std::size_t LoopServer::process(Connection& c, char* base, std::size_t size,
                                RequestProgress& progress) {
  const uint32_t generation = c.generation;
  std::size_t pos = 0;
  while (pos < size && !busy(c)) {
    std::size_t request_end = 0;
    Step step = advance(c, progress, base + pos, size - pos, request_end);
    if (step != Step::complete) break;
    dispatch(c, progress, base + pos);
    if (c.generation != generation) return pos;
    pos += request_end;
    progress = RequestProgress{};
    // The next head's deadline runs from its own first byte: update_timer
    // starts a header deadline only for a connection not already reading.
    if (c.phase == Phase::reading) c.phase = Phase::idle;
    if (out_.size() > kOutFlushThreshold) {
      flush(c);
      if (c.generation != generation) return pos;
    }
  }
  return pos;
}

LoopServer::Step LoopServer::advance(Connection& c, RequestProgress& p, char* base,
                                     std::size_t size, std::size_t& request_end) {
  std::string_view bytes(base, size);
  http::RequestHead head;
  if (!p.head_length) {
    std::size_t end = http::find_head_end(bytes, p.scan_from);
    auto parsed = http::parse_request_head(end ? bytes.substr(0, end) : bytes, shared_.parse_limits,
                                           header_storage_.data(), header_storage_.size(), head);
    if (parsed.status == http::ParseStatus::error) {
      fail(c, http::status_of(parsed.error), http::reason_of(parsed.error), bytes);
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
    if (p.framing == http::BodyFraming::content_length && p.content_length > options_.max_body) {
      fail(c, 413, "request body too large", bytes);
      return Step::failed;
    }
    bool body_missing = (p.framing == http::BodyFraming::content_length &&
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
    case http::BodyFraming::content_length:
      if (size - p.head_length >= p.content_length) {
        p.body_end = p.raw_pos = p.head_length + p.content_length;
        request_end = p.body_end;
        return Step::complete;
      }
      p.body_end = p.raw_pos = size;
      return Step::need_more;
    case http::BodyFraming::chunked: {
      auto step = p.chunked.decode(base + p.raw_pos, size - p.raw_pos, shared_.chunked_limits);
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

void LoopServer::fail(Connection& c, int status, std::string_view reason,
                      std::string_view request) {
  // A response to HEAD has no body (RFC 9112 §6.3), even an error's. The
  // method is read off the raw bytes: the head may not have parsed.
  std::size_t start = request.find_first_not_of("\r\n");
  bool head_method = start != std::string_view::npos && request.substr(start, 5) == "HEAD ";
  std::string body;
  if (!head_method) {
    body.assign(reason);
    body.push_back('\n');
  }
  http::append_simple_response(out_, status, body, date_.now(), options_.server_header,
                               /*keep_alive=*/false);
  c.close_after_write = true;
}

void LoopServer::dispatch(Connection& c, const RequestProgress& p, const char* base) {
  http::RequestHead head = parsed_head_;
  if (parsed_head_base_ != base || head.head_length != p.head_length) {
    http::parse_request_head({base, p.head_length}, shared_.parse_limits, header_storage_.data(),
                             header_storage_.size(), head);
  }
  parsed_head_base_ = nullptr;
  Request request =
      RequestBuilder::from_head(head, {base + p.head_length, p.body_end - p.head_length}, c.fd);
  ResponseContext ctx{uint8_t(head.version_minor), head.keep_alive && !draining_,
                      head.method == "HEAD"};

  if (!shared_.pool) {
    try {
      write_response(c, ctx, shared_.handler(request));
    } catch (const std::exception& e) {
      if (options_.log_error) options_.log_error(std::string("handler threw: ") + e.what());
      write_response(c, ctx, Response::text("Internal Server Error\n", 500));
    } catch (...) {
      write_response(c, ctx, Response::text("Internal Server Error\n", 500));
    }
    return;
  }

  // Off the loop: the request must own its bytes, and the answer comes back
  // as a posted task that finds the connection again by fd and generation.
  const int fd = c.fd;
  const uint32_t generation = c.generation;
  SharedState* shared = &shared_;
  bool queued =
      shared_.pool->submit([this, shared, fd, generation, ctx, request = request.detached()]() {
        Response response;
        try {
          response = shared->handler(request);
        } catch (const std::exception& e) {
          if (shared->options.log_error)
            shared->options.log_error(std::string("handler threw: ") + e.what());
          response = Response::text("Internal Server Error\n", 500);
        } catch (...) {
          response = Response::text("Internal Server Error\n", 500);
        }
        loop_.post([this, fd, generation, ctx, response = std::move(response)]() {
          complete_async(fd, generation, ctx, response);
        });
      });
  if (!queued) {
    write_response(c, ctx, Response::text("Service Unavailable: handler queue full\n", 503));
    return;
  }
  c.phase = Phase::busy;
  loop_.timers().cancel(c.timer);
}

void LoopServer::complete_async(int fd, uint32_t generation, const ResponseContext& ctx,
                                const Response& response) {
  Connection& c = shared_.table.at(fd);
  if (c.owner != this || c.generation != generation) return;  // closed meanwhile
  ServingScope scope(*this, c);
  c.phase = Phase::idle;
  ResponseContext effective = ctx;
  if (draining_) effective.keep_alive = false;
  write_response(c, effective, response);
  resume(c);
}

// --------------------------------------------------------------- responses

void LoopServer::write_response(Connection& c, const ResponseContext& ctx,
                                const Response& response) {
  http::ResponseHead head;
  head.status = response.status;
  head.version_minor = ctx.version_minor;
  head.keep_alive = ctx.keep_alive && !http::asks_to_close(response.headers);
  head.date = date_.now();
  head.server = options_.server_header;
  head.headers = response.headers;

  const bool no_body = response.status < 200 || response.status == 204 || response.status == 304;
  std::string_view memory_body;
  int file_fd = -1;
  std::size_t file_size = 0;
  if (auto* s = std::get_if<std::string>(&response.body)) memory_body = *s;
  if (auto* v = std::get_if<std::string_view>(&response.body)) memory_body = *v;
  if (auto* channel = std::get_if<ChannelBody>(&response.body)) {
    if (channel->websocket) {
      start_websocket(c, ctx, *channel);
    } else {
      start_channel(c, ctx, *channel);
    }
    return;
  }
  if (auto* f = std::get_if<FileBody>(&response.body)) {
    file_fd = open(f->path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (file_fd < 0 || fstat(file_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      if (file_fd >= 0) close(file_fd);
      write_response(c, ctx, Response::not_found());
      return;
    }
    file_size = std::size_t(st.st_size);
  }
  head.framing = no_body ? http::Framing::no_body : http::Framing::content_length;
  head.content_length = file_fd >= 0 ? file_size : memory_body.size();
  http::append_response_head(out_, head);
  if (!head.keep_alive) c.close_after_write = true;

  const bool send_body = !no_body && !ctx.head_method;
  if (file_fd >= 0) {
    if (send_body && file_size) {
      send_file(c, file_fd, 0, file_size);
    } else {
      close(file_fd);
    }
    return;
  }
  if (!send_body || memory_body.empty()) return;
  if (memory_body.size() <= kCopyBodyLimit) {
    out_.append(memory_body);
  } else {
    write_with_body(c, memory_body);
  }
}

// Writes out_ to the socket; what it does not take waits in c.output.
void LoopServer::flush(Connection& c) {
  if (out_.empty()) return;
  if (c.output) {  // behind bytes already waiting: keep the order
    c.output->bytes.append(out_);
    out_.clear();
    return;
  }
  write_with_body(c, {});
}

// Sends out_ followed by `body` with one writev.
void LoopServer::write_with_body(Connection& c, std::string_view body) {
  std::size_t total = out_.size() + body.size();
  ssize_t n;
  if (body.empty()) {
    do
      n = send(c.fd, out_.data(), out_.size(), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
  } else {
    iovec iov[2] = {{out_.data(), out_.size()}, {const_cast<char*>(body.data()), body.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    do
      n = sendmsg(c.fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
  }
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    out_.clear();
    close_connection(c);
    return;
  }
  std::size_t sent = n < 0 ? 0 : std::size_t(n);
  if (sent < total) {
    auto* pending = new PendingOutput;
    if (sent < out_.size()) {
      pending->bytes.assign(out_, sent);
      pending->bytes.append(body);
    } else {
      pending->bytes.assign(body.substr(sent - out_.size()));
    }
    c.output = pending;
    loop_.timers().arm(c.timer, loop_.now_ms(), ms(options_.write_timeout));
  }
  out_.clear();
}

void LoopServer::send_file(Connection& c, int file_fd, off_t offset, std::size_t length) {
  const uint32_t generation = c.generation;
  flush(c);
  if (c.generation != generation) {
    close(file_fd);
    return;
  }
  if (!c.output) c.output = new PendingOutput;
  c.output->file_fd = file_fd;
  c.output->file_offset = offset;
  c.output->file_remaining = length;
  if (continue_output(c) && c.generation == generation) {
    // Everything went out at once; leave no empty PendingOutput behind.
  }
}

// Pushes c.output to the socket. True when all of it is gone (c.output is
// freed); false when the socket is full again or the connection closed.
bool LoopServer::continue_output(Connection& c) {
  PendingOutput& out = *c.output;
  while (out.offset < out.bytes.size()) {
    ssize_t n =
        send(c.fd, out.bytes.data() + out.offset, out.bytes.size() - out.offset, MSG_NOSIGNAL);
    if (n > 0) {
      out.offset += std::size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      loop_.timers().arm(c.timer, loop_.now_ms(), ms(options_.write_timeout));
      return false;
    }
    close_connection(c);
    return false;
  }
  while (out.file_remaining) {
    ssize_t n = sendfile(c.fd, out.file_fd, &out.file_offset,
                         std::min<std::size_t>(out.file_remaining, 1 << 30));
    if (n > 0) {
      out.file_remaining -= std::size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      loop_.timers().arm(c.timer, loop_.now_ms(), ms(options_.write_timeout));
      return false;
    }
    close_connection(c);  // n == 0: the file shrank under us; the framing is broken
    return false;
  }
  if (out.file_fd >= 0) close(out.file_fd);
  delete c.output;
  c.output = nullptr;
  return true;
}

// ------------------------------------------------------------------ timers

void LoopServer::update_timer(Connection& c) {
  if (c.output) return;  // the write timer runs
  if (c.phase == Phase::websocket) {
    arm_ws_timer(c);
    return;
  }
  if (c.phase == Phase::busy) return;  // the handler or the channel decides
  if (c.close_after_write) {
    close_connection(c);
    return;
  }
  auto& timers = loop_.timers();
  const uint64_t now = loop_.now_ms();
  if (c.input) {
    bool in_body = c.input->progress.head_length != 0;
    // The header deadline runs from the head's first byte and is not
    // extended by trickling bytes; the body deadline runs between reads.
    if (in_body) {
      timers.arm(c.timer, now, ms(options_.body_timeout));
    } else if (c.phase != Phase::reading || c.in_body) {
      timers.arm(c.timer, now, ms(options_.header_timeout));
    }
    c.phase = Phase::reading;
    c.in_body = in_body;
    return;
  }
  c.in_body = false;
  if (draining_) {
    close_connection(c);
    return;
  }
  c.phase = Phase::idle;
  timers.arm(c.timer, now, ms(options_.idle_timeout));
}

void LoopServer::on_connection_timer(io::TimerNode* node) {
  Connection& c = owner_of(node);
  LoopServer* self = c.owner;
  if (!self) return;
  ServingScope scope(*self, c);
  // A request cut short by a deadline gets 408 when nothing of it has been
  // answered; an idle or stalled-writer connection is simply closed.
  if (c.phase == Phase::websocket && !c.output) {
    self->ws_timer_fired(c);
    return;
  }
  if (c.phase == Phase::reading && c.input && !c.output) {
    self->fail(c, 408, "request timeout", c.input->bytes);
    self->flush(c);
    if (c.owner == self && !c.output) self->close_connection(c);
    return;
  }
  self->close_connection(c);
}

// ---------------------------------------------------------------- stopping

void LoopServer::begin_stop() {
  loop_.post([this] {
    if (draining_) return;
    draining_ = true;
    loop_.remove(listen_fd_);
    close(listen_fd_);
    listen_fd_ = -1;
    loop_.timers().cancel(accept_retry_timer_);
    // Close what is idle now; the rest closes after its response.
    for (std::size_t fd = 0; fd < shared_.table.capacity(); ++fd) {
      Connection& c = shared_.table.at(int(fd));
      if (c.owner != this) continue;
      if (c.phase == Phase::websocket) {
        ServingScope scope(*this, c);
        ws_close(c, *c.channel, 1001, "server shutting down");
        if (c.owner == this) flush(c);
      } else if (c.phase != Phase::busy && !c.input && !c.output) {
        close_connection(c);
      }
    }
    if (connection_count() == 0) {
      loop_.stop();
      return;
    }
    loop_.timers().arm(stop_timer_, loop_.now_ms(), ms(options_.stop_timeout));
  });
}

void LoopServer::on_stop_timer(io::TimerNode* node) {
  LoopServer* self = static_cast<LoopTimer*>(node)->self;
  for (std::size_t fd = 0; fd < self->shared_.table.capacity(); ++fd) {
    Connection& c = self->shared_.table.at(int(fd));
    if (c.owner == self) self->close_connection(c);
  }
  self->loop_.stop();
}

}  // namespace httpkit::server
