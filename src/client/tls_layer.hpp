// TLS as a layer of io::Stream (OpenSSL): the client's connections put it
// over the socket after TCP (or after the proxy's CONNECT tunnel), and the
// HTTP and WebSocket code above reads and writes the stream as before.
//
// The layer moves its ciphertext through the stream without the layer (the
// loop's backend), so it works over any backend. Plaintext is handed out in
// a per-thread buffer that, as the loop's shared buffer, is valid until the
// next receive on the thread.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "io/stream.hpp"

namespace httpkit::client {

class TlsLayer final : public io::StreamLayer {
 public:
  // `below` is the connection's stream without a layer.
  explicit TlsLayer(io::Stream below) : below_(below) {}
  ~TlsLayer() override;
  TlsLayer(const TlsLayer&) = delete;
  TlsLayer& operator=(const TlsLayer&) = delete;

  // A client session for `host`: SNI, and host name (or IP) verification
  // unless `verify` is false. False with `error` set when it cannot be made.
  bool start(SSL_CTX* ctx, const std::string& host, bool verify, std::string& error);
  // The same, for a session inside `outer`'s (an https origin through an
  // https proxy): its records go through the outer session, not the socket.
  // `outer` must outlive this layer.
  bool start_inside(TlsLayer& outer, SSL_CTX* ctx, const std::string& host, bool verify,
                    std::string& error);
  // Drives the handshake: done when finished, again to wait for the socket,
  // failed with failure() set.
  io::IoResult handshake();
  // Why the last operation failed, in one line (empty if none did).
  const std::string& failure() const { return failure_; }

  io::IoResult receive(io::Stream& below, std::span<char>& bytes) override;
  io::IoResult send(io::Stream& below, const iovec* iov, int count) override;
  io::IoResult send_file(io::Stream& below, int file_fd, off_t& offset, std::size_t count) override;
  // One close_notify attempt, no waiting for the peer's.
  void shutdown(io::Stream& below) override;
  bool secure() const override { return true; }
  // A record may wait in the socket after a short read: always read on.
  bool holds_input() const override { return true; }

 private:
  io::IoResult outcome(int rc, const char* op);

  io::Stream below_;  // the BIO's way to the socket
  SSL* ssl_ = nullptr;
  std::string failure_;
};

}  // namespace httpkit::client
