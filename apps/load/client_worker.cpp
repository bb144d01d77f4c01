#include "client_worker.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>

#include "io/socket.hpp"
#include "io/stream.hpp"

namespace httpkit::load {
namespace {

constexpr uint64_t kRampTickMs = 5;     // pacing and stop checks while connecting
constexpr uint64_t kSteadyTickMs = 50;  // stop checks afterwards

volatile sig_atomic_t g_terminate = 0;
void on_terminate(int) {
  g_terminate = 1;
}

// The one worker of this process, for the timer callbacks (a timer node
// carries no context, and each connection is too small to hold one).
ClientWorker* g_worker = nullptr;

LoadConnection& owner_of(io::TimerNode* node) {
  return *reinterpret_cast<LoadConnection*>(reinterpret_cast<char*>(node) -
                                            offsetof(LoadConnection, timer));
}

// True when a non-blocking connect has succeeded (writable, no error).
bool connect_completed(int fd) {
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, 0) != 1 || (p.revents & (POLLERR | POLLHUP)) || !(p.revents & POLLOUT)) {
    return false;
  }
  int error = 0;
  socklen_t size = sizeof error;
  return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0;
}

WsExchange::Settings ws_settings(const LoadOptions& options) {
  WsExchange::Settings s;
  s.length = options.length;
  s.deflate = options.deflate;
  s.path = options.ws_path;
  s.host = options.host + ":" + std::to_string(options.port);
  return s;
}

}  // namespace

