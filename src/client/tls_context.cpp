#include "client/tls_context.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include "tls/openssl_error.hpp"
#include "tls/stream_bio.hpp"

namespace httpkit::client {
namespace {

using tls::openssl_error;

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

SSL_CTX* build(const TlsOptions& o, std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    error = openssl_error("cannot create a TLS context");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Partial writes and moving buffers suit a non-blocking writer; released
  // buffers keep an idle pooled TLS connection small.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Servers that close without close_notify are common; the HTTP framing
  // tells whether the body was complete.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);

  auto fail = [&](std::string message) {
    error = std::move(message);
    SSL_CTX_free(ctx);
    return nullptr;
  };
  if (o.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!o.ca_file.empty() || !o.ca_dir.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, o.ca_file.empty() ? nullptr : o.ca_file.c_str(),
                                        o.ca_dir.empty() ? nullptr : o.ca_dir.c_str()) != 1)
        return fail(openssl_error(
            ("cannot load CA " + (o.ca_file.empty() ? o.ca_dir : o.ca_file)).c_str()));
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return fail(openssl_error("cannot load the system CA store"));
    }
  }
  if (!o.cert_file.empty()) {
    const std::string& key = o.key_file.empty() ? o.cert_file : o.key_file;
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1)
      return fail(openssl_error(("cannot load client certificate " + o.cert_file).c_str()));
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
      return fail(openssl_error(("cannot load client key " + key).c_str()));
    if (SSL_CTX_check_private_key(ctx) != 1)
      return fail(openssl_error("client key does not match the certificate"));
  }
  return ctx;
}

}  // namespace

TlsContexts::~TlsContexts() {
  for (Entry& e : entries_)
    SSL_CTX_free(e.ctx);
}

SSL_CTX* TlsContexts::get(const TlsOptions& options, std::string& error) {
  for (Entry& e : entries_) {
    if (e.options == options) {
      error = e.error;
      return e.ctx;
    }
  }
  Entry e;
  e.options = options;
  e.ctx = build(options, e.error);
  error = e.error;
  entries_.push_back(std::move(e));
  return entries_.back().ctx;
}

SSL* new_tls_session(SSL_CTX* ctx, io::Stream* below, const std::string& host, bool verify,
                     std::string& error) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx);
  BIO* bio = ssl ? tls::new_stream_bio(below) : nullptr;
  if (!bio) {
    if (ssl) SSL_free(ssl);
    error = openssl_error("cannot create a TLS session");
    return nullptr;
  }
  SSL_set_bio(ssl, bio, bio);
  SSL_set_connect_state(ssl);
  const bool ip = is_ip_literal(host);
  if (!ip) SSL_set_tlsext_host_name(ssl, host.c_str());  // SNI is for names only (RFC 6066)
  if (verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    int ok =
        ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) : SSL_set1_host(ssl, host.c_str());
    if (ok != 1) {
      SSL_free(ssl);
      error = openssl_error("cannot set the host name to verify");
      return nullptr;
    }
    if (!ip) X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  }
  return ssl;
}

std::string tls_failure(SSL* ssl, int ssl_error) {
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    ERR_clear_error();
    return errno ? std::string("TLS: ") + std::strerror(errno)
                 : std::string("TLS: connection closed during the handshake");
  }
  return openssl_error("TLS error");
}

}  // namespace httpkit::client
