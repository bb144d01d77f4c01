// Session-ticket keys that rotate without coordination: one random secret,
// made before the worker processes fork, and the key of each period derived
// from it (HKDF), so every process encrypts with the same key at the same
// time and a ticket from the previous period still resumes (and is renewed).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>

namespace httpkit::tls {

class TicketKeys {
 public:
  // A fresh random secret; keys change every `period`.
  explicit TicketKeys(std::chrono::seconds period);
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // For SSL_CTX_set_tlsext_ticket_key_evp_cb: encrypt (enc = 1) with the
  // current period's key, or find the key a ticket names (1: current,
  // 2: previous period, renew; 0: unknown, a full handshake; -1: error).
  int apply(unsigned char name[16], unsigned char iv[16], EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
            int enc) const;

 private:
  struct Key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
  };
  // The key of a period: from the thread's cache of the last two, or
  // derived (an HKDF whose fetch and derivation cost ~3 us, twice per
  // full handshake for its two tickets, would otherwise run per ticket).
  bool derive(uint64_t period_index, Key& key) const;
  bool derive_uncached(uint64_t period_index, Key& key) const;
  uint64_t current_period() const;

  unsigned char secret_[32];
  uint64_t period_seconds_;
  uint64_t id_;  // tells this object's keys in a thread's cache from another's
};

}  // namespace httpkit::tls
