#include "ws/deflate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

#include "ws/message_assembler.hpp"
#include "ws_test_util.hpp"

namespace httpkit::ws {
namespace {

using test::bytes;
using test::feed_every_split;
using test::feed_whole;
using test::Got;

const ZlibOptions kZlibDefaults{6, 8};  // what the RFC 7692 examples were made with
const DeflateParams kNoTakeover{true, true, 15, 15};
const DeflateParams kTakeover{false, false, 15, 15};
const AssemblerOptions kClientDeflate{Role::client, true};
const AssemblerOptions kServerDeflate{Role::server, true};

// RFC 7692 §7.2.3.1: "Hello" compressed.
const std::string kHelloCompressed = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});

std::string random_text(std::mt19937& rng, std::size_t n, int alphabet) {
  std::string s(n, '\0');
  for (char& c : s)
    c = static_cast<char>('a' + rng() % alphabet);
  return s;
}

TEST(Deflate, RfcHelloCompressed) {
  Deflater d(15, kZlibDefaults);
  std::string out;
  ASSERT_TRUE(d.compress("Hello", out));
  EXPECT_EQ(out, kHelloCompressed);
  // The whole frame of §7.2.3.1: 0xc1 0x07 0xf2 0x48 0xcd 0xc9 0xc9 0x07 0x00.
  std::string frame;
  append_frame(frame, {Opcode::text, true, true}, out);
  EXPECT_EQ(frame, bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
}

TEST(Deflate, RfcSecondHelloWithContextTakeover) {
  // §7.2.3.2: the second "Hello" refers back into the first.
  Deflater d(15, kZlibDefaults);
  std::string first, second;
  ASSERT_TRUE(d.compress("Hello", first));
  ASSERT_TRUE(d.compress("Hello", second));
  EXPECT_EQ(first, kHelloCompressed);
  EXPECT_EQ(second, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));

  Inflater i;
  std::string a, b;
  ASSERT_EQ(i.decompress(first, 100, a), InflateStatus::ok);
  ASSERT_EQ(i.decompress(second, 100, b), InflateStatus::ok);
  EXPECT_EQ(a, "Hello");
  EXPECT_EQ(b, "Hello");

  // Without takeover the second is compressed afresh, like the first.
  d.reset();
  std::string again;
  ASSERT_TRUE(d.compress("Hello", again));
  EXPECT_EQ(again, kHelloCompressed);
}

TEST(Deflate, RfcExampleFramesThroughTheAssembler) {
  SharedDeflateContext shared;
  DeflateContext ctx(kNoTakeover, Role::client, shared);
  const std::vector<Got> hello{{EventKind::text, 0, "Hello"}};
  // §7.2.3.1 single frame, and the same message in two fragments.
  EXPECT_EQ(feed_every_split(bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),
                             kClientDeflate, &ctx),
            hello);
  EXPECT_EQ(
      feed_every_split(bytes({0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00}),
                       kClientDeflate, &ctx),
      hello);
  // §7.2.3.3 a stored (uncompressed) block.
  EXPECT_EQ(feed_every_split(bytes({0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c,
                                    0x6c, 0x6f, 0x00}),
                             kClientDeflate, &ctx),
            hello);
  // §7.2.3.4 a block with BFINAL set.
  EXPECT_EQ(feed_every_split(bytes({0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}),
                             kClientDeflate, &ctx),
            hello);
  // §7.2.3.5 two deflate blocks in one message.
  EXPECT_EQ(feed_every_split(bytes({0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff,
                                    0xca, 0xc9, 0xc9, 0x07, 0x00}),
                             kClientDeflate, &ctx),
            hello);
  // An uncompressed message on a deflate connection (RSV1 clear).
  EXPECT_EQ(feed_whole(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), kClientDeflate, &ctx), hello);
}

TEST(Deflate, RfcTakeoverPairThroughTheAssembler) {
  SharedDeflateContext shared;
  DeflateContext ctx(kTakeover, Role::client, shared);
  const std::string wire = bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}) +
                           bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00});
  EXPECT_EQ(feed_whole(wire, kClientDeflate, &ctx),
            (std::vector<Got>{{EventKind::text, 0, "Hello"}, {EventKind::text, 0, "Hello"}}));
  EXPECT_GT(ctx.memory_bytes(), 0u);  // takeover: this connection owns an inflater
}

TEST(Deflate, EmptyMessage) {
  Deflater d(15, {});
  std::string out;
  ASSERT_TRUE(d.compress("", out));
  EXPECT_EQ(out, bytes({0x00}));  // RFC 7692 §7.2.3.6
  Inflater i;
  std::string back = "x";
  ASSERT_EQ(i.decompress(out, 10, back), InflateStatus::ok);
  EXPECT_EQ(back, "x");  // appended nothing
  ASSERT_EQ(i.decompress("", 10, back), InflateStatus::ok);
  EXPECT_EQ(back, "x");
}