ClientWorker::ClientWorker(const LoadOptions& options, const AddressPlan& plan,
                           const WorkerPlan& mine, SharedStats& stats)
    : options_(options),
      plan_(plan),
      mine_(mine),
      slot_(stats.slot(mine.index)),
      control_(stats.control()),
      websocket_(options.workload == Workload::websocket),
      exchange_(options.length),
      ws_exchange_(ws_settings(options)),
      random_(uint64_t(mine.index + 1) * 0x9e3779b97f4a7c15ull ^ monotonic_ns()) {
  g_worker = this;
  next_tuple_ = mine.tuples.begin;
  table_size_ = io::descriptor_limit();
  // Pages are backed on first use; a zeroed slot is a valid unused LoadConnection.
  void* memory = mmap(nullptr, table_size_ * sizeof(LoadConnection), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  table_ = static_cast<LoadConnection*>(memory);
  connection_kind_ = loop_.register_kind(&ClientWorker::on_event, this);
  if (options.tls) {
    TlsOptions tls;
    tls.insecure = options.tls_insecure;
    tls.ca_file = options.tls_ca;
    std::string error;
    tls_ctx_ = tls_contexts_.get(tls, error);
    if (!tls_ctx_) throw std::runtime_error(error);
    if (options.tls12) SSL_CTX_set_max_proto_version(tls_ctx_, TLS1_2_VERSION);
    tls_host_ = options.tls_server_name.empty() ? options.host : options.tls_server_name;
    void* layers = mmap(nullptr, table_size_ * sizeof(client::TlsLayer*), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (layers == MAP_FAILED) {
      munmap(table_, table_size_ * sizeof(LoadConnection));
      throw std::bad_alloc();
    }
    tls_ = static_cast<client::TlsLayer**>(layers);
  }
  tick_.fire = &ClientWorker::on_tick;
  tick_.self = this;
}

ClientWorker::~ClientWorker() {
  munmap(table_, table_size_ * sizeof(LoadConnection));
  if (tls_) munmap(tls_, table_size_ * sizeof(client::TlsLayer*));
  g_worker = nullptr;
}

uint64_t ClientWorker::elapsed_ms() const {
  return (monotonic_ns() - control_.start_ns.load(std::memory_order_relaxed)) / 1'000'000;
}

// Wraps after 71 minutes; differences of two readings stay right.
uint32_t ClientWorker::now_us() const {
  return uint32_t((monotonic_ns() - control_.start_ns.load(std::memory_order_relaxed)) / 1000);
}

int ClientWorker::run() {
  struct sigaction sa {};
  sa.sa_handler = on_terminate;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  loop_.set_after_events([this] { top_up(); });
  loop_.timers().arm(tick_, loop_.now_ms(), kRampTickMs);
  top_up();
  loop_.run();
  close_all();
  slot_.min_requests.set(min_requests_ == UINT64_MAX ? 0 : min_requests_);
  slot_.below_two_requests.set(below_two_);
  slot_.finished.set(1);
  return 0;
}

void ClientWorker::on_tick(io::TimerNode* node) {
  ClientWorker& self = *static_cast<TickTimer*>(node)->self;
  if (g_terminate || self.control_.stop.load(std::memory_order_relaxed)) {
    self.loop_.stop();
    return;
  }
  self.top_up();
  self.loop_.timers().arm(self.tick_, self.loop_.now_ms(),
                          self.ramp_done_ ? kSteadyTickMs : kRampTickMs);
}

// ------------------------------------------------------------ opening

void ClientWorker::top_up() {
  if (started_ >= mine_.connections) return;
  if (options_.ramp_timeout_s > 0 && double(elapsed_ms()) >= options_.ramp_timeout_s * 1000) {
    // Out of time: hold what is open and let the steady phase begin.
    slot_.not_opened.add(mine_.connections - started_);
    started_ = mine_.connections;
    note_ramp_progress();
    return;
  }
  std::size_t allowed = mine_.connections;
  if (mine_.rate > 0) {
    allowed = std::min(allowed, std::size_t(mine_.rate * double(elapsed_ms()) / 1000.0) + 1);
  }
  while (started_ < allowed && ramping_ < options_.max_connecting) {
    if (!open_next()) break;
  }
  note_ramp_progress();
}

// Issues one connect from the next free tuple. False when none is left.
bool ClientWorker::open_next() {
  for (;;) {
    if (next_tuple_ >= mine_.tuples.end) {
      // Out of tuples: the remaining connections fail for want of an address.
      slot_.errors[std::size_t(LoadFailure::no_address)].add(mine_.connections - started_);
      started_ = mine_.connections;
      return false;
    }
    const Tuple tuple = plan_.at(next_tuple_++);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ++started_;
      slot_.connects_started.add();
      slot_.errors[std::size_t(LoadFailure::connect_failed)].add();
      return false;
    }
    if (std::size_t(fd) >= table_size_) {
      close(fd);
      ++started_;
      slot_.errors[std::size_t(LoadFailure::connect_failed)].add();
      return false;
    }
    // Lets a tuple whose previous connection lingers in TIME_WAIT be bound again.
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in source = to_sockaddr(tuple.source);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) {
      close(fd);
      slot_.tuples_skipped.add();  // EADDRINUSE: someone holds the port; take the next
      continue;
    }
    const sockaddr_in destination = to_sockaddr(tuple.destination);
    int rc = connect(fd, reinterpret_cast<const sockaddr*>(&destination), sizeof destination);
    if (rc != 0 && errno == EADDRNOTAVAIL) {  // the 4-tuple is still taken
      close(fd);
      slot_.tuples_skipped.add();
      continue;
    }
    ++started_;
    slot_.connects_started.add();
    LoadConnection& c = table_[fd];
    c = LoadConnection{};
    c.timer.fire = &ClientWorker::on_connection_timer;
    if (rc != 0 && errno != EINPROGRESS) {
      close(fd);
      slot_.errors[std::size_t(LoadFailure::connect_failed)].add();
      return true;
    }
    if (!loop_.add(fd, io::kReadable | io::kWritable, connection_kind_)) {
      close(fd);
      slot_.errors[std::size_t(LoadFailure::connect_failed)].add();
      return true;
    }
    max_fd_ = std::max(max_fd_, fd);
    c.state = LoadState::connecting;
    c.ramping = true;
    ++ramping_;
    // Edge-triggered: a connect that completed at once still reports io::kWritable.
    loop_.timers().arm(c.timer, loop_.now_ms(), options_.connect_timeout_ms);
    return true;
  }
}

