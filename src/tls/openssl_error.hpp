// OpenSSL's error queue as one line of text, for the client's and the
// server's TLS alike.
#pragma once

#include <openssl/types.h>

#include <string>

#include "io/transfer.hpp"

namespace httpkit::tls {

// `what`, then ": " and the library's first queued error if there is one;
// the queue is cleared either way.
std::string openssl_error(const char* what);
std::string openssl_error(const std::string& what);

// What a failed SSL_do_handshake/SSL_read_ex/SSL_write_ex/... call (return
// value `rc`) means for the stream, from SSL_get_error: `again` (wants to
// read or write), `closed` (close_notify, or EOF with no error queued),
// `failed` with errno (the socket failed), or a protocol fault: `failed`
// with EPROTO, `protocol_fault` set and the error queue left for the
// caller to read or clear. OpenSSL has then sent its alert (best effort).
// errno must have been cleared before the call.
struct SslOutcome {
  io::IoResult result;
  int ssl_error = 0;  // SSL_get_error's code
  bool protocol_fault = false;
};
SslOutcome ssl_outcome(const SSL* ssl, int rc);

}  // namespace httpkit::tls
