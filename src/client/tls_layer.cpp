#include "client/tls_layer.hpp"

#include <openssl/err.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "client/tls_context.hpp"
#include "tls/openssl_error.hpp"

namespace httpkit::client {
namespace {

char* plaintext_buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[io::Backend::kReadBufferSize]);
  return buffer.get();
}

// A BIO over another SSL session: the inner session's records are the
// outer one's plaintext. OpenSSL keeps what it has not handed out, and
// retries a blocked write with the same bytes, as a socket BIO sees them.
SSL* outer_of(BIO* b) {
  return static_cast<SSL*>(BIO_get_data(b));
}

int nested_result(BIO* b, SSL* outer, int rc, bool reading) {
  switch (SSL_get_error(outer, rc)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      if (reading) {
        BIO_set_retry_read(b);
      } else {
        BIO_set_retry_write(b);
      }
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;  // the proxy's close_notify: end of stream
    default:
      if (errno == 0) errno = EPIPE;
      return -1;
  }
}

int nested_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  SSL* outer = outer_of(b);
  std::size_t put = 0;
  if (SSL_write_ex(outer, data, std::size_t(len), &put) == 1) return int(put);
  return nested_result(b, outer, 0, false);
}

int nested_read(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  SSL* outer = outer_of(b);
  std::size_t got = 0;
  if (SSL_read_ex(outer, data, std::size_t(len), &got) == 1) return int(got);
  return nested_result(b, outer, 0, true);
}

long nested_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int nested_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* nested_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "httpkit tls-in-tls");
    BIO_meth_set_write(m, nested_write);
    BIO_meth_set_read(m, nested_read);
    BIO_meth_set_ctrl(m, nested_ctrl);
    BIO_meth_set_create(m, nested_create);
    return m;
  }();
  return method;
}

}  // namespace

TlsLayer::~TlsLayer() {
  if (ssl_) SSL_free(ssl_);
  ERR_clear_error();
}

bool TlsLayer::start(SSL_CTX* ctx, const std::string& host, bool verify, std::string& error) {
  ssl_ = new_tls_session(ctx, &below_, host, verify, error);
  return ssl_ != nullptr;
}

bool TlsLayer::start_inside(TlsLayer& outer, SSL_CTX* ctx, const std::string& host, bool verify,
                            std::string& error) {
  if (!start(ctx, host, verify, error)) return false;
  BIO* bio = BIO_new(nested_method());
  if (!bio) {
    error = "cannot create a TLS session inside the proxy's";
    return false;
  }
  BIO_set_data(bio, outer.ssl_);
  SSL_set_bio(ssl_, bio, bio);  // frees the socket BIO start() made
  return true;
}

io::IoResult TlsLayer::outcome(int rc, const char* op) {
  const tls::SslOutcome o = tls::ssl_outcome(ssl_, rc);
  if (o.protocol_fault) {
    failure_ = tls_failure(ssl_, o.ssl_error);
    return {io::IoStatus::failed, 0, 0};
  }
  if (o.result.status == io::IoStatus::failed) {  // the socket's errno
    failure_ = std::string(op) + ": " + std::strerror(o.result.error);
    ERR_clear_error();
  }
  return o.result;
}

io::IoResult TlsLayer::handshake() {
  ERR_clear_error();
  errno = 0;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) return {};
  io::IoResult r = outcome(rc, "TLS handshake");
  if (r.status == io::IoStatus::closed) {
    failure_ = "TLS: the server closed the connection during the handshake";
    r.status = io::IoStatus::failed;
  }
  return r;
}

io::IoResult TlsLayer::receive(io::Stream&, std::span<char>& bytes) {
  char* buffer = plaintext_buffer();
  ERR_clear_error();
  errno = 0;
  std::size_t got = 0;
  if (SSL_read_ex(ssl_, buffer, io::Backend::kReadBufferSize, &got) == 1) {
    bytes = {buffer, got};
    return {io::IoStatus::done, got, 0};
  }
  bytes = {};
  return outcome(0, "TLS read");
}

io::IoResult TlsLayer::send(io::Stream&, const iovec* iov, int count) {
  // No writev under TLS: the pieces go in turn (the head and a body each
  // fill their own records; a partial write is reported as such).
  io::IoResult done;
  for (int i = 0; i < count; ++i) {
    const char* data = static_cast<const char*>(iov[i].iov_base);
    std::size_t left = iov[i].iov_len;
    while (left > 0) {
      ERR_clear_error();
      errno = 0;
      std::size_t put = 0;
      if (SSL_write_ex(ssl_, data, left, &put) != 1) {
        io::IoResult r = outcome(0, "TLS write");
        if (r.status == io::IoStatus::again && done.bytes > 0) return done;
        if (r.status == io::IoStatus::closed) {
          failure_ = "TLS write: connection closed";
          r = {io::IoStatus::failed, 0, EPIPE};
        }
        r.bytes = done.bytes;
        return r;
      }
      done.bytes += put;
      data += put;
      left -= put;
    }
  }
  return done;
}

io::IoResult TlsLayer::send_file(io::Stream& below, int file_fd, off_t& offset, std::size_t count) {
  // The kernel cannot encrypt: read a record's worth and send it as bytes.
  char chunk[16 * 1024];
  ssize_t n;
  do
    n = pread(file_fd, chunk, std::min(count, sizeof chunk), offset);
  while (n < 0 && errno == EINTR);
  if (n < 0) return {io::IoStatus::failed, 0, errno};
  if (n == 0 && count > 0) return {io::IoStatus::failed, 0, EIO};  // the file shrank
  iovec iov{chunk, std::size_t(n)};
  io::IoResult r = send(below, &iov, 1);
  offset += off_t(r.bytes);
  return r;
}

void TlsLayer::shutdown(io::Stream&) {
  if (!ssl_) return;
  ERR_clear_error();
  if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace httpkit::client
