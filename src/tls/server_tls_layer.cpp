#include "tls/server_tls_layer.hpp"

#include <openssl/err.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "http/response_writer.hpp"
#include "tls/openssl_error.hpp"
#include "tls/stream_bio.hpp"

namespace httpkit::tls {
namespace {

// Plaintext handed to the protocol (valid until the next receive on this
// thread) and a file's bytes on their way out: two buffers, because the
// protocol may still read a pipelined request while a file goes out.
char* plaintext_buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[io::Backend::kReadBufferSize]);
  return buffer.get();
}
char* file_buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[io::Backend::kReadBufferSize]);
  return buffer.get();
}

// What OpenSSL reads through the BIO: one recv takes what the socket has
// (at most one whole record, so a ClientHello is one recv), instead of one
// recv for each record header and one for each body.
ReadAhead& read_ahead() {
  static constexpr std::size_t kSize = kMaxCiphertext + kRecordHeader;
  thread_local std::unique_ptr<char[]> buffer(new char[kSize]);
  thread_local ReadAhead ahead{buffer.get(), kSize};
  return ahead;
}

// A plain request that reached the TLS port is read (up to this much) so
// that the close after the 400 is a FIN, not a reset that could destroy the
// answer before the client reads it.
constexpr std::size_t kPlainRequestDrain = 64 * 1024;
constexpr std::string_view kPlainHttpBody = "The plain HTTP request was sent to HTTPS port\n";

}  // namespace

ServerTlsLayer::ServerTlsLayer(std::shared_ptr<const ServerContext> context)
    : context_(std::move(context)) {
  ssl_ = context_ ? context_->new_session() : nullptr;
  BIO* bio = ssl_ ? new_stream_bio(nullptr) : nullptr;
  if (!bio) {
    // Out of memory: the first receive fails and the connection closes.
    if (ssl_) SSL_free(ssl_);
    ssl_ = nullptr;
    ERR_clear_error();
    return;
  }
  BIO_set_callback_ex(bio, &ServerTlsLayer::on_bio);
  BIO_set_callback_arg(bio, reinterpret_cast<char*>(this));
  SSL_set_bio(ssl_, bio, bio);
}

ServerTlsLayer::~ServerTlsLayer() {
  if (records_) forget_keys();
  if (ssl_) SSL_free(ssl_);
  ERR_clear_error();
}

