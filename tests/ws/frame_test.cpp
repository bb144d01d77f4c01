#include "ws/frame.hpp"

#include <gtest/gtest.h>

#include <string>

#include "ws/utf8.hpp"

namespace httpkit::ws {
namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list)
    s.push_back(static_cast<char>(b));
  return s;
}

constexpr FrameRules kServer{Role::server, false};
constexpr FrameRules kClient{Role::client, false};
constexpr FrameRules kServerDeflate{Role::server, true};
const MaskKey kRfcMask{0x37, 0xfa, 0x21, 0x3d};

// RFC 6455 §5.7.
const std::string kHelloUnmasked = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string kHelloMasked =
    bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});

TEST(FrameHeader, ParsesTheRfcHelloFrames) {
  FrameHeader h;
  ASSERT_EQ(parse_frame_header(kHelloUnmasked, kClient, h).status, HeaderStatus::complete);
  EXPECT_TRUE(h.fin);
  EXPECT_EQ(h.opcode, Opcode::text);
  EXPECT_FALSE(h.masked);
  EXPECT_EQ(h.payload_length, 5u);
  EXPECT_EQ(h.header_length, 2);

  ASSERT_EQ(parse_frame_header(kHelloMasked, kServer, h).status, HeaderStatus::complete);
  EXPECT_TRUE(h.masked);
  EXPECT_EQ(h.mask, kRfcMask);
  EXPECT_EQ(h.header_length, 6);
  std::string payload = kHelloMasked.substr(6);
  apply_mask(payload.data(), payload.size(), h.mask);
  EXPECT_EQ(payload, "Hello");
}

TEST(FrameHeader, ExtendedLengths) {
  FrameHeader h;
  // 256 bytes: 0x82 0x7E 0x0100; 64 KiB: 0x82 0x7F 0x0000000000010000.
  ASSERT_EQ(parse_frame_header(bytes({0x82, 0x7E, 0x01, 0x00}), kClient, h).status,
            HeaderStatus::complete);
  EXPECT_EQ(h.payload_length, 256u);
  EXPECT_EQ(h.header_length, 4);
  ASSERT_EQ(parse_frame_header(bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}), kClient, h).status,
            HeaderStatus::complete);
  EXPECT_EQ(h.payload_length, 65536u);
  EXPECT_EQ(h.header_length, 10);
  ASSERT_EQ(parse_frame_header(
                bytes({0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}),
                kServer, h)
                .status,
            HeaderStatus::complete);
  EXPECT_EQ(h.payload_length, 0x7FFFFFFFFFFFFFFFull);
  EXPECT_EQ(h.header_length, 14);
}

TEST(FrameHeader, EveryPrefixIsIncomplete) {
  const std::string headers[] = {
      kHelloMasked.substr(0, 6),
      bytes({0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4}),
      bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}),
  };
  for (const std::string& whole : headers) {
    FrameHeader h;
    for (std::size_t n = 0; n < whole.size(); ++n) {
      EXPECT_EQ(parse_frame_header(whole.substr(0, n), kServer, h).status, HeaderStatus::incomplete)
          << n;
    }
    EXPECT_EQ(parse_frame_header(whole, kServer, h).status, HeaderStatus::complete);
  }
}

struct Rejection {
  const char* what;
  std::string header;
  FrameRules rules;
};

