#include "client/transport.hpp"

#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "client/tls_context.hpp"

namespace httpkit::client_detail {
namespace {

Transport::Outcome sys_failure(const char* op) {
  Transport::Outcome o;
  o.io = Transport::Io::error;
  o.sys_errno = errno;
  o.message = std::string(op) + ": " + std::strerror(errno);
  return o;
}

}  // namespace

bool Transport::start_tls(SSL_CTX* ctx, const std::string& host, bool verify, std::string& error) {
  ssl_ = new_tls_session(ctx, fd_, host, verify, error);
  return ssl_ != nullptr;
}

Transport::Outcome Transport::tls_outcome(int rc, const char* op) {
  Outcome o;
  int e = SSL_get_error(ssl_, rc);
  switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      o.io = Io::again;
      return o;
    case SSL_ERROR_ZERO_RETURN:
      o.io = Io::eof;
      return o;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        if (errno == 0) {
          o.io = Io::eof;
          return o;
        }
        o = sys_failure(op);
        ERR_clear_error();
        return o;
      }
      break;
    default:
      break;
  }
  o.io = Io::error;
  o.message = tls_failure(ssl_, e);
  return o;
}

Transport::Outcome Transport::handshake() {
  ERR_clear_error();
  errno = 0;
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) return {};
  Outcome o = tls_outcome(rc, "TLS handshake");
  if (o.io == Io::eof) {
    o.io = Io::error;
    o.message = "TLS: the server closed the connection during the handshake";
  } else if (o.io == Io::error && o.message.empty()) {
    o.message = tls_failure(ssl_, SSL_get_error(ssl_, rc));
  }
  return o;
}

Transport::Outcome Transport::read(char* buf, std::size_t len) {
  Outcome o;
  if (ssl_) {
    ERR_clear_error();
    errno = 0;
    std::size_t got = 0;
    int rc = SSL_read_ex(ssl_, buf, len, &got);
    if (rc == 1) {
      o.bytes = got;
      return o;
    }
    return tls_outcome(rc, "TLS read");
  }
  ssize_t n;
  do
    n = recv(fd_, buf, len, 0);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    o.bytes = std::size_t(n);
  } else if (n == 0) {
    o.io = Io::eof;
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    o.io = Io::again;
  } else {
    o = sys_failure("read");
  }
  return o;
}

Transport::Outcome Transport::writev(const iovec* iov, int count) {
  Outcome o;
  if (ssl_) {
    // No writev under TLS: write the pieces in turn (the head and a body
    // each fill their own records; partial writes are allowed).
    for (int i = 0; i < count; ++i) {
      const char* data = static_cast<const char*>(iov[i].iov_base);
      std::size_t left = iov[i].iov_len;
      while (left > 0) {
        ERR_clear_error();
        errno = 0;
        std::size_t put = 0;
        int rc = SSL_write_ex(ssl_, data, left, &put);
        if (rc != 1) {
          Outcome t = tls_outcome(rc, "TLS write");
          if (t.io == Io::again && o.bytes > 0) return o;
          if (t.io == Io::eof) t = {Io::error, 0, EPIPE, "TLS write: connection closed"};
          t.bytes = o.bytes;
          return t;
        }
        o.bytes += put;
        data += put;
        left -= put;
      }
    }
    return o;
  }
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = std::size_t(count);
  ssize_t n;
  do
    n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n >= 0) {
    o.bytes = std::size_t(n);
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    o.io = Io::again;
  } else {
    o = sys_failure("write");
  }
  return o;
}

void Transport::close() {
  if (ssl_) {
    ERR_clear_error();
    // One close_notify attempt, no waiting for the peer's.
    if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
    SSL_free(ssl_);
    ERR_clear_error();
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace httpkit::client_detail
