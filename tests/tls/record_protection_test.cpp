// The record layer alone: RFC 8448 §3's keys and records, and every way
// the bytes of a peer can break the protocol.
#include "tls/record_protection.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace httpkit::tls {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes hex(std::string_view s) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// RFC 8448 §3 (Simple 1-RTT Handshake), TLS_AES_128_GCM_SHA256.
const Bytes kClientSecret = hex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5");
const Bytes kServerSecret = hex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
// The client's 50 bytes 00..31 (its record 0), echoed by the server (its
// record 1, after the NewSessionTicket), then close_notify each way.
const Bytes kClientData = hex(
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e"
    "2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4");
const Bytes kServerData = hex(
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59"
    "a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d");
const Bytes kClientAlert = hex("1703030013c9872760655666b74d7ff1153efd6db6d0b0e3");
const Bytes kServerAlert = hex("1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9");

Bytes counting(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = static_cast<uint8_t>(i);
  return b;
}

Bytes seal_all(RecordProtection& p, RecordCiphers& c, const Bytes& data) {
  Bytes out(data.size() + 64 * kRecordOverhead + 64);
  iovec iov{const_cast<uint8_t*>(data.data()), data.size()};
  std::size_t taken = 0;
  out.resize(p.seal(c, &iov, 1, out, taken));
  EXPECT_EQ(taken, data.size());
  return out;
}

TEST(RecordProtectionRfc8448, DerivesTheApplicationKeysAndIvs) {
  TrafficKeys server(CipherSuite::aes_128_gcm_sha256, kServerSecret);
  TrafficKeys client(CipherSuite::aes_128_gcm_sha256, kClientSecret);
  EXPECT_EQ(Bytes(server.key().begin(), server.key().end()),
            hex("9f02283b6c9c07efc26bb9f2ac92e356"));
  EXPECT_EQ(Bytes(server.iv().begin(), server.iv().end()), hex("cf782b88dd83549aadf1e984"));
  EXPECT_EQ(Bytes(client.key().begin(), client.key().end()),
            hex("17422dda596ed5d9acd890e3c63f5051"));
  EXPECT_EQ(Bytes(client.iv().begin(), client.iv().end()), hex("5b78923dee08579033e523d9"));
}

TEST(RecordProtectionRfc8448, ServerOpensAndSealsTheRecordsOfTheTrace) {
  RecordCiphers ciphers;
  RecordProtection server(Role::server, TrafficKeys(CipherSuite::aes_128_gcm_sha256, kClientSecret),
                          TrafficKeys(CipherSuite::aes_128_gcm_sha256, kServerSecret, 1));
  Bytes in = kClientData;
  auto opened = server.open(ciphers, in);
  EXPECT_EQ(opened.event, RecordEvent::none);
  EXPECT_EQ(opened.consumed, in.size());
  ASSERT_EQ(opened.plaintext, 50u);
  EXPECT_EQ(Bytes(in.begin(), in.begin() + 50), counting(50));

  EXPECT_EQ(seal_all(server, ciphers, counting(50)), kServerData);

  in = kClientAlert;
  opened = server.open(ciphers, in);
  EXPECT_EQ(opened.event, RecordEvent::close_notify);
  EXPECT_EQ(opened.consumed, in.size());
  EXPECT_EQ(opened.plaintext, 0u);

  Bytes alert(64);
  alert.resize(server.seal_alert(ciphers, AlertDescription::close_notify, alert));
  EXPECT_EQ(alert, kServerAlert);
  EXPECT_EQ(server.write_keys().sequence(), 3u);
}