void ClientWorker::on_connect_result(LoadConnection& c, int fd, uint32_t events) {
  if (events & (io::kFailed)) {
    fail(c, fd, LoadFailure::connect_failed);
    return;
  }
  if (!(events & io::kWritable)) return;
  ++open_;
  slot_.established.add();
  note_ramp_progress();
  if (tls_) {
    start_tls(c, fd);
  } else {
    start_request(c, fd);
  }
}

// The handshake gets --connect-timeout of its own, counted from the connect.
void ClientWorker::start_tls(LoadConnection& c, int fd) {
  auto* layer = new client::TlsLayer(io::Stream(loop_, fd));
  tls_[fd] = layer;
  c.state = LoadState::handshaking;
  std::string error;
  if (!layer->start(tls_ctx_, tls_host_, !options_.tls_insecure, error)) {
    if (!tls_failure_shown_) {
      tls_failure_shown_ = true;
      std::fprintf(stderr, "httpkit-load: worker %d: %s\n", mine_.index, error.c_str());
    }
    fail(c, fd, LoadFailure::tls_failed);
    return;
  }
  loop_.timers().arm(c.timer, loop_.now_ms(), options_.connect_timeout_ms);
  continue_handshake(c, fd);
}

void ClientWorker::continue_handshake(LoadConnection& c, int fd) {
  client::TlsLayer& layer = *tls_[fd];
  const io::IoResult r = layer.handshake();
  if (r.status == io::IoStatus::again) return;
  if (r.status != io::IoStatus::done) {
    if (!tls_failure_shown_) {  // the first reason of each worker, for the log
      tls_failure_shown_ = true;
      std::fprintf(stderr, "httpkit-load: worker %d: TLS handshake: %s\n", mine_.index,
                   layer.failure().c_str());
    }
    fail(c, fd, LoadFailure::tls_failed);
    return;
  }
  start_request(c, fd);
}

void ClientWorker::note_ramp_progress() {
  if (!target_reached_ && open_ == mine_.connections) {
    target_reached_ = true;
    slot_.target_reached_ms.set(std::max<uint64_t>(1, elapsed_ms()));
  }
  if (!ramp_done_ && started_ >= mine_.connections && ramping_ == 0) {
    ramp_done_ = true;
    slot_.ramp_done_ms.set(std::max<uint64_t>(1, elapsed_ms()));
  }
}

// ------------------------------------------------------------ events

void ClientWorker::on_event(void* self_ptr, int fd, uint32_t events) {
  auto& self = *static_cast<ClientWorker*>(self_ptr);
  LoadConnection& c = self.table_[fd];
  if (c.state == LoadState::handshaking) {
    self.continue_handshake(c, fd);
    return;
  }
  if (self.websocket_ && c.state != LoadState::connecting) {
    self.on_ws_event(c, fd, events);
    return;
  }
  switch (c.state) {
    case LoadState::connecting:
      self.on_connect_result(c, fd, events);
      break;
    case LoadState::sending:
      if (events & (io::kFailed)) {
        self.fail(c, fd, LoadFailure::reset);
      } else if (events & io::kWritable) {
        self.continue_send(c, fd);
      }
      break;
    case LoadState::awaiting:
      if (events & (io::kReadable | io::kPeerClosed | io::kFailed))
        self.read_response(c, fd, events);
      break;
    case LoadState::idle:
      if (events & (io::kReadable | io::kPeerClosed | io::kFailed)) self.check_idle(c, fd);
      break;
    case LoadState::handshaking:  // on_event took it
    case LoadState::unused:
      break;
  }
}

