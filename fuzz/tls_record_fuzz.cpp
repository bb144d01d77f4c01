// libFuzzer target: the TLS 1.3 record layer (src/tls/record_protection)
// reading what a peer sent after the handshake, on fixed keys. The input
// describes that stream, so that the fuzzer reaches past the AEAD tag:
//
//   byte 0  bit 0    our role (0 server, 1 client)
//           bits 1-2 the suite (3 wraps to AES-128-GCM)
//   byte 1  seed for the cuts of the stream and the seal() calls between
//   then ops, each a byte and its operands:
//     op & 3 == 0  a record protected with the peer's current keys; its
//                  inner plaintext is the next N bytes (N = 1 byte, or
//                  2 bytes if op bit 7 is set), any inner type or padding
//     op & 3 == 1  N raw bytes (N = the next byte): headers, plain records
//     op & 3 == 2  the next protected record gets byte (next) ^= (next)
//     op & 3 == 3  a KeyUpdate record; op bit 2: update_requested
//
// The stream is read once record by record (the reference, whose read keys
// also protect the next record) and once cut at seeded points with seal()
// calls in between; both must report the same bytes and events. What we
// seal is read back by a RecordProtection of the other role, across the
// KeyUpdates we answer. A violated invariant traps.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "tls/record_protection.hpp"

namespace {

using namespace httpkit::tls;
using Bytes = std::vector<uint8_t>;

const uint8_t kSecretA[48] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const uint8_t kSecretB[48] = {99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88, 87, 86, 85, 84};

// What a reader reported over a whole stream.
struct Transcript {
  std::string data;
  RecordEvent event = RecordEvent::none;
  AlertDescription alert = AlertDescription::close_notify;
  bool operator==(const Transcript&) const = default;
};

// Opens what `in` holds; keeps the partial record; true while reading on.
bool read_into(RecordProtection& p, RecordCiphers& c, Bytes& in, Transcript& t) {
  const auto opened = p.open(c, in);
  FUZZ_CHECK(opened.consumed <= in.size());
  FUZZ_CHECK(opened.plaintext <= opened.consumed);
  t.data.append(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(opened.plaintext));
  in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(opened.consumed));
  // No whole record is left behind unless reading stopped.
  if (opened.event == RecordEvent::none && in.size() >= kRecordHeader) {
    const std::size_t length = std::size_t{in[3]} << 8 | in[4];
    FUZZ_CHECK(in.size() < kRecordHeader + length);
  }
  if (opened.event == RecordEvent::none) return true;
  t.event = opened.event;
  if (opened.event == RecordEvent::fault) {
    t.alert = p.alert_to_send();
    FUZZ_CHECK(t.alert != AlertDescription::close_notify);
    Bytes again{23, 3, 3, 0, 17};
    FUZZ_CHECK(p.open(c, again).event == RecordEvent::fault);  // faults are final
  } else if (opened.event == RecordEvent::peer_alert) {
    t.alert = p.peer_alert();
  }
  return false;
}

struct Input {
  const uint8_t* p;
  std::size_t n;
  uint8_t next() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Input input{data + 2, size - 2};
  const Role role = (data[0] & 1) ? Role::client : Role::server;
  const int suite_bits = (data[0] >> 1) & 3;
  const auto suite = static_cast<CipherSuite>(suite_bits == 3 ? 0 : suite_bits);
  const std::size_t secret_size = suite == CipherSuite::aes_256_gcm_sha384 ? 48 : 32;
  const TrafficKeys peer_keys(suite, {kSecretA, secret_size});
  const TrafficKeys our_keys(suite, {kSecretB, secret_size});

  static RecordCiphers ciphers;  // one per loop thread, as in the server
  RecordProtection reference(role, peer_keys, our_keys);

