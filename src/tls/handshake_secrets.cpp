// What OpenSSL reports while it runs a handshake, kept per SSL in ex_data
// until take_record_protection() turns it into a RecordProtection.
#include "tls/handshake_secrets.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <new>
#include <string_view>

namespace httpkit::tls {

namespace {

// One connection's capture, about 120 bytes, alive only during the handshake.
struct Capture {
  uint8_t client_secret[48];
  uint8_t server_secret[48];
  uint8_t client_size = 0;
  uint8_t server_size = 0;
  // Records sent after our Finished and read after the peer's are those
  // protected with the application secrets: the header of the record that
  // carries a Finished is reported before the Finished message itself.
  bool own_finished = false;
  bool peer_finished = false;
  bool key_updated = false;  // OpenSSL already moved past the _0 secrets
  uint64_t written = 0;
  uint64_t read = 0;
};

// The key log callback the application had set (SSLKEYLOGFILE).
struct ContextCapture {
  SSL_CTX_keylog_cb_func user = nullptr;
};

void free_capture(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  if (!ptr) return;
  OPENSSL_cleanse(ptr, sizeof(Capture));
  delete static_cast<Capture*>(ptr);
}

void free_context_capture(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ContextCapture*>(ptr);
}

int ssl_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_capture);
  return index;
}

int context_index() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_context_capture);
  return index;
}

Capture* capture_of(const SSL* ssl) {
  return static_cast<Capture*>(SSL_get_ex_data(ssl, ssl_index()));
}

void drop_capture(SSL* ssl) {
  free_capture(nullptr, capture_of(ssl), nullptr, 0, 0, nullptr);
  SSL_set_ex_data(ssl, ssl_index(), nullptr);
  SSL_set_msg_callback(ssl, nullptr);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "<LABEL> <client_random hex> <secret hex>": the secret, if it has a
// traffic secret's size.
bool parse_secret(std::string_view rest, uint8_t out[48], uint8_t& size) {
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view hex = rest.substr(space + 1);
  if (hex.size() != 64 && hex.size() != 96) return false;
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  size = static_cast<uint8_t>(hex.size() / 2);
  return true;
}

void on_key_log(const SSL* ssl, const char* line) {
  // The callback OpenSSL calls is that of the SSL's current context.
  if (auto* context =
          static_cast<ContextCapture*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
      context && context->user) {
    context->user(ssl, line);
  }
  Capture* c = capture_of(ssl);
  if (!c) return;
  const std::string_view text(line);
  static constexpr std::string_view kClient = "CLIENT_TRAFFIC_SECRET_0 ";
  static constexpr std::string_view kServer = "SERVER_TRAFFIC_SECRET_0 ";
  if (text.starts_with(kClient)) {
    if (!parse_secret(text.substr(kClient.size()), c->client_secret, c->client_size)) {
      c->client_size = 0;
    }
  } else if (text.starts_with(kServer)) {
    if (!parse_secret(text.substr(kServer.size()), c->server_secret, c->server_size)) {
      c->server_size = 0;
    }
  }
}

void on_message(int write_p, int, int content_type, const void* buf, size_t len, SSL* ssl, void*) {
  Capture* c = capture_of(ssl);
  if (!c) {
    // The first record of a handshake: start capturing.
    c = new (std::nothrow) Capture;
    if (!c) return;
    if (!SSL_set_ex_data(ssl, ssl_index(), c)) {
      delete c;
      return;
    }
  }
  const auto* bytes = static_cast<const uint8_t*>(buf);
  if (content_type == SSL3_RT_HEADER && len >= 5) {
    if (write_p && c->own_finished) ++c->written;
    if (!write_p && c->peer_finished) ++c->read;
  } else if (content_type == SSL3_RT_HANDSHAKE && len >= 1) {
    if (bytes[0] == SSL3_MT_FINISHED) (write_p ? c->own_finished : c->peer_finished) = true;
    if (bytes[0] == SSL3_MT_KEY_UPDATE) c->key_updated = true;
  }
}

}  // namespace

bool capture_traffic_secrets(SSL_CTX* ctx) {
  const int index = context_index();
  if (index < 0 || ssl_index() < 0) return false;
  SSL_CTX_keylog_cb_func user = SSL_CTX_get_keylog_callback(ctx);
  if (user != on_key_log) {
    auto* context = static_cast<ContextCapture*>(SSL_CTX_get_ex_data(ctx, index));
    if (!context) {
      context = new (std::nothrow) ContextCapture;
      if (!context || !SSL_CTX_set_ex_data(ctx, index, context)) {
        delete context;
        return false;
      }
    }
    context->user = user;
  }
  SSL_CTX_set_keylog_callback(ctx, on_key_log);
  SSL_CTX_set_msg_callback(ctx, on_message);
  return true;
}

std::unique_ptr<RecordProtection> take_record_protection(SSL* ssl) {
  Capture* c = capture_of(ssl);
  std::unique_ptr<RecordProtection> protection;
  CipherSuite suite;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  if (c && cipher && SSL_is_init_finished(ssl) && SSL_version(ssl) == TLS1_3_VERSION &&
      cipher_suite_from_iana(SSL_CIPHER_get_protocol_id(cipher), suite) && c->own_finished &&
      c->peer_finished && !c->key_updated && SSL_has_pending(ssl) == 0 &&
      SSL_get_key_update_type(ssl) == SSL_KEY_UPDATE_NONE) {
    const std::size_t hash = suite == CipherSuite::aes_256_gcm_sha384 ? 48 : 32;
    if (c->client_size == hash && c->server_size == hash) {
      const bool server = SSL_is_server(ssl) == 1;
      const Role role = server ? Role::server : Role::client;
      TrafficKeys client(suite, {c->client_secret, hash}, server ? c->read : c->written);
      TrafficKeys srv(suite, {c->server_secret, hash}, server ? c->written : c->read);
      protection =
          std::make_unique<RecordProtection>(role, server ? client : srv, server ? srv : client);
      OPENSSL_cleanse(&client, sizeof client);
      OPENSSL_cleanse(&srv, sizeof srv);
    }
  }
  drop_capture(ssl);
  return protection;
}

std::unique_ptr<RecordProtection> take_record_protection(SSL* ssl, Role role) {
  if ((role == Role::server) != (SSL_is_server(ssl) == 1)) {
    drop_capture(ssl);
    return nullptr;
  }
  return take_record_protection(ssl);
}

}  // namespace httpkit::tls
