#include "tls/openssl_error.hpp"

#include <openssl/err.h>

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

}  // namespace httpkit::tls
