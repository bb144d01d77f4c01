// TLS under one server connection, as an io::StreamLayer: the HTTP/1 and
// WebSocket code above reads and writes plaintext as before.
//
// OpenSSL runs the handshake over a BIO on the socket that reads what the
// socket has into the loop thread's buffer and serves OpenSSL's reads from
// it; what OpenSSL did not ask for (a request sent right behind the
// client's Finished) is held by the connection for the record layer. Before it, a first byte that
// is not a TLS handshake record but an ASCII letter is taken for plain HTTP and answered 400, as
// nginx does; anything else that is not TLS is closed. After it, a TLS 1.3 connection with one of
// our suites moves to RecordProtection and frees its SSL: an idle one then holds this object and
// its keys (~100 + ~220 bytes), plus, only while they exist, the bytes of a partial input record
// and the ciphertext the socket did not take (Held). Any other connection (TLS 1.2) keeps its SSL
// with released buffers, renegotiation refused.
//
// What the caller sees of writes: the plaintext bytes a send() reports are
// on the wire. When the socket takes only part of a record, the call
// reports `again` (or the bytes before it) and the caller retries with the
// same bytes, as OpenSSL's SSL_write requires; response_output.cpp keeps
// and resends its unsent remainder, which is exactly that.
//
// Buffers are per loop thread, not per connection: plaintext is handed out
// in a thread-local buffer valid until the next receive on the thread (as
// the loop's own buffer is), and a file is read into another.
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "io/stream.hpp"
#include "tls/record_protection.hpp"
#include "tls/server_context.hpp"

namespace httpkit::tls {

class ServerTlsLayer final : public io::StreamLayer {
 public:
  explicit ServerTlsLayer(std::shared_ptr<const ServerContext> context);
  ~ServerTlsLayer() override;
  ServerTlsLayer(const ServerTlsLayer&) = delete;
  ServerTlsLayer& operator=(const ServerTlsLayer&) = delete;

  // Drives the handshake first, then returns plaintext. `closed` after the
  // peer's close_notify (or after answering plain HTTP with 400).
  io::IoResult receive(io::Stream& below, std::span<char>& bytes) override;
  io::IoResult send(io::Stream& below, const iovec* iov, int count) override;
  io::IoResult send_file(io::Stream& below, int file_fd, off_t& offset, std::size_t count) override;
  // close_notify, once, if the handshake finished; no waiting for the answer.
  void shutdown(io::Stream& below) override;
  bool secure() const override { return true; }
  bool holds_input() const override { return more_input_; }

  // Until the handshake is over the connection's deadline is the handshake's.
  bool handshaking() const override { return state_ == State::handshake; }
  std::chrono::milliseconds handshake_timeout() const override;
  bool handshake_waits_to_send() const override {
    return state_ == State::handshake && ssl_ && SSL_want_write(ssl_);
  }

 private:
  enum class State : uint8_t { handshake, open, closed };
  enum class FirstByte : uint8_t { unseen, tls, letter, other };

  io::IoResult handshake(io::Stream& below);
  io::IoResult answer_plain_http(io::Stream& below);
  io::IoResult ssl_receive(std::span<char>& bytes);
  io::IoResult ssl_send(const iovec* iov, int count);
  // The RecordProtection path (server_tls_records.cpp).
  void take_records(io::Stream& below);
  io::IoResult records_receive(io::Stream& below, std::span<char>& bytes);
  io::IoResult records_send(io::Stream& below, const iovec* iov, int count);
  void records_shutdown(io::Stream& below);
  void send_alert(io::Stream& below, AlertDescription alert);
  void hold_input(const uint8_t* bytes, std::size_t size);
  void release_if_empty();
  void forget_keys();
  io::IoResult outcome(int rc);
  void attach(io::Stream& below);
  void detach();
  static long on_bio(BIO* bio, int oper, const char* argp, std::size_t len, int argi, long argl,
                     int ret, std::size_t* processed);

  std::shared_ptr<const ServerContext> context_;  // held while the handshake reads it
  SSL* ssl_ = nullptr;                            // until a TLS 1.3 connection moves on
  std::unique_ptr<RecordProtection> records_;     // after it moved
  // Bytes that must outlive a call, held only while they exist.
  struct Held {
    std::string input;             // a partial record
    std::string output;            // ciphertext the socket did not take...
    std::size_t output_plain = 0;  // ...and the plaintext bytes it holds
  };
  std::unique_ptr<Held> held_;
  State state_ = State::handshake;
  FirstByte first_ = FirstByte::unseen;
  bool more_input_ = false;   // the last read may have left bytes behind
  bool peer_closed_ = false;  // close_notify read: receive reports `closed`
  bool kernel_tx_ = false;    // kTLS seals what we send
};

}  // namespace httpkit::tls