TEST(RecordProtectionRfc8448, ClientOpensAndSealsTheRecordsOfTheTrace) {
  RecordCiphers ciphers;
  RecordProtection client(Role::client,
                          TrafficKeys(CipherSuite::aes_128_gcm_sha256, kServerSecret, 1),
                          TrafficKeys(CipherSuite::aes_128_gcm_sha256, kClientSecret));
  EXPECT_EQ(seal_all(client, ciphers, counting(50)), kClientData);
  Bytes in = kServerData;
  in.insert(in.end(), kServerAlert.begin(), kServerAlert.end());
  auto opened = client.open(ciphers, in);
  EXPECT_EQ(opened.event, RecordEvent::close_notify);
  EXPECT_EQ(opened.consumed, in.size());
  ASSERT_EQ(opened.plaintext, 50u);
  EXPECT_EQ(Bytes(in.begin(), in.begin() + 50), counting(50));
  Bytes alert(kRecordOverhead + 2);
  alert.resize(client.seal_alert(ciphers, AlertDescription::close_notify, alert));
  EXPECT_EQ(alert, kClientAlert);
}

TEST(RecordProtectionRfc8448, ATamperedByteIsBadRecordMac) {
  RecordCiphers ciphers;
  for (std::size_t i = kRecordHeader; i < kClientData.size(); ++i) {
    RecordProtection server(Role::server,
                            TrafficKeys(CipherSuite::aes_128_gcm_sha256, kClientSecret),
                            TrafficKeys(CipherSuite::aes_128_gcm_sha256, kServerSecret, 1));
    Bytes in = kClientData;
    in[i] ^= 0x01;
    auto opened = server.open(ciphers, in);
    EXPECT_EQ(opened.event, RecordEvent::fault);
    EXPECT_EQ(server.alert_to_send(), AlertDescription::bad_record_mac);
    EXPECT_EQ(opened.plaintext, 0u);
  }
}

// Two ends keyed alike, to protect whatever inner plaintext a test needs.
struct Pair {
  static constexpr CipherSuite kSuite = CipherSuite::chacha20_poly1305_sha256;
  RecordCiphers ciphers;
  TrafficKeys to_server{kSuite, kClientSecret};
  TrafficKeys to_client{kSuite, kServerSecret};
  RecordProtection server{Role::server, to_server, to_client};
  RecordProtection client{Role::client, to_client, to_server};

  // A record from the client (to_server) or the server, any inner bytes.
  Bytes record(const Bytes& inner, bool from_client = true) {
    TrafficKeys& keys = from_client ? to_server : to_client;
    Bytes r(kRecordHeader + inner.size() + 16);
    r[0] = 23, r[1] = 3, r[2] = 3;
    r[3] = static_cast<uint8_t>((inner.size() + 16) >> 8);
    r[4] = static_cast<uint8_t>(inner.size() + 16);
    std::memcpy(r.data() + kRecordHeader, inner.data(), inner.size());
    EXPECT_TRUE(ciphers.seal(keys, r.data(), r.data() + kRecordHeader, inner.size(),
                             r.data() + kRecordHeader + inner.size()));
    keys.advance();
    return r;
  }
};

AlertDescription fault_of(RecordProtection& p, RecordCiphers& c, Bytes in) {
  auto opened = p.open(c, in);
  EXPECT_EQ(opened.event, RecordEvent::fault);
  return p.alert_to_send();
}

TEST(RecordProtectionFaults, PlaintextRecordsAfterTheHandshake) {
  for (uint8_t type : {20, 21, 22, 24, 0, 255}) {
    Pair p;
    EXPECT_EQ(fault_of(p.server, p.ciphers, {type, 3, 3, 0, 2, 2, 40}),
              AlertDescription::unexpected_message)
        << int(type);
  }
}

TEST(RecordProtectionFaults, OversizedRecordBeforeItIsWhole) {
  Pair p;
  EXPECT_EQ(fault_of(p.server, p.ciphers, {23, 3, 3, 0x41, 0x01}),
            AlertDescription::record_overflow);
  Pair q;  // 2^14 + 256 itself is allowed: no fault while it is partial
  Bytes in{23, 3, 3, 0x41, 0x00, 1, 2, 3};
  auto opened = q.server.open(q.ciphers, in);
  EXPECT_EQ(opened.event, RecordEvent::none);
  EXPECT_EQ(opened.consumed, 0u);
}

