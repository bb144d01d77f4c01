// Establishing a connection: resolve, connect (each address in turn), the
// proxy's CONNECT tunnel, TLS.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "client/client_core.hpp"
#include "client/upstream_connection.hpp"
#include "http/response_parser.hpp"

namespace httpkit::client {
namespace {

constexpr std::size_t kMaxProxyAnswer = 16 * 1024;

}  // namespace

void UpstreamConnection::dial() {
  dial_ = std::make_unique<Dial>();
  state = UpstreamState::resolving;
  const std::string& host = pool.route.dial_host;
  Resolution resolution;
  if (core.resolver().lookup_now(host, resolution)) {
    on_resolved(resolution);
    return;
  }
  ClientCore* owner = &core;
  const uint64_t my_id = id;
  dial_->ticket = core.resolver().lookup_async(host, [owner, my_id](const Resolution& r) {
    UpstreamConnection* c = owner->connection_by_id(my_id);
    if (!c || c->state != UpstreamState::resolving) return;
    c->dial_->ticket = 0;
    c->on_resolved(r);
  });
}

void UpstreamConnection::dial_failed(ErrorKind kind, std::string message, int sys_errno) {
  core.on_connection_failed(*this, kind, std::move(message), sys_errno);
}

void UpstreamConnection::on_resolved(const Resolution& r) {
  if (exchange) exchange->result.timing.dns = exchange->elapsed();
  if (!r.error.empty()) {
    dial_failed(ErrorKind::dns, r.error);
    return;
  }
  dial_->addresses = r.addresses;
  connect_next();
}

void UpstreamConnection::connect_next() {
  const uint16_t port = pool.route.dial_port;
  while (dial_->next < dial_->addresses.size()) {
    Address a = dial_->addresses[dial_->next++].with_port(port);
    int fd = socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      dial_->last_errno = errno;
      dial_->last_error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    stream_ = io::Stream(core.loop(), fd);
    int rc = connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length);
    if (rc == 0 || errno == EINPROGRESS) {
      state = UpstreamState::connecting;
      if (!core.register_fd(*this)) {
        dial_->last_errno = errno;
        dial_->last_error = std::string("watching the socket: ") + std::strerror(errno);
        core.unregister_fd(fd);
        close_stream();
        continue;
      }
      if (rc == 0) on_connected();
      return;
    }
    dial_->last_errno = errno;
    dial_->last_error = std::string(std::strerror(errno)) + " (" + a.text() + ")";
    close_stream();
  }
  dial_failed(ErrorKind::connect,
              "cannot connect to " + pool.route.dial_host + ":" + std::to_string(port) + ": " +
                  dial_->last_error,
              dial_->last_errno);
}