TEST(FrameHeader, RejectionsAreProtocolErrorsFromTheFirstTellingByte) {
  const Rejection cases[] = {
      {"unmasked client frame", bytes({0x81, 0x05}), kServer},
      {"masked server frame", bytes({0x81, 0x85}), kClient},
      {"opcode 3", bytes({0x83, 0x80}), kServer},
      {"opcode 7", bytes({0x87, 0x80}), kServer},
      {"opcode B", bytes({0x8B, 0x80}), kServer},
      {"opcode F", bytes({0x8F, 0x80}), kServer},
      {"RSV1 without deflate", bytes({0xC1, 0x80}), kServer},
      {"RSV2", bytes({0xA1, 0x80}), kServerDeflate},
      {"RSV3", bytes({0x91, 0x80}), kServerDeflate},
      {"RSV1 on a ping", bytes({0xC9, 0x80}), kServerDeflate},
      {"RSV1 on a close", bytes({0xC8, 0x80}), kServerDeflate},
      {"RSV1 on a continuation", bytes({0xC0, 0x80}), kServerDeflate},
      {"fragmented ping", bytes({0x09, 0x80}), kServer},
      {"fragmented close", bytes({0x08, 0x80}), kServer},
      {"ping of 126 bytes", bytes({0x89, 0xFE, 0x00, 0x7E}), kServer},
      {"close with a 64-bit length", bytes({0x88, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0}), kServer},
      {"16-bit length of 125", bytes({0x82, 0xFE, 0x00, 0x7D, 1, 2, 3, 4}), kServer},
      {"16-bit length of 0", bytes({0x82, 0xFE, 0x00, 0x00, 1, 2, 3, 4}), kServer},
      {"64-bit length of 65535", bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4}),
       kServer},
      {"64-bit length of 5", bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4}), kServer},
      {"64-bit length with the MSB set", bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}),
       kServer},
  };
  for (const Rejection& c : cases) {
    FrameHeader h;
    const HeaderResult whole = parse_frame_header(c.header, c.rules, h);
    EXPECT_EQ(whole.status, HeaderStatus::error) << c.what;
    EXPECT_EQ(whole.close_code, close_code::protocol_error) << c.what;
    EXPECT_FALSE(whole.reason.empty());
    // Every prefix either waits or already gives the same verdict.
    for (std::size_t n = 0; n < c.header.size(); ++n) {
      const HeaderResult part = parse_frame_header(c.header.substr(0, n), c.rules, h);
      if (part.status == HeaderStatus::error) {
        EXPECT_EQ(part.reason, whole.reason) << c.what;
      } else {
        EXPECT_EQ(part.status, HeaderStatus::incomplete) << c.what;
      }
    }
  }
}

TEST(FrameHeader, AcceptsWhatIsAllowed) {
  FrameHeader h;
  // RSV1 on a first text or binary frame with deflate, FIN clear or set.
  EXPECT_EQ(parse_frame_header(bytes({0xC1, 0x80, 1, 2, 3, 4}), kServerDeflate, h).status,
            HeaderStatus::complete);
  EXPECT_TRUE(h.rsv1);
  EXPECT_EQ(parse_frame_header(bytes({0x42, 0x80, 1, 2, 3, 4}), kServerDeflate, h).status,
            HeaderStatus::complete);
  // A 125-byte ping, a 126-byte data frame with a 16-bit length.
  EXPECT_EQ(parse_frame_header(bytes({0x89, 0xFD, 1, 2, 3, 4}), kServer, h).status,
            HeaderStatus::complete);
  EXPECT_EQ(parse_frame_header(bytes({0x02, 0xFE, 0x00, 0x7E, 1, 2, 3, 4}), kServer, h).status,
            HeaderStatus::complete);
  EXPECT_FALSE(h.fin);
  EXPECT_EQ(h.payload_length, 126u);
}

TEST(Mask, MatchesTheDefinitionAtEveryLengthAndOffset) {
  const MaskKey key{0x12, 0x34, 0x56, 0x78};
  for (std::size_t len = 0; len < 70; ++len) {
    for (uint64_t offset = 0; offset < 9; ++offset) {
      std::string data(len, '\0');
      for (std::size_t i = 0; i < len; ++i)
        data[i] = static_cast<char>(i * 7 + 3);
      std::string expected = data;
      for (std::size_t i = 0; i < len; ++i) {
        expected[i] = static_cast<char>(expected[i] ^ key[(offset + i) % 4]);
      }
      apply_mask(data.data(), data.size(), key, offset);
      ASSERT_EQ(data, expected) << len << " " << offset;
    }
  }
}

TEST(Mask, PieceByPieceEqualsWhole) {
  std::string whole(1000, 'x');
  for (std::size_t i = 0; i < whole.size(); ++i)
    whole[i] = static_cast<char>(i);
  std::string pieces = whole;
  apply_mask(whole.data(), whole.size(), kRfcMask);
  std::size_t done = 0;
  for (std::size_t step : {1, 3, 8, 13, 64, 200}) {
    apply_mask(pieces.data() + done, step, kRfcMask, done);
    done += step;
  }
  apply_mask(pieces.data() + done, pieces.size() - done, kRfcMask, done);
  EXPECT_EQ(pieces, whole);
}

