// OpenSSL's error queue as one line of text, for the client's and the
// server's TLS alike.
#pragma once

#include <string>

namespace httpkit::tls {

// `what`, then ": " and the library's first queued error if there is one;
// the queue is cleared either way.
std::string openssl_error(const char* what);
std::string openssl_error(const std::string& what);

}  // namespace httpkit::tls
