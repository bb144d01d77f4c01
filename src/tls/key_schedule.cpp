// The key schedule's last step (RFC 8446 §7.1, §7.3): HKDF-Expand-Label on
// a traffic secret gives the record key, the IV and, for KeyUpdate, the
// next secret. HKDF-Expand is RFC 5869 §2.3 over OpenSSL's HMAC.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>
#include <stdexcept>

#include "tls/record_protection.hpp"

namespace httpkit::tls {

namespace {

const EVP_MD* suite_hash(CipherSuite suite) {
  return suite == CipherSuite::aes_256_gcm_sha384 ? EVP_sha384() : EVP_sha256();
}

std::size_t hash_size(CipherSuite suite) {
  return suite == CipherSuite::aes_256_gcm_sha384 ? 48 : 32;
}

std::size_t key_size(CipherSuite suite) {
  return suite == CipherSuite::aes_128_gcm_sha256 ? 16 : 32;
}

// The longest HkdfLabel: length, label<7..255>, context<0..255>.
constexpr std::size_t kMaxInfo = 2 + 1 + 255 + 1 + 255;

// A thread's HMAC context for `md`, keyed anew for each use. OpenSSL 3's
// one-shot HMAC() fetches the HMAC implementation and the digest by name
// on every call: 3.6 µs against 1.3 µs for re-keying a kept context, and
// a handshake expands four labels.
EVP_MAC_CTX* hmac_context(const EVP_MD* md) {
  struct Contexts {
    EVP_MAC_CTX* sha256 = nullptr;
    EVP_MAC_CTX* sha384 = nullptr;
    ~Contexts() {
      EVP_MAC_CTX_free(sha256);
      EVP_MAC_CTX_free(sha384);
    }
  };
  thread_local Contexts contexts;
  const bool sha384 = EVP_MD_get_size(md) == 48;
  EVP_MAC_CTX*& ctx = sha384 ? contexts.sha384 : contexts.sha256;
  if (ctx) return ctx;
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  EVP_MAC_CTX* made = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  EVP_MAC_free(mac);  // the context holds its own reference
  char digest[] = "SHA384";
  if (!sha384) std::memcpy(digest, "SHA256", sizeof digest);
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!made || EVP_MAC_CTX_set_params(made, params) != 1) {
    EVP_MAC_CTX_free(made);
    throw std::runtime_error("HMAC unavailable");
  }
  return ctx = made;
}

// HKDF-Expand (RFC 5869 §2.3), T(i) = HMAC(PRK, T(i-1) | info | i), for
// any number of outputs from one PRK. Keying HMAC (its two pads) is most
// of an expansion's cost, so the thread's context is keyed once, every
// block re-initialises it with the key it holds, and the key is wiped with
// zeros when the expander goes: no secret lingers in the kept context.
class Expander {
 public:
  Expander(const EVP_MD* md, std::span<const uint8_t> prk)
      : hmac_(hmac_context(md)), hash_(static_cast<std::size_t>(EVP_MD_get_size(md))) {
    if (EVP_MAC_init(hmac_, prk.data(), prk.size(), nullptr) != 1)
      throw std::runtime_error("HMAC failed");
  }
  ~Expander() {
    static constexpr uint8_t kNoKey[EVP_MAX_MD_SIZE] = {};
    EVP_MAC_init(hmac_, kNoKey, hash_, nullptr);
  }
  Expander(const Expander&) = delete;
  Expander& operator=(const Expander&) = delete;

  void expand(std::span<const uint8_t> info, std::span<uint8_t> out) {
    if (out.size() > 255 * hash_ || info.size() > kMaxInfo) throw std::length_error("hkdf_expand");
    uint8_t block[EVP_MAX_MD_SIZE + kMaxInfo + 1];
    uint8_t t[EVP_MAX_MD_SIZE];
    std::size_t t_size = 0;
    std::size_t done = 0;
    for (unsigned i = 1; done < out.size(); ++i) {
      std::memcpy(block, t, t_size);
      std::memcpy(block + t_size, info.data(), info.size());
      block[t_size + info.size()] = static_cast<uint8_t>(i);
      std::size_t len = 0;
      if (EVP_MAC_init(hmac_, nullptr, 0, nullptr) != 1 ||
          EVP_MAC_update(hmac_, block, t_size + info.size() + 1) != 1 ||
          EVP_MAC_final(hmac_, t, &len, sizeof t) != 1) {
        throw std::runtime_error("HMAC failed");
      }
      t_size = len;
      const std::size_t n = std::min(t_size, out.size() - done);
      std::memcpy(out.data() + done, t, n);
      done += n;
    }
    OPENSSL_cleanse(t, sizeof t);
    OPENSSL_cleanse(block, sizeof block);
  }