void ClientWorker::on_connection_timer(io::TimerNode* node) {
  ClientWorker& self = *g_worker;
  LoadConnection& c = owner_of(node);
  const int fd = self.fd_of(c);
  switch (c.state) {
    case LoadState::connecting:
      // A starved worker may reach its timers before an event that is
      // already waiting: only a connect still unanswered has timed out.
      if (connect_completed(fd)) {
        self.on_connect_result(c, fd, io::kWritable);
      } else {
        self.fail(c, fd, LoadFailure::connect_timeout);
      }
      break;
    case LoadState::sending:
    case LoadState::awaiting:
      self.on_response_deadline(c, fd);
      break;
    case LoadState::idle:
      self.start_request(c, fd);
      break;
    case LoadState::handshaking:
      // As for the connect: a handshake that can finish now was held up here.
      self.continue_handshake(c, fd);
      if (c.state == LoadState::handshaking) self.fail(c, fd, LoadFailure::tls_timeout);
      break;
    case LoadState::unused:
      break;
  }
}

// The same for the response timer: a socket that became writable, or a
// response that arrived, while the worker was busy elsewhere is not a
// timeout. A request that goes out only now was held up here, not by the
// server, so its response gets the full --timeout, like a late connect's.
void ClientWorker::on_response_deadline(LoadConnection& c, int fd) {
  if (c.state == LoadState::sending) {
    if (websocket_) {
      if (!flush_ws(c, fd)) return;
    } else {
      continue_send(c, fd);
    }
    if (c.state == LoadState::awaiting) {
      loop_.timers().arm(c.timer, loop_.now_ms(), options_.response_timeout_ms);
    } else if (c.state == LoadState::sending) {
      fail(c, fd, LoadFailure::timeout);
    }
    return;
  }
  if (websocket_) {
    read_ws(c, fd, 0);
  } else {
    read_response(c, fd, 0);
  }
  if (c.state == LoadState::awaiting) fail(c, fd, LoadFailure::timeout);
}

// ------------------------------------------------------------ the exchange

void ClientWorker::start_request(LoadConnection& c, int fd) {
  if (websocket_) {
    start_ws_send(c, fd);
    return;
  }
  char request[HttpExchange::kMaxRequest];
  const std::size_t size = exchange_.start(c, random_, request);
  c.sent_at_us = now_us();
  slot_.requests_sent.add();
  loop_.timers().arm(c.timer, loop_.now_ms(), options_.response_timeout_ms);
  const io::IoResult r = stream(fd).send(std::string_view(request, size));
  if (r.bytes == size) {
    c.state = LoadState::awaiting;
    return;
  }
  if (r.status == io::IoStatus::failed) {
    fail(c, fd, LoadFailure::reset);
    return;
  }
  // The socket took only part of it (rare: it was empty a moment ago).
  c.http.request_offset = uint8_t(r.bytes);
  c.state = LoadState::sending;
}

void ClientWorker::continue_send(LoadConnection& c, int fd) {
  char request[HttpExchange::kMaxRequest];
  const std::size_t size = exchange_.request_of(c, request);
  const io::IoResult r = stream(fd).send(
      std::string_view(request + c.http.request_offset, size - c.http.request_offset));
  if (r.status == io::IoStatus::failed) {
    fail(c, fd, LoadFailure::reset);
    return;
  }
  c.http.request_offset = uint8_t(c.http.request_offset + r.bytes);
  if (c.http.request_offset == size) c.state = LoadState::awaiting;
}

