#include "app/content_encoder.hpp"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <malloc.h>

#include <cstdio>
#include <random>

namespace httpkit::app {
namespace {

using http::ContentCoding;

// Decodes as much of `encoded` as it holds (a flushed prefix is enough).
std::string decode(ContentCoding coding, const std::string& encoded) {
  std::string out;
  char buf[16384];
  if (coding == ContentCoding::gzip || coding == ContentCoding::deflate) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, coding == ContentCoding::gzip ? 31 : 15), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data()));
    z.avail_in = uInt(encoded.size());
    int rc;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_SYNC_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
    } while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
    inflateEnd(&z);
  } else if (coding == ContentCoding::br) {
    BrotliDecoderState* s = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
    std::size_t avail_in = encoded.size();
    const uint8_t* next_in = reinterpret_cast<const uint8_t*>(encoded.data());
    BrotliDecoderResult rc;
    do {
      std::size_t avail_out = sizeof buf;
      uint8_t* next_out = reinterpret_cast<uint8_t*>(buf);
      rc = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      out.append(buf, sizeof buf - avail_out);
    } while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT);
    BrotliDecoderDestroyInstance(s);
  } else if (coding == ContentCoding::zstd) {
    ZSTD_DCtx* d = ZSTD_createDCtx();
    ZSTD_inBuffer in{encoded.data(), encoded.size(), 0};
    bool full = true;
    while (in.pos < in.size || full) {
      ZSTD_outBuffer o{buf, sizeof buf, 0};
      const std::size_t rc = ZSTD_decompressStream(d, &o, &in);
      EXPECT_FALSE(ZSTD_isError(rc));
      if (ZSTD_isError(rc)) break;
      out.append(buf, o.pos);
      full = o.pos == sizeof buf;
    }
    ZSTD_freeDCtx(d);
  }
  return out;
}

class Encoders : public ::testing::TestWithParam<ContentCoding> {};

TEST_P(Encoders, RoundTripsALargeBodyWrittenInPieces) {
  std::mt19937 rng(7);
  std::string body;
  for (int i = 0; i < 200000; ++i)
    body += "word" + std::to_string(rng() % 1000) + " ";
  auto encoder = make_content_encoder(GetParam());
  ASSERT_TRUE(encoder);
  std::string encoded;
  for (std::size_t at = 0; at < body.size(); at += 7919)
    ASSERT_TRUE(encoder->write(std::string_view(body).substr(at, 7919), encoded));
  ASSERT_TRUE(encoder->finish(encoded));
  EXPECT_LT(encoded.size(), body.size() / 2);
  EXPECT_EQ(decode(GetParam(), encoded), body);
}

TEST_P(Encoders, FlushMakesEveryMessageDecodableAtOnce) {
  auto encoder = make_content_encoder(GetParam());
  std::string encoded, expected;
  for (int i = 0; i < 5; ++i) {
    const std::string event = "data: event number " + std::to_string(i) + "\n\n";
    expected += event;
    ASSERT_TRUE(encoder->write(event, encoded));
    ASSERT_TRUE(encoder->flush(encoded));
    EXPECT_EQ(decode(GetParam(), encoded), expected) << "after event " << i;
  }
  ASSERT_TRUE(encoder->finish(encoded));
  EXPECT_EQ(decode(GetParam(), encoded), expected);
}

TEST_P(Encoders, EmptyBody) {
  std::string encoded;
  ASSERT_TRUE(encode_all(GetParam(), "", encoded));
  EXPECT_FALSE(encoded.empty());  // a valid, empty stream
  EXPECT_EQ(decode(GetParam(), encoded), "");
}

// Heap in use by this process (glibc's arena and mmap'd chunks).
std::size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

TEST_P(Encoders, AStreamsEncoderStaysSmallAndDecodesAfterEveryFlush) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan owns the heap: mallinfo2 does not see it";
#endif
  std::mt19937 rng(11);
  std::string text;
  while (text.size() < (2u << 20))
    text += "data: {\"id\": " + std::to_string(rng() % 100000) + ", \"v\": \"" +
            std::to_string(rng()) + "\"}\n\n";
  std::size_t peak = 0;
  std::string encoded;
  {
    const std::size_t before = heap_in_use();
    auto encoder = make_content_encoder(GetParam(), EncoderUse::stream);
    ASSERT_TRUE(encoder);
    for (std::size_t at = 0; at < text.size(); at += 4096) {
      const std::size_t mark = encoded.size();
      ASSERT_TRUE(encoder->write(std::string_view(text).substr(at, 4096), encoded));
      ASSERT_TRUE(encoder->flush(encoded));
      // What the output string holds is the test's, not the encoder's.
      const std::size_t used = heap_in_use() - before;
      peak = std::max(peak, used > encoded.capacity() ? used - encoded.capacity() : 0);
      ASSERT_GT(encoded.size(), mark);
    }
    ASSERT_TRUE(encoder->finish(encoded));
  }
  EXPECT_EQ(decode(GetParam(), encoded), text);
  std::printf("%s stream encoder: %zu KiB of state at most\n",
              std::string(http::to_string(GetParam())).c_str(), peak / 1024);
  EXPECT_LE(peak, 1280u * 1024) << "a stream's encoder must stay small";
}

INSTANTIATE_TEST_SUITE_P(Codings, Encoders,
                         ::testing::Values(ContentCoding::gzip, ContentCoding::deflate,
                                           ContentCoding::br, ContentCoding::zstd),
                         [](const auto& info) { return std::string(http::to_string(info.param)); });

TEST(ContentEncoder, IdentityHasNoEncoder) {
  EXPECT_EQ(make_content_encoder(ContentCoding::identity), nullptr);
  std::string out;
  EXPECT_TRUE(encode_all(ContentCoding::identity, "abc", out));
  EXPECT_EQ(out, "abc");
}

}  // namespace
}  // namespace httpkit::app
