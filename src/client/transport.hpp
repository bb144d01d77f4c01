// The byte stream under a connection: a non-blocking TCP socket, with or
// without TLS on top. Reads and writes never block; they say `again` and the
// loop's next edge brings the connection back.
#pragma once

#include <openssl/ssl.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>

namespace httpkit::client_detail {

class Transport {
 public:
  enum class Io : uint8_t { ok, again, eof, error };
  struct Outcome {
    Io io = Io::ok;
    std::size_t bytes = 0;
    int sys_errno = 0;
    std::string message;  // on error
  };

  Transport() = default;
  ~Transport() { close(); }
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void attach(int fd) { fd_ = fd; }
  int fd() const { return fd_; }
  bool tls() const { return ssl_ != nullptr; }

  // Puts TLS over the socket (after a proxy tunnel, if any).
  bool start_tls(SSL_CTX* ctx, const std::string& host, bool verify, std::string& error);
  // Drives the handshake: ok when done, again to wait, error with a message.
  Outcome handshake();

  Outcome read(char* buf, std::size_t len);
  // Writes as much of the buffers as the socket takes.
  Outcome writev(const iovec* iov, int count);

  // Sends close_notify if TLS (without waiting) and closes the socket.
  void close();

 private:
  Outcome tls_outcome(int rc, const char* op);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

}  // namespace httpkit::client_detail
