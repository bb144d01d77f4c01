#include "tls/server_context.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "tls/handshake_secrets.hpp"
#include "tls/openssl_error.hpp"

namespace httpkit::tls {
namespace {

// Where each SSL_CTX keeps its ServerContext, for the callbacks.
int context_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

bool valid_version(int v) {
  return v == TLS1_2_VERSION || v == TLS1_3_VERSION;
}

}  // namespace

std::shared_ptr<ServerContext> ServerContext::build(const ServerTlsOptions& o,
                                                    std::shared_ptr<const TicketKeys> tickets,
                                                    std::string& error) {
  if (!valid_version(o.min_version) || !valid_version(o.max_version) ||
      o.min_version > o.max_version) {
    error = "TLS: versions must be 1.2 (0x0303) or 1.3 (0x0304), min <= max";
    return nullptr;
  }
  if (o.client_verify != ServerTlsOptions::ClientVerify::none && o.client_ca_file.empty()) {
    error = "TLS: client certificate verification needs client_ca_file";
    return nullptr;
  }
  std::shared_ptr<ServerContext> c(new ServerContext());
  c->tickets_ = o.session_tickets ? std::move(tickets) : nullptr;
  c->handshake_timeout_ = o.handshake_timeout;
  for (const std::string& p : o.alpn) {
    if (p.empty() || p.size() > 255) {
      error = "TLS: an ALPN protocol name must be 1 to 255 bytes";
      return nullptr;
    }
    c->alpn_ += char(p.size());
    c->alpn_ += p;
  }
  ERR_clear_error();
  auto make = [&](const std::string& cert, const std::string& key) -> SSL_CTX* {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
      error = openssl_error("TLS: cannot create a context");
      return nullptr;
    }
    if (!c->configure(ctx, o, cert, key, error)) {
      SSL_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  };
  c->default_ = make(o.cert_file, o.key_file);
  if (!c->default_) return nullptr;
  for (const SniCertificate& s : o.sni) {
    if (s.host.empty()) {
      error = "TLS: an SNI certificate needs a host name";
      return nullptr;
    }
    SSL_CTX* ctx = make(s.cert_file, s.key_file);
    if (!ctx) return nullptr;
    c->named_.push_back({lower(s.host), ctx});
  }
  SSL_CTX_set_tlsext_servername_callback(c->default_, &ServerContext::on_server_name);
  return c;
}

ServerContext::~ServerContext() {
  for (Named& n : named_)
    SSL_CTX_free(n.ctx);
  SSL_CTX_free(default_);
}

bool ServerContext::configure(SSL_CTX* ctx, const ServerTlsOptions& o, const std::string& cert,
                              const std::string& key, std::string& error) {
  auto fail = [&](const std::string& what) {
    error = openssl_error("TLS: " + what);
    return false;
  };
  SSL_CTX_set_ex_data(ctx, context_index(), this);
  // TLS 1.3 connections leave OpenSSL after the handshake (ServerTlsLayer)
  // when their secrets are captured; without, they keep their SSL.
  if (o.own_record_layer && !capture_traffic_secrets(ctx))
    return fail("cannot install the secret callbacks");
  SSL_CTX_set_min_proto_version(ctx, o.min_version);
  SSL_CTX_set_max_proto_version(ctx, o.max_version);
  // Renegotiation is an attack surface HTTP/1.1 does not need; the server's
  // cipher order wins in 1.2; a peer closing without close_notify is a
  // close (the HTTP framing tells whether a request was complete).
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               (tickets_ ? 0 : SSL_OP_NO_TICKET));
  // Released buffers: an idle SSL holds no record buffers. A write that
  // blocks is retried with the same bytes from a buffer that may move.
  // No automatic chain: the certificate file is the chain that is sent
  // (as nginx does). Otherwise OpenSSL tries to build one from the trust
  // store on every full handshake when the file holds the leaf alone.
  SSL_CTX_set_mode(
      ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_read_ahead(ctx, 0);
  if (SSL_CTX_set_cipher_list(ctx, o.ciphers.c_str()) != 1) return fail("cipher list refused");
  if (SSL_CTX_set_ciphersuites(ctx, o.ciphersuites.c_str()) != 1)
    return fail("TLS 1.3 cipher suites refused");
  if (SSL_CTX_set1_groups_list(ctx, o.curves.c_str()) != 1) return fail("curves refused");
  // Tickets only: no session cache to grow with the connections.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static const unsigned char kSessionContext[] = "httpkit";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (tickets_) SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &ServerContext::on_ticket_key);
  if (!alpn_.empty()) SSL_CTX_set_alpn_select_cb(ctx, &ServerContext::on_alpn, this);

  if (cert.empty() || key.empty()) {
    error = "TLS: a certificate and its key are required";
    return false;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    return fail("cannot load certificate " + cert);
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail("cannot load key " + key);
  if (SSL_CTX_check_private_key(ctx) != 1)
    return fail("key " + key + " does not match certificate " + cert);

  if (o.client_verify != ServerTlsOptions::ClientVerify::none) {
    if (SSL_CTX_load_verify_locations(ctx, o.client_ca_file.c_str(), nullptr) != 1)
      return fail("cannot load client CA " + o.client_ca_file);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca_file.c_str());
    if (!names) return fail("no CA names in " + o.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (o.client_verify == ServerTlsOptions::ClientVerify::required)
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
  }
  return true;
}

SSL* ServerContext::new_session() const {
  SSL* ssl = SSL_new(default_);
  if (ssl) SSL_set_accept_state(ssl);
  return ssl;
}

SSL_CTX* ServerContext::for_server_name(const char* name) const {
  if (!name || named_.empty()) return nullptr;
  const std::string host = lower(name);
  for (const Named& n : named_)
    if (n.host == host) return n.ctx;
  // "*.example.com" matches exactly one label before ".example.com".
  const std::size_t dot = host.find('.');
  if (dot == 0 || dot == std::string::npos) return nullptr;
  const std::string wildcard = "*" + host.substr(dot);
  for (const Named& n : named_)
    if (n.host == wildcard) return n.ctx;
  return nullptr;
}

int ServerContext::on_server_name(SSL* ssl, int*, void*) {
  auto* self =
      static_cast<const ServerContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
  if (!self) return SSL_TLSEXT_ERR_OK;
  SSL_CTX* named = self->for_server_name(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
  if (named && !SSL_set_SSL_CTX(ssl, named)) return SSL_TLSEXT_ERR_ALERT_FATAL;
  return SSL_TLSEXT_ERR_OK;  // an unknown name gets the default certificate
}

int ServerContext::on_alpn(SSL*, const unsigned char** out, unsigned char* out_len,
                           const unsigned char* in, unsigned int in_len, void* arg) {
  auto* self = static_cast<const ServerContext*>(arg);
  unsigned char* chosen = nullptr;
  const auto* ours = reinterpret_cast<const unsigned char*>(self->alpn_.data());
  // The server's list first: its preference wins. No overlap: no ALPN.
  if (SSL_select_next_proto(&chosen, out_len, ours, unsigned(self->alpn_.size()), in, in_len) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

int ServerContext::on_ticket_key(SSL* ssl, unsigned char name[16], unsigned char iv[16],
                                 EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
  auto* self =
      static_cast<const ServerContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
  if (!self || !self->tickets_) return enc ? -1 : 0;
  const int r = self->tickets_->apply(name, iv, cipher, mac, enc);
  // A TLS 1.3 ticket is meant for one connection (RFC 8446 C.4; browsers
  // use each once): a resumption gets a fresh one, as from nginx, or the
  // client's next connection would be a full handshake.
  if (!enc && r == 1 && SSL_version(ssl) == TLS1_3_VERSION) return 2;
  return r;
}

}  // namespace httpkit::tls
