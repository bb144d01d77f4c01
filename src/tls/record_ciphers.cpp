// A loop's AEAD contexts for the TLS 1.3 record layer: a small cache of
// keyed contexts, so that a record of a busy connection sets only its
// nonce. Keying an AES-GCM context (the key schedule and GHASH table) costs
// about four times what setting the nonce does; keeping one keyed context
// per connection would cost 1,168 B for every idle connection.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "tls/record_protection.hpp"

namespace httpkit::tls {

namespace {

constexpr std::size_t kTag = 16;

const EVP_CIPHER* cipher_of(CipherSuite suite) {
  switch (suite) {
    case CipherSuite::aes_256_gcm_sha384:
      return EVP_aes_256_gcm();
    case CipherSuite::chacha20_poly1305_sha256:
      return EVP_chacha20_poly1305();
    case CipherSuite::aes_128_gcm_sha256:
    default:
      return EVP_aes_128_gcm();
  }
}

}  // namespace

struct RecordCiphers::Slot {
  EVP_CIPHER_CTX* ctx = nullptr;
  uint8_t key[32] = {};
  uint8_t key_size = 0;  // 0: holds no usable key
  int8_t cipher = -1;    // the suite whose cipher ctx is set up for, or -1
  CipherSuite suite = CipherSuite::aes_128_gcm_sha256;
  bool referenced = false;  // used since the CLOCK's hand last passed

  bool holds(const TrafficKeys& keys) const {
    const std::span<const uint8_t> k = keys.key();
    return key_size == k.size() && suite == keys.suite() &&
           CRYPTO_memcmp(key, k.data(), k.size()) == 0;
  }
};

RecordCiphers::RecordCiphers(std::size_t slots)
    : slots_(nullptr), size_(std::clamp<std::size_t>(slots, 1, TrafficKeys::kNoSlot - 1)) {
  slots_ = new Slot[size_];
}

RecordCiphers::~RecordCiphers() {
  for (std::size_t i = 0; i < size_; ++i) {
    EVP_CIPHER_CTX_free(slots_[i].ctx);  // the providers wipe their key state
    OPENSSL_cleanse(slots_[i].key, sizeof slots_[i].key);
  }
  delete[] slots_;
}

EVP_CIPHER_CTX* RecordCiphers::keyed(const TrafficKeys& keys, int encrypt) {
  uint8_t nonce[12];
  keys.nonce(nonce);
  if (keys.cache_slot_ < size_ && slots_[keys.cache_slot_].holds(keys)) {
    Slot& s = slots_[keys.cache_slot_];
    s.referenced = true;
    ++hits_;
    // No key: the context keeps its key schedule and takes the new nonce
    // (and direction) only.
    return EVP_CipherInit_ex(s.ctx, nullptr, nullptr, nullptr, nonce, encrypt) == 1 ? s.ctx
                                                                                    : nullptr;
  }
  ++misses_;
  // CLOCK: the first slot not used since the hand last passed it.
  std::size_t index = hand_;
  for (;;) {
    index = hand_;
    hand_ = (hand_ + 1) % size_;
    if (!slots_[index].referenced) break;
    slots_[index].referenced = false;
  }
  Slot& s = slots_[index];
  s.key_size = 0;  // unusable until keyed again
  s.referenced = false;
  if (!s.ctx && !(s.ctx = EVP_CIPHER_CTX_new())) return nullptr;
  const int suite = static_cast<int>(keys.suite());
  const EVP_CIPHER* cipher = s.cipher == suite ? nullptr : cipher_of(keys.suite());
  s.cipher = -1;
  const std::span<const uint8_t> key = keys.key();
  if (EVP_CipherInit_ex(s.ctx, cipher, nullptr, key.data(), nonce, encrypt) != 1) return nullptr;
  s.cipher = static_cast<int8_t>(suite);
  std::memcpy(s.key, key.data(), key.size());
  s.key_size = static_cast<uint8_t>(key.size());
  s.suite = keys.suite();
  s.referenced = true;
  keys.cache_slot_ = static_cast<uint8_t>(index);
  return s.ctx;
}

void RecordCiphers::forget(const TrafficKeys& keys) {
  if (keys.cache_slot_ >= size_) return;
  Slot& s = slots_[keys.cache_slot_];
  keys.cache_slot_ = TrafficKeys::kNoSlot;
  if (!s.holds(keys)) return;  // already re-keyed for another
  // Overwrite the key schedule: no copy of a finished key stays behind.
  static constexpr uint8_t kZeros[32] = {};
  if (EVP_CipherInit_ex(s.ctx, nullptr, nullptr, kZeros, nullptr, 1) != 1) {
    EVP_CIPHER_CTX_free(s.ctx);
    s.ctx = nullptr;
    s.cipher = -1;
  }
  OPENSSL_cleanse(s.key, sizeof s.key);
  s.key_size = 0;
  s.referenced = false;
}

bool RecordCiphers::seal(const TrafficKeys& keys, const uint8_t header[kRecordHeader],
                         uint8_t* body, std::size_t body_size, uint8_t tag[16]) {
  EVP_CIPHER_CTX* ctx = keyed(keys, 1);
  int n = 0;
  int final_size = 0;
  return ctx && EVP_CipherUpdate(ctx, nullptr, &n, header, kRecordHeader) == 1 &&
         EVP_CipherUpdate(ctx, body, &n, body, static_cast<int>(body_size)) == 1 &&
         EVP_CipherFinal_ex(ctx, body + n, &final_size) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTag, tag) == 1;
}

bool RecordCiphers::open(const TrafficKeys& keys, const uint8_t header[kRecordHeader],
                         uint8_t* body, std::size_t body_size) {
  if (body_size < kTag) return false;
  EVP_CIPHER_CTX* ctx = keyed(keys, 0);
  uint8_t tag[kTag];
  std::memcpy(tag, body + body_size - kTag, kTag);
  const int size = static_cast<int>(body_size - kTag);
  int n = 0;
  int final_size = 0;
  return ctx && EVP_CipherUpdate(ctx, nullptr, &n, header, kRecordHeader) == 1 &&
         EVP_CipherUpdate(ctx, body, &n, body, size) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTag, tag) == 1 &&
         EVP_CipherFinal_ex(ctx, body + n, &final_size) == 1;
}

}  // namespace httpkit::tls
