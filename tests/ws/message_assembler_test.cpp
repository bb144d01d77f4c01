#include "ws/message_assembler.hpp"

#include <gtest/gtest.h>

#include <random>

#include "ws_test_util.hpp"

namespace httpkit::ws {
namespace {

using test::bytes;
using test::feed;
using test::feed_every_split;
using test::feed_whole;
using test::Got;

const MaskKey kMask{0x37, 0xfa, 0x21, 0x3d};
const AssemblerOptions kServer{Role::server, false};
const AssemblerOptions kClient{Role::client, false};

// A frame as a client sends it: masked.
std::string client_frame(Opcode op, std::string_view payload, bool fin = true, bool rsv1 = false) {
  std::string out;
  append_frame(out, {op, fin, rsv1, kMask}, payload);
  return out;
}

// A raw frame: header bytes as given, then the masked payload.
std::string raw_masked(std::initializer_list<int> header_without_mask, std::string payload) {
  std::string out = bytes(header_without_mask);
  out.append(reinterpret_cast<const char*>(kMask.data()), 4);
  apply_mask(payload.data(), payload.size(), kMask);
  return out + payload;
}

Got text(std::string s) {
  return {EventKind::text, 0, std::move(s)};
}
Got binary(std::string s) {
  return {EventKind::binary, 0, std::move(s)};
}
Got ping(std::string s) {
  return {EventKind::ping, 0, std::move(s)};
}
Got pong(std::string s) {
  return {EventKind::pong, 0, std::move(s)};
}
Got close(uint16_t code, std::string reason) {
  return {EventKind::close, code, std::move(reason)};
}

// The events end with exactly one error, carrying `code`.
void expect_error(const std::vector<Got>& got, uint16_t code, std::size_t events_before = 0) {
  ASSERT_EQ(got.size(), events_before + 1);
  EXPECT_EQ(got.back().kind, EventKind::error);
  EXPECT_EQ(got.back().code, code);
  EXPECT_FALSE(got.back().payload.empty());  // a reason for the log
}

// ------------------------------------------------------ RFC 6455 §5.7

TEST(Assembler, RfcSingleFrameUnmaskedText) {
  EXPECT_EQ(feed_every_split(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), kClient),
            std::vector<Got>{text("Hello")});
}

TEST(Assembler, RfcSingleFrameMaskedText) {
  EXPECT_EQ(feed_every_split(
                bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), kServer),
            std::vector<Got>{text("Hello")});
}

TEST(Assembler, RfcFragmentedUnmaskedText) {
  EXPECT_EQ(
      feed_every_split(bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}), kClient),
      std::vector<Got>{text("Hello")});
}

TEST(Assembler, RfcPingAndMaskedPong) {
  EXPECT_EQ(feed_every_split(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), kClient),
            std::vector<Got>{ping("Hello")});
  EXPECT_EQ(feed_every_split(
                bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), kServer),
            std::vector<Got>{pong("Hello")});
}

TEST(Assembler, Rfc256ByteAnd64KiBBinary) {
  std::string payload(256, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(i);
  EXPECT_EQ(feed_every_split(bytes({0x82, 0x7E, 0x01, 0x00}) + payload, kClient),
            std::vector<Got>{binary(payload)});

  std::string big(65536, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 31);
  const std::string wire = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}) + big;
  EXPECT_EQ(feed_whole(wire, kClient), std::vector<Got>{binary(big)});
  for (std::size_t piece : {1, 2, 3, 9, 10, 11, 4096, 65535, 65545, 65546}) {
    MessageAssembler a(kClient);
    EXPECT_EQ(feed(a, wire, piece), std::vector<Got>{binary(big)}) << piece;
  }
}

// ------------------------------------------------------ messages

TEST(Assembler, ControlFramesInterleaveWithFragments) {
  const std::string wire =
      client_frame(Opcode::text, "Hel", false) + client_frame(Opcode::ping, "p1") +
      client_frame(Opcode::continuation, "l", false) + client_frame(Opcode::pong, "p2") +
      client_frame(Opcode::continuation, "o", true) + client_frame(Opcode::binary, "bin");
  EXPECT_EQ(feed_every_split(wire, kServer),
            (std::vector<Got>{ping("p1"), pong("p2"), text("Hello"), binary("bin")}));
}

