// Carrying requests: writing one out, reading its response, idling.
#include "client/connection.hpp"

#include "client/client_core.hpp"
#include "client/ws_session.hpp"

namespace httpkit::client_detail {

Connection::Connection(ClientCore& owner, HostPool& host_pool, uint64_t connection_id)
    : core(owner), pool(host_pool), id(connection_id) {
  idle_timer.owner = this;
  idle_timer.fire = &ClientCore::on_idle_expired;
}

Connection::~Connection() {
  shut();
}

void Connection::shut() {
  ws.reset();
  if (dial_ && dial_->ticket) core.resolver().cancel(dial_->ticket);
  dial_.reset();
  inbox_.clear();
  transport_.close();
}

void Connection::on_event(uint32_t events) {
  constexpr uint32_t kReadable = io::kReadable | io::kPeerClosed | io::kFailed;
  switch (state) {
    case ConnState::connecting:
      on_connect_ready();
      return;
    case ConnState::tunnelling:
      if (events & io::kWritable) write_connect();
      if (state == ConnState::tunnelling && (events & kReadable)) read_connect_answer();
      return;
    case ConnState::handshaking:
      continue_handshake();
      return;
    case ConnState::idle:
      if (events & kReadable) check_idle();
      return;
    case ConnState::busy: {
      const uint32_t gen = generation;
      peer_closed = (events & (io::kPeerClosed | io::kFailed)) != 0;
      if ((events & io::kWritable) && exchange && !exchange->request_sent()) {
        write_request();
        if (gen != generation) return;
      }
      if (events & kReadable) read_response();
      return;
    }
    case ConnState::websocket:
      if (ws) ws->on_event(events);
      return;
    case ConnState::resolving:
    case ConnState::closed:
      return;
  }
}

void Connection::start_request() {
  ++requests;
  state = ConnState::busy;
  leftover = false;
  inbox_.clear();
  write_request();
}

void Connection::write_request() {
  Exchange& ex = *exchange;
  while (!ex.request_sent()) {
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
    Transport::Outcome out = transport_.writev(iov, count);
    if (out.bytes) {
      ex.written += out.bytes;
      core.on_progress(ex);
    }
    if (out.io == Transport::Io::again) return;
    if (out.io != Transport::Io::ok) {
      core.on_connection_failed(
          *this, ErrorKind::reset,
          "sending the request to " + pool.route.describe() + " failed: " + out.message,
          out.sys_errno);
      return;
    }
  }
  if (ex.phase == ExchangePhase::sending) ex.phase = ExchangePhase::receiving;
}

void Connection::read_response() {
  if (!exchange || exchange->paused) return;  // resume_reading() picks it up
  Exchange& ex = *exchange;
  const uint32_t gen = generation;
  char* buf = core.read_buffer();
  for (;;) {
    Transport::Outcome out = transport_.read(buf, ClientCore::kReadBufferSize);
    if (out.io == Transport::Io::ok) {
      if (!ex.reader.any_bytes()) ex.result.timing.first_byte = ex.elapsed();
      core.on_progress(ex);
      ResponseReader::Result r = ex.reader.feed(buf, out.bytes, ex);
      if (!handle(r, buf, out.bytes) || gen != generation) return;
      // A short read emptied a plain socket (TLS hands out a record at a
      // time). Not so when the peer also closed: with edge-triggered readiness
      // the EOF that came with the data would never be reported again.
      if (!transport_.tls() && !peer_closed && out.bytes < ClientCore::kReadBufferSize) return;
      continue;
    }
    if (out.io == Transport::Io::again) return;
    if (out.io == Transport::Io::eof) {
      handle(ex.reader.on_eof(ex), nullptr, 0);
      return;
    }
    core.on_connection_failed(
        *this, transport_.tls() && out.sys_errno == 0 ? ErrorKind::tls : ErrorKind::reset,
        "reading the response from " + pool.route.describe() + " failed: " + out.message,
        out.sys_errno);
    return;
  }
}

bool Connection::handle(const ResponseReader::Result& r, char* data, std::size_t size) {
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

void Connection::resume_reading() {
  if (state != ConnState::busy || !exchange || exchange->paused) return;
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
void Connection::check_idle() {
  char probe[256];
  Transport::Outcome out = transport_.read(probe, sizeof probe);
  if (out.io == Transport::Io::again) return;  // e.g. a TLS session ticket, consumed
  core.on_idle_closed(*this);
}

}  // namespace httpkit::client_detail
