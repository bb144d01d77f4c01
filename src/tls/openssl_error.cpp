#include "tls/openssl_error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>

namespace httpkit::tls {

std::string openssl_error(const char* what) {
  const unsigned long e = ERR_get_error();
  std::string out = what;
  if (e) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

std::string openssl_error(const std::string& what) {
  return openssl_error(what.c_str());
}

SslOutcome ssl_outcome(const SSL* ssl, int rc) {
  SslOutcome o;
  o.ssl_error = SSL_get_error(ssl, rc);
  switch (o.ssl_error) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      o.result = {io::IoStatus::again, 0, 0};
      return o;
    case SSL_ERROR_ZERO_RETURN:
      o.result = {io::IoStatus::closed, 0, 0};
      return o;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        const int err = errno;
        o.result = err ? io::IoResult{io::IoStatus::failed, 0, err}
                       : io::IoResult{io::IoStatus::closed, 0, 0};
        return o;
      }
      break;
    default:
      break;
  }
  o.result = {io::IoStatus::failed, 0, EPROTO};
  o.protocol_fault = true;
  return o;
}

}  // namespace httpkit::tls