void UpstreamConnection::on_connect_ready() {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err) {
    const Address& a = dial_->addresses[dial_->next - 1];
    dial_->last_errno = err;
    dial_->last_error = std::string(std::strerror(err)) + " (" + a.text() + ")";
    core.unregister_fd(fd());
    close_stream();
    connect_next();
    return;
  }
  sockaddr_storage peer;
  socklen_t peer_len = sizeof peer;
  if (getpeername(fd(), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return;  // not yet
  on_connected();
}

void UpstreamConnection::on_connected() {
  int one = 1;
  setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  core.count_connection();
  if (pool.route.proxy_tls) {
    start_tls(true);
    return;
  }
  proxy_ready();
}

// TCP is up (and TLS to an https proxy): the tunnel, or TLS to the origin.
void UpstreamConnection::proxy_ready() {
  const Route& route = pool.route;
  if (!route.tunnel_authority.empty()) {
    std::string& out = dial_->proxy_out;
    out = "CONNECT " + route.tunnel_authority + " HTTP/1.1\r\nHost: " + route.tunnel_authority +
          "\r\n";
    if (!route.proxy_authorization.empty())
      out += "Proxy-Authorization: " + route.proxy_authorization + "\r\n";
    out += "\r\n";
    state = UpstreamState::tunnelling;
    write_connect();
    return;
  }
  if (exchange) exchange->result.timing.connect = exchange->elapsed();
  if (route.tls) {
    start_tls(false);
    return;
  }
  established();
}

void UpstreamConnection::write_connect() {
  Dial& d = *dial_;
  while (d.proxy_out_offset < d.proxy_out.size()) {
    const io::IoResult out = stream_.send(std::string_view(d.proxy_out).substr(d.proxy_out_offset));
    d.proxy_out_offset += out.bytes;
    if (out.status == io::IoStatus::again) return;
    if (!out.done()) {
      dial_failed(ErrorKind::connect,
                  "sending CONNECT to the proxy failed: " + failure_text(out, "write"), out.error);
      return;
    }
  }
}

void UpstreamConnection::read_connect_answer() {
  Dial& d = *dial_;
  bool answered = false;  // the answer was acted on (the dial went on or failed)
  const io::IoResult out = stream_.receive_all(peer_closed, [&](std::span<char> bytes) {
    d.proxy_in.append(bytes.data(), bytes.size());
    answered = on_connect_answer();
    return !answered;
  });
  if (answered || out.status == io::IoStatus::again) return;
  if (out.status == io::IoStatus::closed) {
    dial_failed(ErrorKind::proxy, "the proxy closed the connection instead of answering CONNECT " +
                                      pool.route.tunnel_authority);
    return;
  }
  dial_failed(ErrorKind::reset,
              "reading the proxy's CONNECT answer failed: " + failure_text(out, "read"), out.error);
}

// The proxy's answer so far is in `proxy_in`: false while its head is
// incomplete, true once the dial went on (tunnel up) or failed.
bool UpstreamConnection::on_connect_answer() {
  Dial& d = *dial_;
  for (;;) {
    const std::size_t end = http::find_head_end(d.proxy_in);
    if (!end) {
      if (d.proxy_in.size() <= kMaxProxyAnswer) return false;
      dial_failed(ErrorKind::proxy, "the proxy's CONNECT answer is too large");
      return true;
    }
    // As many fields as any response may have by default.
    http::HeaderField fields[http::kDefaultMaxResponseFields];
    http::ResponseHeadView head;
    auto parsed = http::parse_response_head(std::string_view(d.proxy_in).substr(0, end),
                                            {false, true}, {}, fields, std::size(fields), head);
    if (parsed.status != http::ParseStatus::complete) {
      dial_failed(ErrorKind::proxy, "malformed CONNECT answer from the proxy: " +
                                        std::string(to_string(parsed.error)));
      return true;
    }
    if (head.interim) {
      d.proxy_in.erase(0, head.head_length);
      continue;
    }
    if (!head.tunnel) {
      dial_failed(ErrorKind::proxy, "the proxy refused CONNECT " + pool.route.tunnel_authority +
                                        ": " + std::to_string(head.status) + " " +
                                        std::string(head.reason));
      return true;
    }
    if (end < d.proxy_in.size()) {
      dial_failed(ErrorKind::proxy, "the proxy sent bytes before the tunnel was used");
      return true;
    }
    if (exchange) exchange->result.timing.connect = exchange->elapsed();
    if (pool.route.tls) {
      start_tls(false);
    } else {
      established();
    }
    return true;
  }
}

// TLS to the proxy (`to_proxy`) or to the origin; the latter inside the
// proxy's session when there is one.
void UpstreamConnection::start_tls(bool to_proxy) {
  std::string error;
  const Route& route = pool.route;
  SSL_CTX* ctx = core.tls_contexts().get(route.tls_options, error);
  auto layer = std::make_unique<TlsLayer>(io::Stream(core.loop(), fd()));
  const std::string& host = to_proxy ? route.proxy_tls_host : route.tls_host;
  const bool verify = !route.tls_options.insecure;
  const bool ok =
      ctx && (proxy_tls_ && !to_proxy ? layer->start_inside(*proxy_tls_, ctx, host, verify, error)
                                      : layer->start(ctx, host, verify, error));
  if (!ok) {
    dial_failed(ErrorKind::tls, error);
    return;
  }
  (to_proxy ? proxy_tls_ : tls_) = std::move(layer);
  stream_.set_layer(to_proxy ? proxy_tls_.get() : tls_.get());
  state = UpstreamState::handshaking;
  continue_handshake();
}

void UpstreamConnection::continue_handshake() {
  const bool to_proxy = !tls_;  // the proxy's session comes first
  TlsLayer& layer = to_proxy ? *proxy_tls_ : *tls_;
  const io::IoResult out = layer.handshake();
  if (out.status == io::IoStatus::again) return;
  if (!out.done()) {
    const std::string peer =
        to_proxy ? "the https proxy " + pool.route.proxy_tls_host : pool.route.describe();
    dial_failed(ErrorKind::tls, "TLS handshake with " + peer + " failed: " + layer.failure(),
                out.error);
    return;
  }
  if (to_proxy) {
    proxy_ready();
    return;
  }
  if (exchange) exchange->result.timing.tls = exchange->elapsed();
  established();
}

void UpstreamConnection::established() {
  dial_.reset();
  core.on_dialed(*this);
}

}  // namespace httpkit::client
