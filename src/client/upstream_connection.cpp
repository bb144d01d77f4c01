// Carrying requests: writing one out, reading its response, idling.
#include "client/upstream_connection.hpp"

#include <cstring>

#include "client/client_core.hpp"
#include "client/ws_session.hpp"

namespace httpkit::client {

UpstreamConnection::UpstreamConnection(ClientCore& owner, HostPool& host_pool,
                                       uint64_t connection_id)
    : core(owner), pool(host_pool), id(connection_id) {
  idle_timer.owner = this;
  idle_timer.fire = &ClientCore::on_idle_expired;
}

UpstreamConnection::~UpstreamConnection() {
  shut();
}

void UpstreamConnection::shut() {
  ws.reset();
  if (dial_ && dial_->ticket) core.resolver().cancel(dial_->ticket);
  dial_.reset();
  inbox_.clear();
  close_stream();
}

void UpstreamConnection::close_stream() {
  stream_.shutdown();  // TLS: one close_notify, no waiting for the peer's
  stream_.close();
  stream_.set_layer(nullptr);
  tls_.reset();  // before the proxy's session its records go through
  proxy_tls_.reset();
}

std::string UpstreamConnection::failure_text(const io::IoResult& r, const char* op) const {
  if (tls_ && !tls_->failure().empty()) return tls_->failure();
  if (proxy_tls_ && !proxy_tls_->failure().empty()) return proxy_tls_->failure();
  return std::string(op) + ": " + std::strerror(r.error);
}

void UpstreamConnection::on_event(uint32_t events) {
  constexpr uint32_t kReadable = io::kReadable | io::kPeerClosed | io::kFailed;
  peer_closed = (events & (io::kPeerClosed | io::kFailed)) != 0;
  switch (state) {
    case UpstreamState::connecting:
      on_connect_ready();
      return;
    case UpstreamState::tunnelling:
      if (events & io::kWritable) write_connect();
      if (state == UpstreamState::tunnelling && (events & kReadable)) read_connect_answer();
      return;
    case UpstreamState::handshaking:
      continue_handshake();
      return;
    case UpstreamState::idle:
      if (events & kReadable) check_idle();
      return;
    case UpstreamState::busy: {
      const uint32_t gen = generation;
      if ((events & io::kWritable) && exchange && !exchange->request_sent()) {
        write_request();
        if (gen != generation) return;
      }
      if (events & kReadable) read_response();
      return;
    }
    case UpstreamState::websocket:
      if (ws) ws->on_event(events);
      return;
    case UpstreamState::resolving:
    case UpstreamState::closed:
      return;
  }
}

void UpstreamConnection::start_request() {
  ++requests;
  state = UpstreamState::busy;
  leftover = false;
  inbox_.clear();
  write_request();
}

void UpstreamConnection::write_request() {
  Exchange& ex = *exchange;
  while (ex.written < ex.request_size()) {
    iovec iov[2];
    int count = 0;
    if (ex.written < ex.head.size()) {
      iov[count++] = {ex.head.data() + ex.written, ex.head.size() - ex.written};
    }
    std::string_view body = ex.body_to_send();
    const std::size_t body_done = ex.written > ex.head.size() ? ex.written - ex.head.size() : 0;
    if (body_done < body.size()) {
      iov[count++] = {const_cast<char*>(body.data()) + body_done, body.size() - body_done};
    }
    const io::IoResult out = stream_.send(iov, count);
    if (out.bytes) {
      ex.written += out.bytes;
      core.on_progress(ex);
    }
    if (out.status == io::IoStatus::again) return;
    if (!out.done()) {
      core.on_connection_failed(*this, ErrorKind::reset,
                                "sending the request to " + pool.route.describe() +
                                    " failed: " + failure_text(out, "write"),
                                out.error);
      return;
    }
  }
  if (!ex.request_sent() && !write_body_source(ex)) return;
  if (ex.phase == ExchangePhase::sending) ex.phase = ExchangePhase::receiving;
}

// A file or stream body after the head. False while it is not all out.
bool UpstreamConnection::write_body_source(Exchange& ex) {
  // A producer faster than the socket drains would keep the loop here:
  // after this many bytes the rest goes on in a task of its own.
  constexpr uint64_t kBudget = 4u << 20;
  const BodySource::Outcome out = ex.source.write(stream_, kBudget);
  if (out.moved) core.on_progress(ex);
  if (!out.error.empty()) {
    core.fail(ex, ErrorKind::invalid_request, out.error + " (" + pool.route.describe() + ")");
    return false;
  }
  if (out.io.status == io::IoStatus::again) return false;
  if (!out.io.done()) {
    core.on_connection_failed(*this, ErrorKind::reset,
                              "sending the request body to " + pool.route.describe() +
                                  " failed: " + failure_text(out.io, "write"),
                              out.io.error);
    return false;
  }
  if (ex.source.done()) return true;
  core.post([my_id = id, gen = generation](ClientCore& owner) {
    UpstreamConnection* c = owner.connection_by_id(my_id);
    if (c && c->generation == gen && c->state == UpstreamState::busy && c->exchange &&
        !c->exchange->request_sent())
      c->write_request();
  });
  return false;
}

void UpstreamConnection::read_response() {
  if (!exchange || exchange->paused) return;  // resume_reading() picks it up
  Exchange& ex = *exchange;
  const uint32_t gen = generation;
  bool stopped = false;  // the connection no longer reads for this exchange
  const io::IoResult out = stream_.receive_all(peer_closed, [&](std::span<char> bytes) {
    if (!ex.reader.any_bytes()) ex.result.timing.first_byte = ex.elapsed();
    core.on_progress(ex);
    ResponseReader::Result r = ex.reader.feed(bytes.data(), bytes.size(), ex);
    stopped = !handle(r, bytes.data(), bytes.size()) || gen != generation;
    return !stopped;
  });
  if (stopped || out.status == io::IoStatus::again) return;
  if (out.status == io::IoStatus::closed) {
    handle(ex.reader.on_eof(ex), nullptr, 0);
    return;
  }
  core.on_connection_failed(
      *this, (tls_ || proxy_tls_) && out.error == 0 ? ErrorKind::tls : ErrorKind::reset,
      "reading the response from " + pool.route.describe() +
          " failed: " + failure_text(out, "read"),
      out.error);
}

bool UpstreamConnection::handle(const ResponseReader::Result& r, char* data, std::size_t size) {
  switch (r.status) {
    case ResponseReader::Status::more:
      return true;
    case ResponseReader::Status::paused:
      if (r.consumed < size) inbox_.append(data + r.consumed, size - r.consumed);
      return false;
    case ResponseReader::Status::done:
      if (r.consumed < size) {
        leftover = true;
        if (exchange->reader.upgraded()) inbox_.assign(data + r.consumed, size - r.consumed);
      }
      core.on_response_done(*this, false);
      return false;
    case ResponseReader::Status::stopped:
      core.on_response_done(*this, true);
      return false;
    case ResponseReader::Status::error:
      core.on_connection_failed(*this, r.kind, r.message + " (" + pool.route.describe() + ")", 0);
      return false;
  }
  return false;
}

void UpstreamConnection::resume_reading() {
  if (state != UpstreamState::busy || !exchange || exchange->paused) return;
  Exchange& ex = *exchange;
  const uint32_t gen = generation;
  if (!inbox_.empty()) {
    std::string held = std::move(inbox_);
    inbox_.clear();
    if (!handle(ex.reader.feed(held.data(), held.size(), ex), held.data(), held.size()) ||
        gen != generation)
      return;
  }
  if (!handle(ex.reader.resume(ex), nullptr, 0) || gen != generation) return;
  read_response();
}

// An idle pooled connection became readable: the server closed it (the
// usual case) or sent bytes nobody asked for. Either way it is done.
void UpstreamConnection::check_idle() {
  std::span<char> bytes;
  if (stream_.receive(bytes).status == io::IoStatus::again) return;  // e.g. a TLS session ticket
  core.on_idle_closed(*this);
}

}  // namespace httpkit::client
