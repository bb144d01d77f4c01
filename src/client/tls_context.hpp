// OpenSSL client contexts, one per distinct TlsOptions, and the per
// connection set-up: SNI, host name (or IP) verification, ALPN http/1.1.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "httpkit/client.hpp"
#include "io/stream.hpp"

namespace httpkit::client {

class TlsContexts {
 public:
  TlsContexts() = default;
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;

  // The context for `options`, built on first use (reads the CA and
  // certificate files). Null with `error` set when a file cannot be used.
  SSL_CTX* get(const TlsOptions& options, std::string& error);

 private:
  struct Entry {
    TlsOptions options;
    SSL_CTX* ctx = nullptr;
    std::string error;  // a broken configuration fails every request, once built
  };
  std::vector<Entry> entries_;
};

// A new SSL object for a connection to `host` whose ciphertext moves
// through `below` (the connection's stream without a layer; it must outlive
// the session), or null with `error`.
SSL* new_tls_session(SSL_CTX* ctx, io::Stream* below, const std::string& host, bool verify,
                     std::string& error);

// Why the last OpenSSL call on `ssl` failed, in one line: the certificate
// verification result when there is one, else the library's error queue.
std::string tls_failure(SSL* ssl, int ssl_error);

}  // namespace httpkit::client