  // HKDF-Expand-Label (RFC 8446 §7.1): info is HkdfLabel = uint16 length |
  // opaque label<7..255> ("tls13 " + label) | opaque context<0..255>.
  void expand_label(const char* label, std::span<const uint8_t> context, std::span<uint8_t> out) {
    static constexpr char kPrefix[] = "tls13 ";
    const std::size_t label_size = sizeof kPrefix - 1 + std::strlen(label);
    if (label_size > 255 || context.size() > 255 || out.size() > 0xffff) {
      throw std::length_error("hkdf_expand_label");
    }
    uint8_t info[kMaxInfo];
    std::size_t n = 0;
    info[n++] = static_cast<uint8_t>(out.size() >> 8);
    info[n++] = static_cast<uint8_t>(out.size());
    info[n++] = static_cast<uint8_t>(label_size);
    std::memcpy(info + n, kPrefix, sizeof kPrefix - 1);
    n += sizeof kPrefix - 1;
    std::memcpy(info + n, label, label_size - (sizeof kPrefix - 1));
    n += label_size - (sizeof kPrefix - 1);
    info[n++] = static_cast<uint8_t>(context.size());
    if (!context.empty()) std::memcpy(info + n, context.data(), context.size());
    n += context.size();
    expand({info, n}, out);
  }

 private:
  EVP_MAC_CTX* hmac_;
  std::size_t hash_;
};

}  // namespace

bool cipher_suite_from_iana(uint16_t code, CipherSuite& suite) {
  switch (code) {
    case 0x1301:
      suite = CipherSuite::aes_128_gcm_sha256;
      return true;
    case 0x1302:
      suite = CipherSuite::aes_256_gcm_sha384;
      return true;
    case 0x1303:
      suite = CipherSuite::chacha20_poly1305_sha256;
      return true;
    default:
      return false;
  }
}

void hkdf_expand_label(CipherSuite suite, std::span<const uint8_t> secret, const char* label,
                       std::span<const uint8_t> context, std::span<uint8_t> out) {
  Expander(suite_hash(suite), secret).expand_label(label, context, out);
}

TrafficKeys::TrafficKeys(CipherSuite suite, std::span<const uint8_t> secret, uint64_t sequence)
    : sequence_(sequence), suite_(suite), secret_size_(static_cast<uint8_t>(hash_size(suite))) {
  if (secret.size() != secret_size_) throw std::invalid_argument("traffic secret size");
  std::memcpy(secret_, secret.data(), secret_size_);
  derive_key_and_iv();
}

void TrafficKeys::derive_key_and_iv() {
  Expander expander(suite_hash(suite_), {secret_, secret_size_});
  expander.expand_label("key", {}, {key_, key_size(suite_)});
  expander.expand_label("iv", {}, {iv_, sizeof iv_});
}

// In place, so that no copy of the old secret is left behind.
void TrafficKeys::update() {
  uint8_t next[48];
  hkdf_expand_label(suite_, {secret_, secret_size_}, "traffic upd", {}, {next, secret_size_});
  std::memcpy(secret_, next, secret_size_);
  OPENSSL_cleanse(next, sizeof next);
  derive_key_and_iv();
  sequence_ = 0;
}

void TrafficKeys::nonce(uint8_t out[12]) const {
  std::memcpy(out, iv_, 12);
  for (int i = 0; i < 8; ++i)
    out[11 - i] ^= static_cast<uint8_t>(sequence_ >> (8 * i));
}

std::span<const uint8_t> TrafficKeys::key() const {
  return {key_, key_size(suite_)};
}

}  // namespace httpkit::tls