void ClientWorker::read_response(LoadConnection& c, int fd, uint32_t events) {
  // After the peer's close the close must be read too: no further edge announces it.
  const bool peer_closed = events & (io::kPeerClosed | io::kFailed);
  bool stopped = false;  // failed (and closed) or done: the socket is not ours to read on
  const io::IoResult r = stream(fd).receive_all(peer_closed, [&](std::span<char> bytes) {
    slot_.bytes_received.add(bytes.size());
    const auto result = exchange_.on_bytes(c, bytes.data(), bytes.size());
    if (result.status == HttpExchange::Result::failed) {
      fail(c, fd, result.error);
    } else if (result.status == HttpExchange::Result::done) {
      complete_response(c);
      if (peer_closed) check_idle(c, fd);
    } else {
      return true;
    }
    stopped = true;
    return false;
  });
  if (stopped) return;
  if (r.status == io::IoStatus::closed) {
    fail(c, fd, exchange_.error_on_close(c));
  } else if (r.status == io::IoStatus::failed) {
    fail(c, fd, LoadFailure::reset);
  }
}

void ClientWorker::complete_response(LoadConnection& c) {
  const uint32_t latency = now_us() - c.sent_at_us;
  slot_.latency[latency_bucket(latency)].add();
  slot_.responses_ok.add();
  if (c.ramping) {
    c.ramping = false;
    --ramping_;
    note_ramp_progress();
  }
  if (c.requests_done != UINT16_MAX) ++c.requests_done;
  c.state = LoadState::idle;
  loop_.timers().arm(c.timer, loop_.now_ms(), random_.in(options_.idle_ms));
}

// Something happened on a connection that has nothing to say: the server
// closed it, reset it, or sent bytes nobody asked for.
void ClientWorker::check_idle(LoadConnection& c, int fd) {
  std::span<char> bytes;
  switch (stream(fd).receive(bytes).status) {
    case io::IoStatus::done:
      fail(c, fd, LoadFailure::wrong_response);
      break;
    case io::IoStatus::closed:
      fail(c, fd, LoadFailure::unexpected_close);
      break;
    case io::IoStatus::failed:
      fail(c, fd, LoadFailure::reset);
      break;
    case io::IoStatus::again:
      break;
  }
}

// ------------------------------------------------------------ WebSocket

// Reading is allowed in every state past connecting: a ping may come at any
// time, and must be answered even while a message is still going out.
void ClientWorker::on_ws_event(LoadConnection& c, int fd, uint32_t events) {
  if (c.state == LoadState::unused) return;
  if ((events & io::kWritable) && !WsExchange::unsent(c).empty() && !flush_ws(c, fd)) return;
  if (events & (io::kReadable | io::kPeerClosed | io::kFailed)) read_ws(c, fd, events);
}

void ClientWorker::start_ws_send(LoadConnection& c, int fd) {
  ws_output_.clear();
  if (!c.ws.upgraded) {
    ws_exchange_.start_upgrade(c, random_, ws_output_);  // not a request of the statistics
  } else {
    ws_exchange_.start_message(c, random_, ws_output_);
    c.sent_at_us = now_us();
    slot_.requests_sent.add();
  }
  loop_.timers().arm(c.timer, loop_.now_ms(), options_.response_timeout_ms);
  c.state = LoadState::awaiting;
  if (!send_ws(c, fd, ws_output_)) return;
  if (!WsExchange::unsent(c).empty()) c.state = LoadState::sending;
}

// Sends `bytes` after whatever still waits for the socket; what it does not
// take waits too, and goes on the next io::kWritable.
bool ClientWorker::send_ws(LoadConnection& c, int fd, std::string_view bytes) {
  if (!WsExchange::unsent(c).empty()) {
    WsExchange::hold_unsent(c, bytes);  // frames must not interleave
    return true;
  }
  const io::IoResult r = stream(fd).send(bytes);
  if (r.status == io::IoStatus::failed) {
    fail(c, fd, LoadFailure::reset);
    return false;
  }
  if (r.bytes < bytes.size()) WsExchange::hold_unsent(c, bytes.substr(r.bytes));
  return true;
}

