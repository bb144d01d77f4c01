// The switch from OpenSSL to RecordProtection once a TLS 1.3 handshake is
// done. OpenSSL tells us the application traffic secrets through its key
// log callback, and how many records it already protected with them
// through its message callback; from those a RecordProtection continues
// the connection exactly where OpenSSL left it, and the SSL object (~14.7 KB
// idle) can be freed.
//
// Contract:
// - capture_traffic_secrets(ctx) once per SSL_CTX, before its SSL objects
//   are created, and on every context an SSL may move to by SNI
//   (SSL_set_SSL_CTX): OpenSSL calls the key log callback of the SSL's
//   current context, the message callback of the one it was created with.
//   It sets the context's message callback (replacing any) and key log
//   callback (one already set, e.g. for SSLKEYLOGFILE, is still called with
//   every line). Each SSL holds ~120 bytes of capture until take or free.
// - take_record_protection(ssl) after SSL_do_handshake() returned 1 (so
//   OpenSSL's write buffer is flushed into its BIO), or later, between
//   SSL_read/SSL_write calls. The server reads with the client's secret
//   (CLIENT_TRAFFIC_SECRET_0) and writes with its own
//   (SERVER_TRAFFIC_SECRET_0); the client the other way round. Each
//   sequence number starts at the count of records OpenSSL already
//   protected under that secret (the server's NewSessionTickets, the
//   tickets a client read).
// - It returns null, and the caller keeps using the SSL object, when the
//   connection is not TLS 1.3 with one of the three suites of CipherSuite,
//   the secrets were not captured, OpenSSL still holds input it read but
//   did not process (SSL_has_pending), or a KeyUpdate already went through
//   OpenSSL. Either way the captured secrets are wiped and freed, and the
//   SSL stops reporting to the message callback.
// - Bytes still in the SSL's BIOs are the caller's: what its read BIO
//   holds OpenSSL has not read (feed it to open()), what its write BIO
//   holds must go out before anything seal() writes.
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "tls/record_protection.hpp"

namespace httpkit::tls {

// Installs the callbacks on `ctx`; false if OpenSSL could not allocate.
bool capture_traffic_secrets(SSL_CTX* ctx);

// The record layer that continues `ssl` (role from SSL_is_server), or null
// (see above).
std::unique_ptr<RecordProtection> take_record_protection(SSL* ssl);
// The same, and null if `role` is not the side `ssl` plays.
std::unique_ptr<RecordProtection> take_record_protection(SSL* ssl, Role role);

}  // namespace httpkit::tls
