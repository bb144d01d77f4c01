// Two OpenSSL endpoints over memory BIOs for the tls tests: a client and
// a server SSL run a handshake, then one side may move to RecordProtection
// ("ours") while the other ("peer") stays OpenSSL.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/handshake_secrets.hpp"

namespace httpkit::tls::openssl_pair {

using Bytes = std::vector<uint8_t>;

struct Identity {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  Identity() {
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
  }
};

inline const Identity& identity() {
  static const Identity* id = new Identity;
  return *id;
}

using Ctx = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

inline Ctx server_context(const char* suites = nullptr, int max_version = TLS1_3_VERSION) {
  Ctx ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), identity().cert), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), identity().key), 1);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  if (suites) {
    EXPECT_EQ(SSL_CTX_set_ciphersuites(ctx.get(), suites), 1);
  }
  EXPECT_TRUE(capture_traffic_secrets(ctx.get()));
  return ctx;
}

inline Ctx client_context(const char* suites = nullptr) {
  Ctx ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (suites) {
    EXPECT_EQ(SSL_CTX_set_ciphersuites(ctx.get(), suites), 1);
  }
  EXPECT_TRUE(capture_traffic_secrets(ctx.get()));
  return ctx;
}

inline Bytes drain(BIO* b) {
  Bytes out(static_cast<std::size_t>(BIO_pending(b)));
  if (!out.empty()) {
    EXPECT_EQ(BIO_read(b, out.data(), static_cast<int>(out.size())), int(out.size()));
  }
  return out;
}

inline void feed(BIO* b, const Bytes& bytes) {
  if (!bytes.empty()) BIO_write(b, bytes.data(), static_cast<int>(bytes.size()));
}

// A client and a server SSL over memory BIOs; one of them may be switched
// to a RecordProtection ("ours"), the other ("peer") stays OpenSSL.
struct Link {
  SSL* server;
  SSL* client;
  BIO *server_in = BIO_new(BIO_s_mem()), *server_out = BIO_new(BIO_s_mem());
  BIO *client_in = BIO_new(BIO_s_mem()), *client_out = BIO_new(BIO_s_mem());
  RecordCiphers ciphers;
  std::unique_ptr<RecordProtection> ours;
  SSL* peer = nullptr;
  BIO* peer_in = nullptr;
  BIO* peer_out = nullptr;
  Bytes inbound;  // bytes for ours not yet opened

  Link(SSL_CTX* server_ctx, SSL_CTX* client_ctx, SSL_SESSION* session = nullptr)
      : server(SSL_new(server_ctx)), client(SSL_new(client_ctx)) {
    SSL_set_bio(server, server_in, server_out);
    SSL_set_bio(client, client_in, client_out);
    SSL_set_accept_state(server);
    SSL_set_connect_state(client);
    if (session) SSL_set_session(client, session);
  }
  ~Link() {
    SSL_free(server);
    SSL_free(client);
  }

  bool handshake() {
    int c = 0, s = 0;
    for (int i = 0; i < 10 && (c != 1 || s != 1); ++i) {
      if (c != 1) c = SSL_do_handshake(client);
      feed(server_in, drain(client_out));
      if (s != 1) s = SSL_do_handshake(server);
      feed(client_in, drain(server_out));
    }
    return c == 1 && s == 1;
  }

  // The client reads what came after the handshake (the tickets).
  void client_reads_tickets() {
    char buf[16];
    EXPECT_LE(SSL_read(client, buf, sizeof buf), 0);
    EXPECT_EQ(SSL_get_error(client, -1), SSL_ERROR_WANT_READ);
  }

  // Switches `role` to a RecordProtection: what OpenSSL left in its BIOs
  // goes on, the input to ours, the output to the peer.
  bool take(Role role) {
    SSL* ssl = role == Role::server ? server : client;
    peer = role == Role::server ? client : server;
    peer_in = role == Role::server ? client_in : server_in;
    peer_out = role == Role::server ? client_out : server_out;
    ours = take_record_protection(ssl, role);
    if (!ours) return false;
    inbound = drain(role == Role::server ? server_in : client_in);
    feed(peer_in, drain(role == Role::server ? server_out : client_out));
    return true;
  }

  // Ours opens what arrived; the event, the application bytes appended.
  RecordEvent receive(const Bytes& bytes, std::string& got) {
    inbound.insert(inbound.end(), bytes.begin(), bytes.end());
    auto opened = ours->open(ciphers, inbound);
    got.append(inbound.begin(), inbound.begin() + opened.plaintext);
    inbound.erase(inbound.begin(), inbound.begin() + opened.consumed);
    return opened.event;
  }

  std::string peer_sends(const std::string& text) {
    if (!text.empty()) {
      EXPECT_EQ(SSL_write(peer, text.data(), static_cast<int>(text.size())), int(text.size()));
    }
    std::string got;
    EXPECT_EQ(receive(drain(peer_out), got), RecordEvent::none);
    return got;
  }

  Bytes seal(const std::string& text) {
    Bytes out;
    std::size_t done = 0;
    do {
      iovec iov{const_cast<char*>(text.data()) + done, text.size() - done};
      Bytes chunk(65536);
      std::size_t taken = 0;
      chunk.resize(ours->seal(ciphers, &iov, 1, chunk, taken));
      EXPECT_FALSE(chunk.empty());
      if (chunk.empty()) break;
      out.insert(out.end(), chunk.begin(), chunk.end());
      done += taken;
    } while (done < text.size());
    return out;
  }

  // Ours sends; what the peer reads of it.
  std::string ours_sends(const std::string& text) {
    feed(peer_in, seal(text));
    std::string got;
    char buf[4096];
    int n;
    while ((n = SSL_read(peer, buf, sizeof buf)) > 0)
      got.append(buf, static_cast<std::size_t>(n));
    EXPECT_EQ(SSL_get_error(peer, n), SSL_ERROR_WANT_READ);
    return got;
  }
};

}  // namespace httpkit::tls::openssl_pair