TEST(Assembler, EmptyMessagesAndFragments) {
  const std::string wire = client_frame(Opcode::text, "") +
                           client_frame(Opcode::binary, "", false) +
                           client_frame(Opcode::continuation, "", false) +
                           client_frame(Opcode::continuation, "x") + client_frame(Opcode::ping, "");
  EXPECT_EQ(feed_every_split(wire, kServer), (std::vector<Got>{text(""), binary("x"), ping("")}));
}

TEST(Assembler, CloseWithCodeAndReasonThenIgnoresTheRest) {
  std::string wire;
  append_close_frame(wire, 1000, "done", kMask);
  wire += client_frame(Opcode::text, "after");
  EXPECT_EQ(feed_every_split(wire, kServer), std::vector<Got>{close(1000, "done")});
}

TEST(Assembler, EmptyCloseMeansNoStatus) {
  EXPECT_EQ(feed_every_split(client_frame(Opcode::close, ""), kServer),
            std::vector<Got>{close(close_code::no_status, "")});
}

TEST(Assembler, ValidCloseCodesAreDelivered) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                        3000, 3999, 4000, 4999}) {
    const std::string payload = bytes({code >> 8, code & 0xFF}) + "r\xc3\xa9";
    EXPECT_EQ(feed_whole(client_frame(Opcode::close, payload), kServer),
              std::vector<Got>{close(code, "r\xc3\xa9")})
        << code;
  }
}

TEST(Assembler, WholeFramesAreDeliveredWithoutCopying) {
  std::string wire = client_frame(Opcode::text, "zero copy") + client_frame(Opcode::ping, "p");
  MessageAssembler a(kServer);
  Event e = a.next(wire.data(), wire.size());
  ASSERT_EQ(e.kind, EventKind::text);
  EXPECT_EQ(e.payload, "zero copy");
  EXPECT_EQ(e.payload.data(), wire.data() + 6);  // unmasked in place
  e = a.next(wire.data() + e.consumed, wire.size() - e.consumed);
  ASSERT_EQ(e.kind, EventKind::ping);
  EXPECT_GE(e.payload.data(), wire.data());
  EXPECT_LT(e.payload.data(), wire.data() + wire.size());
  EXPECT_EQ(a.buffered_bytes(), 0u);
}

TEST(Assembler, HoldsNoHeapMemoryWhenIdle) {
  const std::string big(100000, 'a');
  const std::string wire = client_frame(Opcode::text, big.substr(0, 50000), false) +
                           client_frame(Opcode::continuation, big.substr(50000));
  MessageAssembler a(kServer);
  std::string first = wire.substr(0, 30000);
  std::string rest = wire.substr(30000);
  Event e = a.next(first.data(), first.size());
  EXPECT_EQ(e.kind, EventKind::need_more);
  EXPECT_FALSE(a.idle());
  EXPECT_GT(a.buffered_bytes(), 0u);
  e = a.next(rest.data(), rest.size());
  ASSERT_EQ(e.kind, EventKind::text);
  EXPECT_EQ(e.payload, big);
  e = a.next(rest.data() + e.consumed, rest.size() - e.consumed);
  EXPECT_EQ(e.kind, EventKind::need_more);
  EXPECT_TRUE(a.idle());
  EXPECT_EQ(a.buffered_bytes(), 0u);
}

TEST(Assembler, IsSmall) {
  // Every WebSocket connection has one; keep an eye on it.
  RecordProperty("sizeof_MessageAssembler", static_cast<int>(sizeof(MessageAssembler)));
  EXPECT_LE(sizeof(MessageAssembler), 120u);
}

TEST(Assembler, LargeFragmentedMessageInRandomReads) {
  std::mt19937 rng(42);
  std::string message(1 << 20, '\0');
  for (char& c : message)
    c = static_cast<char>('a' + rng() % 26);
  std::string wire;
  for (std::size_t off = 0; off < message.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 5000, message.size() - off);
    const bool first = off == 0;
    off += n;
    wire += client_frame(first ? Opcode::text : Opcode::continuation,
                         std::string_view(message).substr(off - n, n), off == message.size());
    if (off < message.size() && rng() % 10 == 0) wire += client_frame(Opcode::ping, "hb");
  }
  MessageAssembler a(kServer);
  std::vector<Got> got;
  std::size_t offset = 0;
  while (offset < wire.size()) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 70000, wire.size() - offset);
    for (const Got& g : feed(a, wire.substr(offset, n), n + 1))
      got.push_back(g);
    offset += n;
  }
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), text(message));
  for (std::size_t i = 0; i + 1 < got.size(); ++i)
    EXPECT_EQ(got[i], ping("hb"));
}