bool ClientWorker::flush_ws(LoadConnection& c, int fd) {
  const std::string_view pending = WsExchange::unsent(c);
  const io::IoResult r = stream(fd).send(pending);
  if (r.status == io::IoStatus::failed) {
    fail(c, fd, LoadFailure::reset);
    return false;
  }
  WsExchange::drop_unsent(c, r.bytes);
  if (c.state == LoadState::sending && WsExchange::unsent(c).empty()) {
    c.state = LoadState::awaiting;
  }
  return true;
}

void ClientWorker::read_ws(LoadConnection& c, int fd, uint32_t events) {
  // After the peer's close the close must be read too: no further edge announces it.
  const bool peer_closed = events & (io::kPeerClosed | io::kFailed);
  bool stopped = false;  // failed and closed
  const io::IoResult r = stream(fd).receive_all(peer_closed, [&](std::span<char> bytes) {
    slot_.bytes_received.add(bytes.size());
    ws_output_.clear();
    const auto result = ws_exchange_.on_bytes(c, bytes.data(), bytes.size(), ws_output_);
    if (result.status == WsExchange::Result::failed) {
      fail(c, fd, result.error);
      stopped = true;
      return false;
    }
    if (!ws_output_.empty() && !send_ws(c, fd, ws_output_)) {  // pongs
      stopped = true;
      return false;
    }
    if (result.status == WsExchange::Result::upgraded) complete_upgrade(c);
    if (result.status == WsExchange::Result::echoed) complete_response(c);
    return true;
  });
  if (stopped) return;
  if (r.status == io::IoStatus::closed) {
    fail(c, fd, ws_exchange_.error_on_close(c));
  } else if (r.status == io::IoStatus::failed) {
    fail(c, fd, LoadFailure::reset);
  }
}

// The 101 ends the connection's ramp (its first response); the first
// message goes after an idle period, like every later one.
void ClientWorker::complete_upgrade(LoadConnection& c) {
  if (c.ramping) {
    c.ramping = false;
    --ramping_;
    note_ramp_progress();
  }
  c.state = LoadState::idle;
  loop_.timers().arm(c.timer, loop_.now_ms(), random_.in(options_.idle_ms));
}

// At stop: a close frame (1001) if the connection is between frames of
// ours and the socket takes it now; no waiting for the server's answer.
void ClientWorker::say_goodbye(LoadConnection& c, int fd) {
  if (c.state == LoadState::connecting || !c.ws.upgraded || !WsExchange::unsent(c).empty()) return;
  ws_output_.clear();
  WsExchange::append_goodbye(ws_output_);
  (void)stream(fd).send(ws_output_);
}

// ------------------------------------------------------------ closing

void ClientWorker::fail(LoadConnection& c, int fd, LoadFailure error) {
  slot_.errors[std::size_t(error)].add();
  close_connection(c, fd);
}

void ClientWorker::close_connection(LoadConnection& c, int fd) {
  loop_.timers().cancel(c.timer);
  if (websocket_) {
    WsExchange::release(c);
  } else {
    HttpExchange::release(c);
  }
  if (tls_ && tls_[fd]) {
    delete tls_[fd];
    tls_[fd] = nullptr;
  }
  close(fd);
  if (c.state != LoadState::unused && c.ramping) --ramping_;
  if (c.state != LoadState::connecting && c.state != LoadState::unused) {
    --open_;
    slot_.closed.add();
    min_requests_ = std::min<uint64_t>(min_requests_, c.requests_done);
    if (c.requests_done < 2) ++below_two_;
  }
  c.state = LoadState::unused;
  note_ramp_progress();
}

void ClientWorker::close_all() {
  for (int fd = 0; fd <= max_fd_; ++fd) {
    LoadConnection& c = table_[fd];
    if (c.state == LoadState::unused) continue;
    if (websocket_) say_goodbye(c, fd);
    if (tls_ && tls_[fd] && c.state != LoadState::handshaking) stream(fd).shutdown();  // close_notify
    close_connection(c, fd);
  }
}

}  // namespace httpkit::load
