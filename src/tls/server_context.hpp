// The server's OpenSSL contexts, built from ServerTlsOptions: the default
// certificate's SSL_CTX and one per SNI certificate, all configured alike
// (TLS 1.2-1.3, the options' ciphers and curves, no renegotiation or
// compression, released buffers, tickets with rotating keys, ALPN by
// server preference, optional client verification).
//
// Immutable once built. A reload builds a new one and swaps it in
// (CurrentContext); an SSL keeps the SSL_CTX it started with alive, and its
// layer keeps the ServerContext until the handshake is over (the callbacks
// read it).
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "httpkit/tls_options.hpp"
#include "tls/ticket_keys.hpp"

namespace httpkit::tls {

class ServerContext {
 public:
  // Null with `error` set when a file cannot be read, a key does not match
  // its certificate, or an option is refused.
  static std::shared_ptr<ServerContext> build(const ServerTlsOptions& options,
                                              std::shared_ptr<const TicketKeys> tickets,
                                              std::string& error);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // A server-side SSL for a new connection (no BIO yet), or null.
  SSL* new_session() const;
  std::chrono::milliseconds handshake_timeout() const { return handshake_timeout_; }

 private:
  ServerContext() = default;
  bool configure(SSL_CTX* ctx, const ServerTlsOptions& o, const std::string& cert,
                 const std::string& key, std::string& error);
  // The SSL_CTX for an SNI name, or null for the default.
  SSL_CTX* for_server_name(const char* name) const;

  static int on_server_name(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                     const unsigned char* in, unsigned int in_len, void* arg);
  static int on_ticket_key(SSL* ssl, unsigned char name[16], unsigned char iv[16],
                           EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc);

  struct Named {
    std::string host;  // lower case; "*.example.com" for a wildcard
    SSL_CTX* ctx;
  };
  SSL_CTX* default_ = nullptr;
  std::vector<Named> named_;
  std::string alpn_;  // wire format, server preference first
  std::shared_ptr<const TicketKeys> tickets_;
  std::chrono::milliseconds handshake_timeout_{10'000};
};

// The context new handshakes use; swapped whole by a reload while
// handshakes on other threads read it.
class CurrentContext {
 public:
  std::shared_ptr<const ServerContext> get() const { return current_.load(); }
  void set(std::shared_ptr<const ServerContext> next) { current_.store(std::move(next)); }

 private:
  std::atomic<std::shared_ptr<const ServerContext>> current_;
};

}  // namespace httpkit::tls