TEST(FrameWriter, WritesTheRfcExamples) {
  std::string out;
  append_frame(out, {Opcode::text}, "Hello");
  EXPECT_EQ(out, kHelloUnmasked);

  out.clear();
  append_frame(out, {Opcode::text, true, false, kRfcMask}, "Hello");
  EXPECT_EQ(out, kHelloMasked);

  out.clear();
  append_frame(out, {Opcode::text, false}, "Hel");
  append_frame(out, {Opcode::continuation, true}, "lo");
  EXPECT_EQ(out, bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));

  out.clear();
  append_ping_frame(out, "Hello");
  EXPECT_EQ(out, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  append_pong_frame(out, "Hello", kRfcMask);
  EXPECT_EQ(out, bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));

  out.clear();
  append_frame(out, {Opcode::binary}, std::string(256, 'b'));
  EXPECT_EQ(out.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(out.size(), 4u + 256);

  out.clear();
  append_frame(out, {Opcode::binary}, std::string(65536, 'b'));
  EXPECT_EQ(out.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(out.size(), 10u + 65536);
}

TEST(FrameWriter, LengthEncodingsAreMinimalAndRoundTrip) {
  for (uint64_t len :
       {0ull, 1ull, 125ull, 126ull, 127ull, 65535ull, 65536ull, 1ull << 32, (1ull << 63) - 1}) {
    for (bool masked : {false, true}) {
      char header[kMaxFrameHeader];
      OutgoingFrame frame{Opcode::binary, true, false, std::nullopt};
      if (masked) frame.mask = kRfcMask;
      const std::size_t n = write_frame_header(header, frame, len);
      const std::size_t expected = (len < 126 ? 2 : len <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
      EXPECT_EQ(n, expected) << len;
      FrameHeader h;
      const FrameRules rules{masked ? Role::server : Role::client, false};
      ASSERT_EQ(parse_frame_header({header, n}, rules, h).status, HeaderStatus::complete) << len;
      EXPECT_EQ(h.payload_length, len);
      EXPECT_EQ(h.header_length, n);
    }
  }
}

TEST(FrameWriter, RsvAndFinBits) {
  char header[kMaxFrameHeader];
  write_frame_header(header, {Opcode::text, false, true}, 3);
  EXPECT_EQ(static_cast<unsigned char>(header[0]), 0x41);
  write_frame_header(header, {Opcode::binary, true, true}, 3);
  EXPECT_EQ(static_cast<unsigned char>(header[0]), 0xC2);
}

TEST(CloseFrame, CodeAndReason) {
  std::string out;
  append_close_frame(out, close_code::normal, "bye");
  EXPECT_EQ(out, bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));

  out.clear();
  append_close_frame(out, 4000, "", kRfcMask);
  FrameHeader h;
  ASSERT_EQ(parse_frame_header(out, kServer, h).status, HeaderStatus::complete);
  std::string payload = out.substr(h.header_length);
  apply_mask(payload.data(), payload.size(), h.mask);
  EXPECT_EQ(payload, bytes({0x0F, 0xA0}));
}

TEST(CloseFrame, CodesThatCannotBeSentGiveAnEmptyBody) {
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
    std::string out;
    append_close_frame(out, code, "ignored");
    EXPECT_EQ(out, bytes({0x88, 0x00})) << code;
  }
}

TEST(CloseFrame, LongReasonIsCutAtACodePointBoundary) {
  std::string reason;
  for (int i = 0; i < 100; ++i)
    reason += "\xc3\xa9";  // é, two bytes each
  std::string out;
  append_close_frame(out, close_code::going_away, reason);
  FrameHeader h;
  ASSERT_EQ(parse_frame_header(out, kClient, h).status, HeaderStatus::complete);
  EXPECT_LE(h.payload_length, kMaxControlPayload);
  EXPECT_EQ(h.payload_length, 2u + 122);  // 123 bytes would split an é
  EXPECT_TRUE(is_valid_utf8(out.substr(h.header_length + 2)));

  out.clear();
  append_close_frame(out, close_code::normal, "\xff not utf-8");
  EXPECT_EQ(out, bytes({0x88, 0x02, 0x03, 0xE8}));
}

TEST(CloseFrame, ValidCodes) {
  for (int code = 0; code < 65536; ++code) {
    const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
    ASSERT_EQ(is_valid_close_code(static_cast<uint16_t>(code)), expected) << code;
  }
}

TEST(ControlFrame, PingPayloadIsCutTo125) {
  std::string out;
  append_ping_frame(out, std::string(300, 'p'));
  EXPECT_EQ(out.size(), 2u + 125);
}

TEST(Mask, RandomKeysDiffer) {
  EXPECT_NE(random_mask_key(), random_mask_key());  // 2^-32 to fail by chance
}

}  // namespace
}  // namespace httpkit::ws