TEST(Deflate, RoundTripsAtEveryWindowSize) {
  std::mt19937 rng(7);
  for (int bits = 8; bits <= 15; ++bits) {
    for (bool takeover : {false, true}) {
      Deflater d(bits, {});
      Inflater i(bits);
      for (std::size_t n : {0, 1, 100, 5000, 70000, 300000}) {
        const std::string msg = random_text(rng, n, n % 3 == 0 ? 4 : 26);
        std::string z, back;
        ASSERT_TRUE(d.compress(msg, z));
        ASSERT_EQ(i.decompress(z, msg.size(), back), InflateStatus::ok) << bits << " " << n;
        ASSERT_EQ(back, msg);
        if (!takeover) {
          d.reset();
          i.reset();
        }
      }
    }
  }
}

// Inflates raw deflate with a window of exactly 2^bits bytes, one output byte
// at a time so that every back-reference must come from the window.
bool inflates_with_window(const std::string& compressed, int bits, std::string& out) {
  z_stream z{};
  if (inflateInit2(&z, -bits) != Z_OK) return false;
  const std::string input = compressed + bytes({0x00, 0x00, 0xff, 0xff});
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  bool ok = true;
  while (z.avail_in > 0) {
    unsigned char c;
    z.next_out = &c;
    z.avail_out = 1;
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    if (z.avail_out == 0) out.push_back(static_cast<char>(c));
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      ok = false;
      break;
    }
  }
  inflateEnd(&z);
  return ok;
}

TEST(Deflate, WindowEightIsHonouredWithNine) {
  // zlib will not deflate with 8 bits, so an agreed 8 runs at 9. A 9-bit
  // zlib window never refers back more than 512 - 262 = 250 bytes, so a
  // peer inflating with exactly 256 bytes of window still can.
  std::mt19937 rng(3);
  const std::string a = random_text(rng, 200, 26), b = random_text(rng, 100, 26);
  const std::string msg = a + a + b + a + b + b;  // repeats 200, 100, 300 and 400 bytes back
  Deflater nine(8, {});
  std::string z, back;
  ASSERT_TRUE(nine.compress(msg, z));
  ASSERT_TRUE(inflates_with_window(z, 8, back));
  EXPECT_EQ(back, msg);
  EXPECT_LT(z.size(), msg.size() * 8 / 10);  // the near repeats were used

  // The check has teeth: a 15-bit stream reaches further back and fails.
  Deflater fifteen(15, {});
  std::string z15, back15;
  ASSERT_TRUE(fifteen.compress(msg, z15));
  EXPECT_FALSE(inflates_with_window(z15, 8, back15));
}

TEST(Deflate, ZipBombStopsAtTheLimit) {
  Deflater d(15, {});
  const std::string zeros(64u << 20, '\0');  // 64 MiB
  std::string bomb;
  ASSERT_TRUE(d.compress(zeros, bomb));
  EXPECT_LT(bomb.size(), 100000u);  // ~1000:1

  Inflater i;
  std::string out = "keep";
  EXPECT_EQ(i.decompress(bomb, 4u << 20, out), InflateStatus::too_big);
  EXPECT_EQ(out, "keep");                      // nothing appended
  EXPECT_LE(out.capacity(), (8u << 20) + 64);  // never grew much past the limit

  // Exactly at the limit is fine.
  std::string exact;
  EXPECT_EQ(i.decompress(bomb, zeros.size(), exact), InflateStatus::ok);
  EXPECT_EQ(exact.size(), zeros.size());
}

TEST(Deflate, ZipBombThroughTheAssemblerIs1009) {
  SharedDeflateContext shared;
  DeflateContext server(kNoTakeover, Role::server, shared);
  Deflater d(15, {});
  std::string bomb;
  ASSERT_TRUE(d.compress(std::string(8u << 20, 'a'), bomb));
  std::string wire;
  append_frame(wire, {Opcode::binary, true, true, MaskKey{1, 2, 3, 4}}, bomb);
  const auto got = feed_whole(wire, kServerDeflate, &server);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, EventKind::error);
  EXPECT_EQ(got[0].code, close_code::message_too_big);
}

TEST(Deflate, CorruptDataIs1007AndLeavesTheSharedInflaterUsable) {
  SharedDeflateContext shared;
  DeflateContext ctx(kNoTakeover, Role::client, shared);
  auto got = feed_whole(bytes({0xc1, 0x03, 0xff, 0xff, 0xff}), kClientDeflate, &ctx);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, EventKind::error);
  EXPECT_EQ(got[0].code, close_code::invalid_payload);
  // Another connection on the same loop is not affected.
  DeflateContext other(kNoTakeover, Role::client, shared);
  EXPECT_EQ(feed_whole(bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),
                       kClientDeflate, &other),
            (std::vector<Got>{{EventKind::text, 0, "Hello"}}));
}

