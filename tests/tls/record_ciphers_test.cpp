// The loop's cache of keyed AEAD contexts: many connections interleaved
// through fewer contexts than keys, so that contexts are re-keyed and
// reused, must give every record exactly the bytes a context keyed for it
// alone gives, and never open one connection's record with another's keys.
#include <openssl/rand.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/record_protection.hpp"

namespace httpkit::tls {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  EXPECT_EQ(RAND_bytes(b.data(), static_cast<int>(n)), 1);
  return b;
}

std::size_t secret_size(CipherSuite suite) {
  return suite == CipherSuite::aes_256_gcm_sha384 ? 48 : 32;
}

// Both ends of one connection, from fresh random secrets.
struct Connection {
  Bytes client_secret, server_secret;
  std::unique_ptr<RecordProtection> server, client;

  explicit Connection(CipherSuite suite)
      : client_secret(random_bytes(secret_size(suite))),
        server_secret(random_bytes(secret_size(suite))) {
    server = std::make_unique<RecordProtection>(Role::server, TrafficKeys(suite, client_secret),
                                                TrafficKeys(suite, server_secret));
    client = std::make_unique<RecordProtection>(Role::client, TrafficKeys(suite, server_secret),
                                                TrafficKeys(suite, client_secret));
  }
  // The same keys and sequence numbers in objects of their own.
  Connection(const Connection& o, CipherSuite suite)
      : client_secret(o.client_secret), server_secret(o.server_secret) {
    server = std::make_unique<RecordProtection>(Role::server, TrafficKeys(suite, client_secret),
                                                TrafficKeys(suite, server_secret));
    client = std::make_unique<RecordProtection>(Role::client, TrafficKeys(suite, server_secret),
                                                TrafficKeys(suite, client_secret));
  }
};

Bytes seal(RecordProtection& p, RecordCiphers& c, const std::string& text) {
  Bytes out(text.size() + kRecordOverhead);
  iovec iov{const_cast<char*>(text.data()), text.size()};
  std::size_t taken = 0;
  out.resize(p.seal(c, &iov, 1, out, taken));
  EXPECT_EQ(taken, text.size());
  return out;
}

std::string open(RecordProtection& p, RecordCiphers& c, Bytes record, RecordEvent& event) {
  const auto opened = p.open(c, record);
  event = opened.event;
  return std::string(record.begin(), record.begin() + opened.plaintext);
}

CipherSuite suite_of(int i) {
  static constexpr CipherSuite kSuites[] = {CipherSuite::aes_128_gcm_sha256,
                                            CipherSuite::aes_256_gcm_sha384,
                                            CipherSuite::chacha20_poly1305_sha256};
  return kSuites[i % 3];
}

// 7 connections of the three suites, both directions, through 3 contexts
// per side; twins of the same connections through contexts of their own
// seal the same bytes, and each record opens only at its own peer.
TEST(RecordCiphersCache, InterleavedConnectionsWithEviction) {
  constexpr int kConnections = 7;
  RecordCiphers server_side(3), client_side(3), reference(254);
  std::vector<Connection> cached, twins;
  cached.reserve(kConnections);
  twins.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    cached.emplace_back(suite_of(i));
    twins.emplace_back(cached.back(), suite_of(i));
  }
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < kConnections; ++k) {
      const int i = (k * 3 + round) % kConnections;  // a changing order
      const std::string request = "request " + std::to_string(round) + " on " + std::to_string(i);
      const std::string response(100 + round * 37 + i, char('a' + i));

      const Bytes sealed = seal(*cached[i].client, client_side, request);
      EXPECT_EQ(sealed, seal(*twins[i].client, reference, request));
      RecordEvent event;
      EXPECT_EQ(open(*cached[i].server, server_side, sealed, event), request);
      EXPECT_EQ(event, RecordEvent::none);
      EXPECT_EQ(open(*twins[i].server, reference, sealed, event), request);

      const Bytes answer = seal(*cached[i].server, server_side, response);
      EXPECT_EQ(answer, seal(*twins[i].server, reference, response));
      EXPECT_EQ(open(*cached[i].client, client_side, answer, event), response);
      EXPECT_EQ(event, RecordEvent::none);
      EXPECT_EQ(open(*twins[i].client, reference, answer, event), response);
    }
  }
  EXPECT_GT(server_side.misses(), 3u);  // contexts were re-keyed for other keys
  EXPECT_GT(reference.hits(), reference.misses());
}

// A record sealed for one connection does not open at another whose keys
// are the ones its context holds, at the same sequence number.
TEST(RecordCiphersCache, AnotherConnectionsRecordIsBadRecordMac) {
  for (int s = 0; s < 3; ++s) {
    RecordCiphers ciphers(2);
    Connection a(suite_of(s)), b(suite_of(s));
    RecordEvent event;
    EXPECT_EQ(open(*b.server, ciphers, seal(*b.client, ciphers, "b's"), event), "b's");
    EXPECT_EQ(open(*a.client, ciphers, seal(*a.server, ciphers, "a's"), event), "a's");
    // b's server: keyed context in the cache, sequence 1, as a's client record.
    const Bytes from_a = seal(*a.client, ciphers, "for a only");
    EXPECT_EQ(open(*b.server, ciphers, from_a, event), "");
    EXPECT_EQ(event, RecordEvent::fault);
    EXPECT_EQ(b.server->alert_to_send(), AlertDescription::bad_record_mac);
    EXPECT_EQ(open(*a.server, ciphers, from_a, event), "for a only");
    EXPECT_EQ(event, RecordEvent::none);
  }
}

TEST(RecordCiphersCache, HitsWhileAKeyStaysAndMissesWhenEvicted) {
  RecordCiphers one(1);
  Connection a(CipherSuite::aes_128_gcm_sha256), b(CipherSuite::aes_128_gcm_sha256);
  RecordCiphers peer(1);
  RecordEvent event;
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(open(*a.client, peer, seal(*a.server, one, "x"), event), "x");
  EXPECT_EQ(one.misses(), 1u);
  EXPECT_EQ(one.hits(), 9u);
  for (int i = 0; i < 5; ++i) {  // a's and b's server keys alternate in one context
    EXPECT_EQ(open(*a.client, peer, seal(*a.server, one, "a"), event), "a");
    EXPECT_EQ(open(*b.client, peer, seal(*b.server, one, "b"), event), "b");
  }
  EXPECT_EQ(one.misses(), 1u + 1u + 8u);  // a's key stayed for the first
  EXPECT_EQ(one.hits(), 9u + 1u);

  RecordCiphers two(4);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(open(*a.client, peer, seal(*a.server, two, "a"), event), "a");
    EXPECT_EQ(open(*b.client, peer, seal(*b.server, two, "b"), event), "b");
  }
  EXPECT_EQ(two.misses(), 2u);
  EXPECT_EQ(two.hits(), 8u);
}

TEST(RecordCiphersCache, ForgottenKeysAreKeyedAgainWhenUsed) {
  RecordCiphers ciphers(4);
  Connection a(CipherSuite::chacha20_poly1305_sha256);
  RecordEvent event;
  EXPECT_EQ(open(*a.client, ciphers, seal(*a.server, ciphers, "1"), event), "1");
  ciphers.forget(a.server->write_keys());
  ciphers.forget(a.server->write_keys());  // twice: nothing more
  ciphers.forget(a.client->read_keys());
  const uint64_t misses = ciphers.misses();
  EXPECT_EQ(open(*a.client, ciphers, seal(*a.server, ciphers, "2"), event), "2");
  EXPECT_EQ(ciphers.misses(), misses + 2);
}

}  // namespace
}  // namespace httpkit::tls