// ------------------------------------------------------ rejections

TEST(AssemblerRejects, UnmaskedClientFrame) {
  expect_error(feed_every_split(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), kServer), 1002);
}

TEST(AssemblerRejects, MaskedServerFrame) {
  expect_error(feed_every_split(client_frame(Opcode::text, "Hello"), kClient), 1002);
}

TEST(AssemblerRejects, ReservedOpcodes) {
  for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    expect_error(feed_every_split(raw_masked({0x80 | op, 0x80 | 1}, "x"), kServer), 1002);
  }
}

TEST(AssemblerRejects, RsvBitsWithoutExtension) {
  expect_error(feed_every_split(raw_masked({0xC1, 0x81}, "x"), kServer), 1002);  // RSV1
  expect_error(feed_every_split(raw_masked({0xA1, 0x81}, "x"), kServer), 1002);  // RSV2
  expect_error(feed_every_split(raw_masked({0x91, 0x81}, "x"), kServer), 1002);  // RSV3
  const AssemblerOptions deflate{Role::server, true};
  expect_error(feed_every_split(raw_masked({0xA1, 0x81}, "x"), deflate), 1002);
  expect_error(feed_every_split(raw_masked({0xC9, 0x81}, "x"), deflate), 1002);  // ping
  // RSV1 on a continuation: only the first frame says "compressed".
  expect_error(
      feed_every_split(raw_masked({0x41, 0x81}, "x") + raw_masked({0xC0, 0x81}, "y"), deflate),
      1002);
}

TEST(AssemblerRejects, FragmentedAndOversizedControlFrames) {
  expect_error(feed_every_split(raw_masked({0x09, 0x81}, "x"), kServer), 1002);  // FIN=0 ping
  expect_error(feed_every_split(raw_masked({0x08, 0x80}, ""), kServer), 1002);   // FIN=0 close
  expect_error(
      feed_every_split(raw_masked({0x89, 0xFE, 0x00, 126}, std::string(126, 'p')), kServer), 1002);
  expect_error(
      feed_every_split(raw_masked({0x8A, 0xFE, 0x00, 126}, std::string(126, 'p')), kServer), 1002);
  // 125 is still fine.
  EXPECT_EQ(feed_whole(raw_masked({0x89, 0x80 | 125}, std::string(125, 'p')), kServer),
            std::vector<Got>{ping(std::string(125, 'p'))});
}