TEST(Deflate, CompressedTextIsUtf8CheckedAfterInflating) {
  Deflater d(15, {});
  std::string z;
  ASSERT_TRUE(d.compress("bad \xed\xa0\x80", z));
  std::string wire;
  append_frame(wire, {Opcode::text, true, true}, z);
  SharedDeflateContext shared;
  DeflateContext ctx(kNoTakeover, Role::client, shared);
  const auto got = feed_whole(wire, kClientDeflate, &ctx);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].code, close_code::invalid_payload);
}

// Two connections on one loop, one with context takeover each way and one
// without, interleaving messages: each direction must decode correctly.
TEST(Deflate, SharedAndOwnContextsInterleave) {
  std::mt19937 rng(11);
  SharedDeflateContext server_loop, client_loop;
  struct Pair {
    DeflateContext server, client;
  };
  Pair pairs[] = {
      {DeflateContext(kNoTakeover, Role::server, server_loop),
       DeflateContext(kNoTakeover, Role::client, client_loop)},
      {DeflateContext(kTakeover, Role::server, server_loop),
       DeflateContext(kTakeover, Role::client, client_loop)},
      {DeflateContext({true, false, 10, 12}, Role::server, server_loop),
       DeflateContext({true, false, 10, 12}, Role::client, client_loop)},
  };
  for (int round = 0; round < 50; ++round) {
    for (Pair& p : pairs) {
      const std::string msg = random_text(rng, rng() % 3000, 6);
      std::string z, back;
      ASSERT_TRUE(p.server.compress(msg, z));
      ASSERT_EQ(p.client.decompress(z, 1 << 20, back), InflateStatus::ok);
      ASSERT_EQ(back, msg);
      z.clear();
      back.clear();
      ASSERT_TRUE(p.client.compress(msg, z));
      ASSERT_EQ(p.server.decompress(z, 1 << 20, back), InflateStatus::ok);
      ASSERT_EQ(back, msg);
    }
  }
  // No takeover: no zlib memory of its own. Takeover: both directions.
  EXPECT_EQ(pairs[0].server.memory_bytes(), 0u);
  EXPECT_GT(pairs[1].server.memory_bytes(), 0u);
  EXPECT_GT(server_loop.memory_bytes(), 0u);
}

TEST(Deflate, TakeoverCompressesRepeatsBetter) {
  SharedDeflateContext loop;
  DeflateContext with(kTakeover, Role::server, loop);
  DeflateContext without(kNoTakeover, Role::server, loop);
  const std::string msg = R"({"type":"chat","room":"lobby","user":"alice","text":"hi there"})";
  std::string a, b;
  for (int i = 0; i < 2; ++i) {
    a.clear(), b.clear();
    with.compress(msg, a);
    without.compress(msg, b);
  }
  EXPECT_LT(a.size(), b.size() / 2);
}

// The figures quoted in deflate.hpp, measured by counting zlib's allocations.
TEST(DeflateMemory, Figures) {
  for (int bits : {9, 10, 12, 15}) {
    for (int mem_level : {1, 4, 6, 8, 9}) {
      Deflater d(bits, {6, mem_level});
      const std::size_t bytes = d.memory_bytes();
      std::printf("deflate window_bits %2d mem_level %d: %7zu bytes (%.1f KiB)\n", bits, mem_level,
                  bytes, bytes / 1024.0);
      // 2^(w+2) + 2^(m+9) plus zlib's fixed state.
      const std::size_t formula =
          (std::size_t{1} << (bits + 2)) + (std::size_t{1} << (mem_level + 9));
      EXPECT_GE(bytes, formula);
      EXPECT_LE(bytes, formula + 8192);
    }
  }
  for (int bits : {9, 12, 15}) {
    Inflater i(bits);
    const std::size_t before = i.memory_bytes();
    std::string out;
    ASSERT_EQ(i.decompress(kHelloCompressed, 100, out), InflateStatus::ok);
    std::printf("inflate window_bits %2d: %zu bytes before use, %zu after (%.1f KiB)\n", bits,
                before, i.memory_bytes(), i.memory_bytes() / 1024.0);
    EXPECT_GE(i.memory_bytes(), std::size_t{1} << bits);
    EXPECT_LE(i.memory_bytes(), (std::size_t{1} << bits) + 8192);
  }
}

TEST(DeflateMemory, NoTakeoverPinsNothingPerConnection) {
  SharedDeflateContext loop;
  std::vector<DeflateContext> connections;
  for (int i = 0; i < 100; ++i)
    connections.emplace_back(kNoTakeover, Role::server, loop);
  for (DeflateContext& c : connections) {
    std::string z, back;
    ASSERT_TRUE(c.compress("a message that every connection sends", z));
    ASSERT_EQ(c.decompress(z, 1000, back), InflateStatus::ok);
  }
  std::size_t own = 0;
  for (const DeflateContext& c : connections)
    own += c.memory_bytes();
  EXPECT_EQ(own, 0u);
  std::printf("one loop's shared contexts: %zu bytes; per connection: sizeof %zu, zlib 0\n",
              loop.memory_bytes(), sizeof(DeflateContext));
  EXPECT_LE(sizeof(DeflateContext), 32u);
}

}  // namespace
}  // namespace httpkit::ws