std::chrono::milliseconds ServerTlsLayer::handshake_timeout() const {
  return context_ ? context_->handshake_timeout() : std::chrono::milliseconds(10'000);
}

// The BIO finds the socket through the stream of the current call, and
// reads through the thread's ReadAhead, first the bytes this connection
// held back from the last call.
void ServerTlsLayer::attach(io::Stream& below) {
  ReadAhead& ahead = read_ahead();
  ahead.begin = ahead.end = 0;
  if (held_ && !held_->input.empty()) {
    const std::size_t n = std::min(held_->input.size(), ahead.capacity);
    std::memcpy(ahead.data, held_->input.data(), n);
    ahead.end = n;
    held_->input.erase(0, n);
    release_if_empty();
  }
  set_stream_bio_target(SSL_get_rbio(ssl_), &below, &ahead);
  ERR_clear_error();
  errno = 0;
}

// After each call OpenSSL made with attach(): the bytes it did not ask for
// are this connection's (the records behind its Finished, or the next
// record of a TLS 1.2 stream): held, in front of any still held.
void ServerTlsLayer::detach() {
  ReadAhead& ahead = read_ahead();
  if (ahead.size() > 0) {
    if (!held_) held_ = std::make_unique<Held>();
    held_->input.insert(0, ahead.data + ahead.begin, ahead.size());
    more_input_ = true;
  }
  ahead.begin = ahead.end = 0;
}

// Sees the connection's first byte as OpenSSL reads it: a TLS record
// starts with 22 (handshake); an HTTP request with a method's letter.
long ServerTlsLayer::on_bio(BIO* bio, int oper, const char* argp, std::size_t, int, long, int ret,
                            std::size_t* processed) {
  if (oper != (BIO_CB_READ | BIO_CB_RETURN) || ret <= 0 || !processed || *processed == 0)
    return ret;
  auto* self = reinterpret_cast<ServerTlsLayer*>(BIO_get_callback_arg(bio));
  if (self->first_ != FirstByte::unseen) return ret;
  const unsigned char c = static_cast<unsigned char>(argp[0]);
  self->first_ = c == 0x16              ? FirstByte::tls
                 : c >= 'A' && c <= 'Z' ? FirstByte::letter
                                        : FirstByte::other;
  return ret;
}

io::IoResult ServerTlsLayer::outcome(int rc) {
  const SslOutcome o = ssl_outcome(ssl_, rc);
  // A protocol fault: OpenSSL has sent its alert (best effort) already.
  if (o.protocol_fault) ERR_clear_error();
  return o.result;
}

io::IoResult ServerTlsLayer::handshake(io::Stream& below) {
  attach(below);
  const int rc = SSL_do_handshake(ssl_);
  detach();
  if (rc == 1) {
    state_ = State::open;
    context_.reset();  // the SSL keeps its SSL_CTX; the callbacks are done
    take_records(below);
    return {};
  }
  io::IoResult r = outcome(rc);
  if (r.status == io::IoStatus::again) return r;
  if (first_ == FirstByte::letter) return answer_plain_http(below);
  state_ = State::closed;
  if (r.status == io::IoStatus::closed) r = {io::IoStatus::failed, 0, ECONNRESET};
  return r;
}

io::IoResult ServerTlsLayer::answer_plain_http(io::Stream& below) {
  state_ = State::closed;
  char* scratch = file_buffer();
  for (std::size_t drained = 0; drained < kPlainRequestDrain;) {
    const io::IoResult r =
        below.loop().backend().receive_into(below.fd(), scratch, io::Backend::kReadBufferSize);
    if (!r.done()) break;
    drained += r.bytes;
  }
  thread_local http::HttpDate date;
  std::string answer;
  http::append_simple_response(answer, 400, kPlainHttpBody, date.now(), std::nullopt,
                               /*keep_alive=*/false);
  below.send(answer);  // best effort: the connection closes either way
  return {io::IoStatus::closed, 0, 0};
}

io::IoResult ServerTlsLayer::receive(io::Stream& below, std::span<char>& bytes) {
  bytes = {};
  more_input_ = false;
  if (!ssl_ && !records_) return {io::IoStatus::failed, 0, ENOMEM};
  if (state_ == State::closed) return {io::IoStatus::closed, 0, 0};
  if (state_ == State::handshake) {
    const io::IoResult r = handshake(below);
    if (!r.done()) return r;
  }
  if (records_) return records_receive(below, bytes);
  attach(below);
  const io::IoResult r = ssl_receive(bytes);
  detach();
  return r;
}

// Reads records until the buffer cannot take another whole one or the
// socket is drained: edge-triggered readiness needs the latter known.
io::IoResult ServerTlsLayer::ssl_receive(std::span<char>& bytes) {
  char* buffer = plaintext_buffer();
  std::size_t got = 0;
  for (;;) {
    std::size_t n = 0;
    if (SSL_read_ex(ssl_, buffer + got, io::Backend::kReadBufferSize - got, &n) != 1) {
      const io::IoResult r = outcome(0);
      if (got == 0 || r.status != io::IoStatus::again) {
        // Data before a close or a failure is handed up first; the next
        // call reports the end again.
        if (got == 0) return r;
        more_input_ = true;
      }
      break;
    }
    got += n;
    if (io::Backend::kReadBufferSize - got < 16 * 1024) {
      more_input_ = true;  // the socket may hold more
      break;
    }
  }
  bytes = {buffer, got};
  return {io::IoStatus::done, got, 0};
}

io::IoResult ServerTlsLayer::send(io::Stream& below, const iovec* iov, int count) {
  if (state_ != State::open) return {io::IoStatus::failed, 0, EPIPE};
  if (records_) return records_send(below, iov, count);
  if (!ssl_) return {io::IoStatus::failed, 0, EPIPE};
  attach(below);
  const io::IoResult r = ssl_send(iov, count);
  detach();
  return r;
}

// No writev under TLS: each piece in turn. After `again` OpenSSL requires
// the same bytes again, which is what the caller does with its remainder.
io::IoResult ServerTlsLayer::ssl_send(const iovec* iov, int count) {
  std::size_t sent = 0;
  for (int i = 0; i < count; ++i) {
    const char* data = static_cast<const char*>(iov[i].iov_base);
    std::size_t left = iov[i].iov_len;
    while (left > 0) {
      std::size_t put = 0;
      if (SSL_write_ex(ssl_, data, left, &put) != 1) {
        io::IoResult r = outcome(0);
        if (r.status == io::IoStatus::again && sent > 0) return {io::IoStatus::done, sent, 0};
        if (r.status == io::IoStatus::closed) r = {io::IoStatus::failed, 0, EPIPE};
        return r;
      }
      sent += put;
      data += put;
      left -= put;
    }
  }
  return {io::IoStatus::done, sent, 0};
}

// The kernel cannot encrypt for us here (no kTLS): read a buffer's worth
// of the file and send it as bytes. A retry after `again` reads the same
// range again, so the same bytes are offered, as a retry must.
io::IoResult ServerTlsLayer::send_file(io::Stream& below, int file_fd, off_t& offset,
                                       std::size_t count) {
  if (kernel_tx_ && state_ == State::open) return below.send_file(file_fd, offset, count);
  char* chunk = file_buffer();
  ssize_t n;
  do
    n = pread(file_fd, chunk, std::min(count, io::Backend::kReadBufferSize), offset);
  while (n < 0 && errno == EINTR);
  if (n < 0) return {io::IoStatus::failed, 0, errno};
  if (n == 0 && count > 0) return {io::IoStatus::failed, 0, EIO};  // the file shrank
  iovec iov{chunk, std::size_t(n)};
  const io::IoResult r = send(below, &iov, 1);
  offset += off_t(r.bytes);
  return r;
}

void ServerTlsLayer::shutdown(io::Stream& below) {
  if (state_ != State::open) return;
  if (records_) return records_shutdown(below);
  state_ = State::closed;
  if (!ssl_) return;
  attach(below);
  SSL_shutdown(ssl_);
  detach();
  ERR_clear_error();
}

}  // namespace httpkit::tls