TEST(AssemblerRejects, NonMinimalLengths) {
  expect_error(feed_every_split(raw_masked({0x82, 0xFE, 0x00, 0x05}, "12345"), kServer), 1002);
  expect_error(feed_every_split(raw_masked({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 5}, "12345"), kServer),
               1002);
  expect_error(
      feed_every_split(raw_masked({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, ""), kServer), 1002);
  expect_error(feed_every_split(raw_masked({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, ""), kServer),
               1002);
}

TEST(AssemblerRejects, FragmentSequenceErrors) {
  // A continuation with nothing to continue.
  expect_error(feed_every_split(client_frame(Opcode::continuation, "x"), kServer), 1002);
  // A new data frame while a fragmented message is open, delivered events first.
  const std::string wire = client_frame(Opcode::text, "a", false) + client_frame(Opcode::ping, "") +
                           client_frame(Opcode::binary, "b");
  expect_error(feed_every_split(wire, kServer), 1002, 1);
  // Continuation after a finished message.
  expect_error(
      feed_every_split(client_frame(Opcode::text, "a") + client_frame(Opcode::continuation, "b"),
                       kServer),
      1002, 1);
}

TEST(AssemblerRejects, MessagesOverTheLimit) {
  const AssemblerOptions small{Role::server, false, 10};
  EXPECT_EQ(feed_whole(client_frame(Opcode::binary, std::string(10, 'x')), small),
            std::vector<Got>{binary(std::string(10, 'x'))});
  expect_error(feed_every_split(client_frame(Opcode::binary, std::string(11, 'x')), small), 1009);
  expect_error(feed_every_split(client_frame(Opcode::text, "123456", false) +
                                    client_frame(Opcode::continuation, "7890", false) +
                                    client_frame(Opcode::continuation, "1"),
                                small),
               1009);
  // The header alone decides: no payload needs to arrive.
  expect_error(feed_whole(bytes({0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4}), kServer), 1009);
}

TEST(AssemblerRejects, InvalidUtf8) {
  expect_error(feed_every_split(client_frame(Opcode::text, "bad \xc0\xaf"), kServer), 1007);
  expect_error(feed_every_split(client_frame(Opcode::text, "\xed\xa0\x80"), kServer), 1007);
  expect_error(feed_every_split(client_frame(Opcode::text, "cut \xe2\x82"), kServer), 1007);
  // Binary is not checked.
  EXPECT_EQ(feed_whole(client_frame(Opcode::binary, "\xc0\xaf"), kServer),
            std::vector<Got>{binary("\xc0\xaf")});
}

TEST(AssemblerRejects, InvalidUtf8FailsFastBeforeTheMessageEnds) {
  // The bad byte is in the first fragment; the message is never finished.
  MessageAssembler a(kServer);
  expect_error(feed(a, client_frame(Opcode::text, "ok \xff", false), 100), 1007);
  // Bad in the middle of a single frame still arriving: failed before its end.
  MessageAssembler b(kServer);
  const std::string frame = client_frame(Opcode::text, "\xff" + std::string(1000, 'a'));
  expect_error(feed(b, frame.substr(0, 20), 100), 1007);
}

TEST(AssemblerRejects, Utf8SplitAcrossFragmentsAtEveryPoint) {
  const std::string samples[] = {
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",  // valid
      "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",              // valid
      "ab\xf4\x90\x80\x80",                            // > U+10FFFF
      "\xed\xa0\x80xyz",                               // surrogate
      "\xe0\x80\xafz",                                 // overlong
      "abc\xf0\x9f\x98",                               // truncated at the end
  };
  for (const std::string& s : samples) {
    const bool valid = is_valid_utf8(s);
    for (std::size_t cut = 0; cut <= s.size(); ++cut) {
      for (std::size_t cut2 = cut; cut2 <= s.size(); ++cut2) {
        const std::string wire =
            client_frame(Opcode::text, s.substr(0, cut), false) +
            client_frame(Opcode::continuation, s.substr(cut, cut2 - cut), false) +
            client_frame(Opcode::continuation, s.substr(cut2));
        const std::vector<Got> got = feed_whole(wire, kServer);
        if (valid) {
          EXPECT_EQ(got, std::vector<Got>{text(s)});
        } else {
          expect_error(got, 1007);
        }
      }
    }
  }
}

TEST(AssemblerRejects, BadCloseFrames) {
  expect_error(feed_every_split(client_frame(Opcode::close, "\x03"), kServer), 1002);
  for (int code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    expect_error(
        feed_every_split(client_frame(Opcode::close, bytes({code >> 8, code & 0xFF})), kServer),
        1002);
  }
  expect_error(
      feed_every_split(client_frame(Opcode::close, bytes({0x03, 0xE8}) + "\xce\xba\xff"), kServer),
      1007);
}

TEST(AssemblerRejects, ErrorsAreSticky) {
  MessageAssembler a(kServer);
  std::string bad = bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'});
  Event e = a.next(bad.data(), bad.size());
  EXPECT_EQ(e.kind, EventKind::error);
  EXPECT_EQ(e.code, 1002);
  std::string good = client_frame(Opcode::text, "x");
  e = a.next(good.data(), good.size());
  EXPECT_EQ(e.kind, EventKind::error);
  EXPECT_EQ(e.code, 1002);
  EXPECT_EQ(e.consumed, 0u);
}

TEST(AssemblerRejects, CompressedMessageWithoutDeflateContextIsInternalError) {
  const AssemblerOptions deflate{Role::server, true};
  expect_error(
      feed_whole(client_frame(Opcode::text, "\xf2\x48\xcd\xc9\xc9\x07\x00", true, true), deflate),
      1011);
}

}  // namespace
}  // namespace httpkit::ws