TEST(RecordProtectionFaults, InnerPlaintextOverTheLimit) {
  Pair p;
  Bytes inner(kMaxPlaintext + 2, 'x');
  inner[kMaxPlaintext] = 23;
  inner[kMaxPlaintext + 1] = 0;  // one byte of padding too many
  EXPECT_EQ(fault_of(p.server, p.ciphers, p.record(inner)), AlertDescription::record_overflow);

  Pair q;  // exactly 2^14 bytes of content is fine
  Bytes full(kMaxPlaintext + 1, 'y');
  full.back() = 23;
  Bytes in = q.record(full);
  auto opened = q.server.open(q.ciphers, in);
  EXPECT_EQ(opened.event, RecordEvent::none);
  EXPECT_EQ(opened.plaintext, kMaxPlaintext);
}

TEST(RecordProtectionFaults, InnerPlaintextOfZerosOnly) {
  Pair p;
  EXPECT_EQ(fault_of(p.server, p.ciphers, p.record({0, 0, 0})),
            AlertDescription::unexpected_message);
  Pair q;  // a record too short to hold a tag and a type
  EXPECT_EQ(fault_of(q.server, q.ciphers,
                     {23, 3, 3, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
            AlertDescription::decode_error);
}

TEST(RecordProtectionFaults, UnknownInnerType) {
  for (uint8_t type : {20, 24, 1, 255}) {
    Pair p;
    EXPECT_EQ(fault_of(p.server, p.ciphers, p.record({1, 2, type})),
              AlertDescription::unexpected_message);
  }
}

TEST(RecordProtectionFaults, AlertsOfTheWrongLength) {
  for (Bytes inner : {Bytes{21}, Bytes{2, 21}, Bytes{2, 40, 0, 21}}) {
    Pair p;
    EXPECT_EQ(fault_of(p.server, p.ciphers, p.record(inner)), AlertDescription::decode_error);
  }
}

TEST(RecordProtectionFaults, BadKeyUpdates) {
  Pair p;
  EXPECT_EQ(fault_of(p.server, p.ciphers, p.record({24, 0, 0, 1, 2, 22})),
            AlertDescription::illegal_parameter);
  Pair q;
  EXPECT_EQ(fault_of(q.server, q.ciphers, q.record({24, 0, 0, 2, 0, 0, 22})),
            AlertDescription::decode_error);
  Pair r;
  EXPECT_EQ(fault_of(r.server, r.ciphers, r.record({24, 0, 0, 0, 22})),
            AlertDescription::decode_error);
  Pair s;  // data after a KeyUpdate in its record: a message spans the key change
  EXPECT_EQ(fault_of(s.server, s.ciphers, s.record({24, 0, 0, 1, 0, 24, 22})),
            AlertDescription::unexpected_message);
  Pair t;  // an empty handshake record
  EXPECT_EQ(fault_of(t.server, t.ciphers, t.record({22})), AlertDescription::unexpected_message);
}

TEST(RecordProtectionFaults, HandshakeMessageOverTheBound) {
  Pair p;  // a NewSessionTicket announcing 16 KiB + 1 is refused from its header
  EXPECT_EQ(fault_of(p.client, p.ciphers, p.record({4, 0, 0x40, 0x01, 22}, false)),
            AlertDescription::illegal_parameter);
  Pair q;  // the same header split over two records
  Bytes in = q.record({4, 0, 22}, false);
  Bytes second = q.record({0x40, 0x01, 0, 22}, false);
  in.insert(in.end(), second.begin(), second.end());
  EXPECT_EQ(fault_of(q.client, q.ciphers, in), AlertDescription::illegal_parameter);
}

TEST(RecordProtectionFaults, ServerRefusesNewSessionTicketAndOtherMessages) {
  for (uint8_t type : {4, 1, 2, 20, 5}) {
    Pair p;
    EXPECT_EQ(fault_of(p.server, p.ciphers, p.record({type, 22})),
              AlertDescription::unexpected_message);
  }
  Pair c;  // a client refuses everything but NewSessionTicket and KeyUpdate
  EXPECT_EQ(fault_of(c.client, c.ciphers, c.record({13, 0, 0, 0, 22}, false)),
            AlertDescription::unexpected_message);
}

TEST(RecordProtectionFaults, InterleavingASplitMessage) {
  Pair p;
  Bytes in = p.record({24, 0, 22});
  Bytes data = p.record({'a', 23});
  in.insert(in.end(), data.begin(), data.end());
  EXPECT_EQ(fault_of(p.server, p.ciphers, in), AlertDescription::unexpected_message);
}

TEST(RecordProtectionFaults, AFaultIsFinal) {
  Pair p;
  EXPECT_EQ(fault_of(p.server, p.ciphers, {20, 3, 3, 0, 1, 1}),
            AlertDescription::unexpected_message);
  Bytes good = p.record({'a', 23});
  auto opened = p.server.open(p.ciphers, good);
  EXPECT_EQ(opened.event, RecordEvent::fault);
  EXPECT_EQ(opened.consumed, 0u);
}

TEST(RecordProtection, PeerAlertsAreReported) {
  Pair p;
  Bytes in = p.record({'h', 'i', 23});
  Bytes alert = p.record({2, 40, 21});
  in.insert(in.end(), alert.begin(), alert.end());
  in.push_back(99);  // whatever follows is left alone
  auto opened = p.server.open(p.ciphers, in);
  EXPECT_EQ(opened.event, RecordEvent::peer_alert);
  EXPECT_EQ(p.server.peer_alert(), AlertDescription::handshake_failure);
  EXPECT_EQ(opened.plaintext, 2u);
  EXPECT_EQ(opened.consumed, in.size() - 1);
  EXPECT_EQ(std::string(in.begin(), in.begin() + 2), "hi");
}

TEST(RecordProtection, PaddingEmptyRecordsAndTicketsInPieces) {
  Pair p;
  Bytes in = p.record({'a', 'b', 23, 0, 0, 0, 0}, false);  // padded
  // Two empty data records, then a NewSessionTicket of 5 bytes in pieces
  // and one whole in its record.
  for (Bytes inner : {Bytes{23}, Bytes{23, 0}, Bytes{4, 0, 22}, Bytes{0, 5, 1, 2, 22},
                      Bytes{3, 4, 5, 22}, Bytes{4, 0, 0, 1, 9, 4, 0, 0, 0, 22}}) {
    Bytes r = p.record(inner, false);
    in.insert(in.end(), r.begin(), r.end());
  }
  auto opened = p.client.open(p.ciphers, in);
  EXPECT_EQ(opened.event, RecordEvent::none);
  EXPECT_EQ(opened.consumed, in.size());
  ASSERT_EQ(opened.plaintext, 2u);
  EXPECT_EQ(std::string(in.begin(), in.begin() + 2), "ab");
}

// A KeyUpdate arriving one byte per record, requesting an update: the read
// keys move on, and the next seal() answers first, once.
TEST(RecordProtection, KeyUpdateInPiecesIsAnsweredOnce) {
  Pair p;
  Bytes in;
  for (uint8_t b : {24, 0, 0, 1, 1}) {
    Bytes r = p.record({b, 22});
    in.insert(in.end(), r.begin(), r.end());
  }
  p.to_server.update();
  Bytes again = p.record({24, 0, 0, 1, 1, 22});  // a second request, under the new keys
  in.insert(in.end(), again.begin(), again.end());
  p.to_server.update();
  Bytes data = p.record({'o', 'k', 23});
  in.insert(in.end(), data.begin(), data.end());
  auto opened = p.server.open(p.ciphers, in);
  EXPECT_EQ(opened.event, RecordEvent::none);
  ASSERT_EQ(opened.plaintext, 2u);
  EXPECT_TRUE(p.server.key_update_owed());
  EXPECT_EQ(p.server.read_keys().sequence(), 1u);

  // The client end reads the answer and the data under the server's next keys.
  Bytes out = seal_all(p.server, p.ciphers, {'y', 'o'});
  EXPECT_FALSE(p.server.key_update_owed());
  EXPECT_EQ(p.server.write_keys().sequence(), 1u);
  EXPECT_EQ(out.size(), 2 * kRecordOverhead + 5 + 2);
  auto back = p.client.open(p.ciphers, out);
  EXPECT_EQ(back.event, RecordEvent::none);
  ASSERT_EQ(back.plaintext, 2u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 2), "yo");
  EXPECT_FALSE(p.client.key_update_owed());
  EXPECT_EQ(p.client.read_keys().sequence(), 1u);
}

TEST(RecordProtection, EverySplitPointGivesTheSameBytes) {
  Pair p;
  Bytes stream;
  for (Bytes inner :
       {Bytes{'a', 'b', 'c', 23}, Bytes{24, 0, 22}, Bytes{0, 1, 0, 22}, Bytes{'d', 23, 0, 0}}) {
    Bytes r = p.record(inner);
    stream.insert(stream.end(), r.begin(), r.end());
    if (inner[0] == 0) p.to_server.update();
  }
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    Pair q;
    Bytes in(stream.begin(), stream.begin() + cut);
    std::string got;
    auto first = q.server.open(q.ciphers, in);
    ASSERT_EQ(first.event, RecordEvent::none);
    got.append(in.begin(), in.begin() + first.plaintext);
    Bytes rest(in.begin() + first.consumed, in.end());
    rest.insert(rest.end(), stream.begin() + cut, stream.end());
    auto second = q.server.open(q.ciphers, rest);
    ASSERT_EQ(second.event, RecordEvent::none);
    EXPECT_EQ(second.consumed, rest.size());
    got.append(rest.begin(), rest.begin() + second.plaintext);
    EXPECT_EQ(got, "abcd") << cut;
  }
}

