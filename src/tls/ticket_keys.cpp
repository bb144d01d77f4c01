#include "tls/ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace httpkit::tls {

namespace {
std::atomic<uint64_t> next_id{1};
}  // namespace

TicketKeys::TicketKeys(std::chrono::seconds period)
    : period_seconds_(uint64_t(std::max<int64_t>(1, period.count()))), id_(next_id++) {
  if (RAND_bytes(secret_, sizeof secret_) != 1)
    throw std::runtime_error("TLS: no randomness for the session-ticket secret");
}

TicketKeys::~TicketKeys() {
  OPENSSL_cleanse(secret_, sizeof secret_);
}

uint64_t TicketKeys::current_period() const {
  return uint64_t(std::time(nullptr)) / period_seconds_;
}

bool TicketKeys::derive(uint64_t period_index, Key& key) const {
  struct Cached {
    uint64_t owner = 0;  // a TicketKeys' id_; 0: empty
    uint64_t period = 0;
    Key key;
    ~Cached() { OPENSSL_cleanse(&key, sizeof key); }
  };
  thread_local Cached cache[2];  // the current period's and the previous one's
  for (const Cached& c : cache) {
    if (c.owner == id_ && c.period == period_index) {
      key = c.key;
      return true;
    }
  }
  if (!derive_uncached(period_index, key)) return false;
  // Replace another object's key first, then the older period's.
  Cached& slot = cache[0].owner != id_                                        ? cache[0]
                 : cache[1].owner != id_ || cache[1].period < cache[0].period ? cache[1]
                                                                              : cache[0];
  slot.owner = id_;
  slot.period = period_index;
  slot.key = key;
  return true;
}

// HKDF-SHA256(secret, info = label || period) -> name, AES key, HMAC key.
bool TicketKeys::derive_uncached(uint64_t period_index, Key& key) const {
  unsigned char info[24] = "httpkit ticket key";
  for (int i = 0; i < 4; ++i)
    info[20 + i] = static_cast<unsigned char>(period_index >> (8 * (3 - i)));
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (!ctx) return false;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<unsigned char*>(secret_),
                                        sizeof secret_),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info),
      OSSL_PARAM_construct_end()};
  const bool ok =
      EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(&key), sizeof key, params) == 1;
  EVP_KDF_CTX_free(ctx);
  return ok;
}

int TicketKeys::apply(unsigned char name[16], unsigned char iv[16], EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int enc) const {
  const uint64_t now = current_period();
  Key key;
  auto set_mac = [&] {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac, sizeof key.hmac),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()};
    return EVP_MAC_CTX_set_params(mac, params) == 1;
  };
  int result = -1;
  if (enc) {
    if (derive(now, key) && RAND_bytes(iv, 16) == 1 &&
        EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv) == 1 && set_mac()) {
      std::memcpy(name, key.name, sizeof key.name);
      result = 1;
    }
  } else {
    result = 0;  // unknown key: the client gets a full handshake
    for (uint64_t period : {now, now - 1}) {
      if (!derive(period, key)) {
        result = -1;
        break;
      }
      if (CRYPTO_memcmp(name, key.name, sizeof key.name) != 0) continue;
      const bool ok =
          EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv) == 1 && set_mac();
      result = !ok ? -1 : period == now ? 1 : 2;
      break;
    }
  }
  OPENSSL_cleanse(&key, sizeof key);
  return result;
}

}  // namespace httpkit::tls
