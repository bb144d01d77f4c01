// HTTPS and WSS in the server: what ServerOptions::tls configures.
//
// The defaults are Mozilla's "intermediate" profile: TLS 1.2 and 1.3 only,
// ECDHE with AEAD ciphers, session tickets with keys that rotate. (The
// client's TlsOptions, in client.hpp, is the other side's.)
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace httpkit {

// A certificate chosen when the client's SNI names `host`: an exact name,
// or "*.example.com", which matches one label ("a.example.com").
struct SniCertificate {
  std::string host;
  std::string cert_file;  // PEM chain, leaf first
  std::string key_file;   // PEM private key
};

struct ServerTlsOptions {
  // The default certificate (no SNI, or an SNI no entry below matches).
  std::string cert_file;  // PEM chain, leaf first
  std::string key_file;   // PEM private key; must match the leaf
  std::vector<SniCertificate> sni{};

  // ALPN protocols in the server's order of preference. A client whose
  // list has none of them is served without ALPN rather than refused
  // (RFC 7301 allows both; nginx 1.22 refuses with no_application_protocol):
  // an HTTP/1.1 server loses nothing by answering such a client.
  std::vector<std::string> alpn{"http/1.1"};

  // TLS 1.2 (0x0303) or 1.3 (0x0304); nothing older is accepted.
  int min_version = 0x0303;
  int max_version = 0x0304;
  // TLS 1.2 ciphers (OpenSSL names), in the server's order of preference.
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  // TLS 1.3 suites.
  std::string ciphersuites =
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  std::string curves = "X25519:P-256:P-384";

  // Resumption by session tickets (no server-side cache). The ticket keys
  // are derived per period from a secret made when the Server is built, so
  // every worker process agrees; a ticket of the previous period is still
  // accepted (and renewed).
  bool session_tickets = true;
  std::chrono::seconds ticket_key_rotation{12 * 3600};

  // Client certificates (mTLS), checked against `client_ca_file`.
  enum class ClientVerify { none, optional, required };
  ClientVerify client_verify = ClientVerify::none;
  std::string client_ca_file{};

  // A peer that has not finished its handshake by then is closed.
  std::chrono::milliseconds handshake_timeout{10'000};

  // TLS 1.3 connections leave OpenSSL when their handshake ends: one keeps
  // its traffic keys (~330 B) instead of an SSL object (~14.7 KB while
  // idle), and the cipher contexts are the loop's. false keeps OpenSSL's
  // record layer for them, as for TLS 1.2: nginx's memory per connection,
  // for 9% fewer instructions per full ECDSA handshake, 3% with RSA
  // (OpenSSL then formats no key-log lines; bench/tls_handshake_cost.sh).
  bool own_record_layer = true;
};

}  // namespace httpkit