  // Build the stream, each record protected with the keys the reference
  // reads it with, and read it record by record.
  Bytes stream;
  Bytes pending;
  Transcript expected;
  int tamper_at = -1;
  uint8_t tamper_mask = 0;
  bool reading = true;
  while (input.n > 0 && reading && stream.size() < 200000) {
    const uint8_t op = input.next();
    Bytes chunk;
    if ((op & 3) == 1) {
      for (std::size_t len = input.next(); len > 0 && input.n > 0; --len) {
        chunk.push_back(input.next());
      }
    } else if ((op & 3) == 2) {
      tamper_at = input.next();
      tamper_mask = input.next();
      continue;
    } else {
      Bytes inner;
      if ((op & 3) == 3) {
        inner = {24, 0, 0, 1, static_cast<uint8_t>((op >> 2) & 1), 22};
      } else {
        std::size_t len = input.next();
        if (op & 0x80) len = len << 8 | input.next();
        len = std::min(len, kMaxPlaintext + 2);
        for (; len > 0 && input.n > 0; --len)
          inner.push_back(input.next());
      }
      chunk.resize(kRecordHeader + inner.size() + 16);
      const std::size_t body = inner.size() + 16;
      const uint8_t header[kRecordHeader] = {23, 3, 3, static_cast<uint8_t>(body >> 8),
                                             static_cast<uint8_t>(body)};
      std::memcpy(chunk.data(), header, kRecordHeader);
      if (!inner.empty()) std::memcpy(chunk.data() + kRecordHeader, inner.data(), inner.size());
      TrafficKeys keys = reference.read_keys();
      FUZZ_CHECK(ciphers.seal(keys, header, chunk.data() + kRecordHeader, inner.size(),
                              chunk.data() + kRecordHeader + inner.size()));
      if (tamper_at >= 0) {
        chunk[static_cast<std::size_t>(tamper_at) % chunk.size()] ^= tamper_mask;
        tamper_at = -1;
      }
    }
    stream.insert(stream.end(), chunk.begin(), chunk.end());
    pending.insert(pending.end(), chunk.begin(), chunk.end());
    reading = read_into(reference, ciphers, pending, expected);
  }

  // The same stream, cut, with our seal() calls read back by the peer.
  const Role peer_role = role == Role::server ? Role::client : Role::server;
  RecordProtection ours(role, peer_keys, our_keys);
  RecordProtection peer(peer_role, our_keys, peer_keys);
  uint32_t rng = data[1] * 2654435761u + 1;
  auto random = [&rng](uint32_t bound) {
    rng = rng * 1103515245u + 12345u;
    return bound ? (rng >> 8) % bound : 0;
  };
  Transcript got;
  Bytes in;
  std::string sent;
  Transcript heard;
  Bytes to_peer;
  std::size_t at = 0;
  reading = true;
  while (reading && at < stream.size()) {
    const std::size_t cut = std::min(stream.size() - at, std::size_t{1} + random(3000));
    in.insert(in.end(), stream.begin() + static_cast<std::ptrdiff_t>(at),
              stream.begin() + static_cast<std::ptrdiff_t>(at + cut));
    at += cut;
    reading = read_into(ours, ciphers, in, got);
    if (random(4) == 0) {
      // Seal a few bytes, maybe more than fit, into a buffer of some size.
      const std::string text(random(20000), static_cast<char>('a' + random(26)));
      iovec iov{const_cast<char*>(text.data()), text.size()};
      Bytes out(random(3) == 0 ? random(200) : 40000);
      const bool owed = ours.key_update_owed();
      std::size_t taken = 0;
      out.resize(ours.seal(ciphers, &iov, 1, out, taken));
      FUZZ_CHECK(taken <= text.size());
      if (owed) FUZZ_CHECK(out.empty() == ours.key_update_owed());
      sent.append(text, 0, taken);
      to_peer.insert(to_peer.end(), out.begin(), out.end());
      FUZZ_CHECK(read_into(peer, ciphers, to_peer, heard));
      FUZZ_CHECK(to_peer.empty());
    }
  }
  FUZZ_CHECK(got == expected);
  FUZZ_CHECK(heard.data == sent);
  Bytes alert(kRecordOverhead + 2);
  alert.resize(ours.seal_alert(ciphers, AlertDescription::close_notify, alert));
  FUZZ_CHECK(alert.size() == kRecordOverhead + 2);
  FUZZ_CHECK(!read_into(peer, ciphers, alert, heard) && heard.event == RecordEvent::close_notify);
  return 0;
}