TEST(RecordProtection, SealFillsWholeRecordsAndProgressesInASmallBuffer) {
  Pair p;
  std::string text(40000, 'z');
  iovec iov[3] = {{text.data(), 10}, {text.data() + 10, 0}, {text.data() + 10, 39990}};
  Bytes out(2 * (kMaxPlaintext + kRecordOverhead) + 100);
  std::size_t taken = 0;
  const std::size_t n = p.client.seal(p.ciphers, iov, 3, out, taken);
  EXPECT_EQ(taken, 2 * kMaxPlaintext);  // a third whole record does not fit
  EXPECT_EQ(n, 2 * (kMaxPlaintext + kRecordOverhead));
  Bytes small(100);
  EXPECT_EQ(p.client.seal(p.ciphers, iov, 3, small, taken), 100u);
  EXPECT_EQ(taken, 100 - kRecordOverhead);
  Bytes tiny(kRecordOverhead);
  EXPECT_EQ(p.client.seal(p.ciphers, iov, 3, tiny, taken), 0u);
  EXPECT_EQ(taken, 0u);
  out.resize(n);
  out.insert(out.end(), small.begin(), small.end());
  auto opened = p.server.open(p.ciphers, out);
  EXPECT_EQ(opened.event, RecordEvent::none);
  EXPECT_EQ(opened.plaintext, 2 * kMaxPlaintext + 100 - kRecordOverhead);
}

TEST(RecordProtection, SealsNothingAndEmptyIovecs) {
  Pair p;
  iovec iov[2] = {{nullptr, 0}, {nullptr, 0}};
  Bytes out(100);
  std::size_t taken = 1;
  EXPECT_EQ(p.client.seal(p.ciphers, iov, 2, out, taken), 0u);
  EXPECT_EQ(taken, 0u);
  EXPECT_EQ(p.client.seal(p.ciphers, nullptr, 0, out, taken), 0u);
  EXPECT_EQ(p.client.write_keys().sequence(), 0u);
  Bytes alert(kRecordOverhead + 1);  // no room for an alert
  EXPECT_EQ(p.client.seal_alert(p.ciphers, AlertDescription::close_notify, alert), 0u);
}

TEST(RecordProtection, StaysSmall) {
  // 2 x TrafficKeys (secret, key, IV, sequence) + role, flags, a pointer.
  static_assert(sizeof(TrafficKeys) <= 104);
  static_assert(sizeof(RecordProtection) <= 232);
  std::printf("sizeof(RecordProtection) = %zu, sizeof(TrafficKeys) = %zu\n",
              sizeof(RecordProtection), sizeof(TrafficKeys));
}

}  // namespace
}  // namespace httpkit::tls
