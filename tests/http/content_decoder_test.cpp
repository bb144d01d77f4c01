#include "http/content_decoder.hpp"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>

#include "app/content_encoder.hpp"

namespace httpkit::http {
namespace {

constexpr ContentCoding kCodings[] = {ContentCoding::gzip, ContentCoding::deflate,
                                      ContentCoding::br, ContentCoding::zstd};

// Text that compresses, but not to nothing, and spans several pieces.
std::string sample(std::size_t size) {
  std::mt19937 rng(12);
  static constexpr std::string_view kWords[] = {"alpha ", "beta ", "gamma ", "delta\n", "x "};
  std::string s;
  while (s.size() < size)
    s += kWords[rng() % 5];
  s.resize(size);
  return s;
}

std::string encode(ContentCoding coding, std::string_view bytes) {
  std::string out;
  EXPECT_TRUE(app::encode_all(coding, bytes, out));
  return out;
}

// `size` zeros, encoded in a stream (never held whole).
std::string encoded_zeros(ContentCoding coding, std::size_t size) {
  auto encoder = app::make_content_encoder(coding);
  const std::string block(1 << 20, '\0');
  std::string out;
  for (std::size_t left = size; left > 0;) {
    const std::size_t n = std::min(left, block.size());
    EXPECT_TRUE(encoder->write({block.data(), n}, out));
    left -= n;
  }
  EXPECT_TRUE(encoder->finish(out));
  return out;
}

// Feeds `coded` in slices of `slice` bytes; the decoded bytes land in `out`.
ContentDecoder::Status decode(ContentDecoder& d, std::string_view coded, std::size_t slice,
                              std::string& out) {
  auto sink = [&out](std::string_view piece) {
    EXPECT_LE(piece.size(), ContentDecoder::kPiece);
    out.append(piece);
    return true;
  };
  for (std::size_t at = 0; at < coded.size(); at += slice) {
    const auto s = d.feed(coded.substr(at, slice), sink);
    if (s != ContentDecoder::Status::ok) return s;
  }
  return ContentDecoder::Status::ok;
}

std::string name(const testing::TestParamInfo<ContentCoding>& info) {
  return std::string(to_string(info.param));
}

class Decoder : public testing::TestWithParam<ContentCoding> {};

TEST_P(Decoder, RoundTripsWholeAndInSlices) {
  const std::string text = sample(300'000);  // several pieces
  const std::string coded = encode(GetParam(), text);
  for (std::size_t slice : {coded.size(), std::size_t(4096), std::size_t(1)}) {
    ContentDecoder d(GetParam());
    std::string out;
    ASSERT_EQ(decode(d, coded, slice, out), ContentDecoder::Status::ok) << slice << d.error();
    EXPECT_TRUE(d.finished()) << slice;
    EXPECT_EQ(out, text) << slice;
  }
}

TEST_P(Decoder, CorruptInputIsAnError) {
  std::string coded = encode(GetParam(), sample(100'000));
  for (std::size_t i = coded.size() / 4; i < coded.size() / 2; ++i)
    coded[i] = char(coded[i] ^ 0x5a);
  ContentDecoder d(GetParam());
  std::string out;
  EXPECT_EQ(decode(d, coded, 1000, out), ContentDecoder::Status::error);
  EXPECT_FALSE(d.error().empty());
  EXPECT_FALSE(d.finished());
  // Stays failed.
  EXPECT_EQ(d.feed("more", [](std::string_view) { return true; }), ContentDecoder::Status::error);
}

TEST_P(Decoder, GarbageFromTheStartIsAnError) {
  ContentDecoder d(GetParam());
  std::string out;
  EXPECT_EQ(decode(d, std::string(64, '\xff'), 64, out), ContentDecoder::Status::error);
  EXPECT_TRUE(out.empty());
}

TEST_P(Decoder, TruncatedStreamIsNotFinished) {
  const std::string text = sample(100'000);
  const std::string coded = encode(GetParam(), text);
  ContentDecoder d(GetParam());
  std::string out;
  ASSERT_EQ(decode(d, coded.substr(0, coded.size() - 3), 1, out), ContentDecoder::Status::ok);
  EXPECT_FALSE(d.finished());
  EXPECT_TRUE(d.consumed_any());
  EXPECT_LT(out.size(), text.size() + 1);
  EXPECT_EQ(text.compare(0, out.size(), out), 0);  // what came out is right
}

TEST_P(Decoder, BombComesOutInBoundedPiecesWhilePaused) {
  // 64 MiB of zeros: a few KiB coded. A consumer that takes one piece per
  // call holds one piece; the decoder holds the coded rest.
  constexpr std::size_t kSize = 64u << 20;
  const std::string coded = encoded_zeros(GetParam(), kSize);
  ASSERT_LT(coded.size(), kSize / 256);
  ContentDecoder d(GetParam());
  std::size_t total = 0, calls = 0, pieces = 0;
  auto one_piece = [&](std::string_view piece) {
    EXPECT_LE(piece.size(), ContentDecoder::kPiece);
    EXPECT_EQ(piece.find_first_not_of('\0'), std::string_view::npos);
    total += piece.size();
    return ++pieces < calls;  // pause after this call's first piece
  };
  calls = 1;
  auto s = d.feed(coded, one_piece);
  while (s == ContentDecoder::Status::paused) {
    EXPECT_LE(total, calls * ContentDecoder::kPiece);
    ++calls;
    s = d.drain(one_piece);
  }
  ASSERT_EQ(s, ContentDecoder::Status::ok) << d.error();
  EXPECT_TRUE(d.finished());
  EXPECT_EQ(total, kSize);
  EXPECT_GE(calls, kSize / ContentDecoder::kPiece);
}

TEST_P(Decoder, ConsumerLimitStopsEarly) {
  // What wrap_decode_request does: stop at the limit, never hold more than
  // the limit.
  constexpr std::size_t kLimit = 1u << 20;
  const std::string coded = encoded_zeros(GetParam(), 32u << 20);
  ContentDecoder d(GetParam());
  std::string held;
  bool over = false;
  const auto s = d.feed(coded, [&](std::string_view piece) {
    if (held.size() + piece.size() > kLimit) return !(over = true);
    held.append(piece);
    return true;
  });
  EXPECT_EQ(s, ContentDecoder::Status::paused);
  EXPECT_TRUE(over);
  EXPECT_LE(held.size(), kLimit);
  EXPECT_GE(held.size(), kLimit - ContentDecoder::kPiece);
}

INSTANTIATE_TEST_SUITE_P(Codings, Decoder, testing::ValuesIn(kCodings), name);

TEST(Decoder, RawDeflateIsAcceptedAsDeflate) {
  // Some servers send RFC 1951 without the zlib wrapper.
  const std::string text = sample(70'000);
  std::string raw(compressBound(uLong(text.size())) + 64, '\0');
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = uInt(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_out = uInt(raw.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  raw.resize(zs.total_out);
  deflateEnd(&zs);
  for (std::size_t slice : {raw.size(), std::size_t(1)}) {
    ContentDecoder d(ContentCoding::deflate);
    std::string out;
    ASSERT_EQ(decode(d, raw, slice, out), ContentDecoder::Status::ok) << d.error();
    EXPECT_TRUE(d.finished());
    EXPECT_EQ(out, text);
  }
}

TEST(Decoder, BytesAfterTheGzipEndAreIgnored) {
  const std::string coded = encode(ContentCoding::gzip, "hello") + "trailing junk";
  ContentDecoder d(ContentCoding::gzip);
  std::string out;
  ASSERT_EQ(decode(d, coded, 3, out), ContentDecoder::Status::ok);
  EXPECT_TRUE(d.finished());
  EXPECT_EQ(out, "hello");
}

// RFC 1952 §2.2: a gzip body is a series of members, each decoded in turn
// (gzip -d does the same); before, the second was dropped without a word.
TEST(Decoder, GzipMembersFollowEachOther) {
  const std::string second = sample(200'000);  // ends beyond the first piece
  const std::string coded = encode(ContentCoding::gzip, "one ") +
                            encode(ContentCoding::gzip, second) +
                            encode(ContentCoding::gzip, "three");
  for (std::size_t slice : {coded.size(), std::size_t(4096), std::size_t(1)}) {
    ContentDecoder d(ContentCoding::gzip);
    std::string out;
    ASSERT_EQ(decode(d, coded, slice, out), ContentDecoder::Status::ok) << slice << d.error();
    EXPECT_TRUE(d.finished()) << slice;
    EXPECT_EQ(out, "one " + second + "three") << slice;
  }
}

TEST(Decoder, AGzipMemberCutShortIsNotFinished) {
  const std::string second = encode(ContentCoding::gzip, "two");
  const std::string coded =
      encode(ContentCoding::gzip, "one ") + second.substr(0, second.size() - 3);
  ContentDecoder d(ContentCoding::gzip);
  std::string out;
  ASSERT_EQ(decode(d, coded, 5, out), ContentDecoder::Status::ok) << d.error();
  EXPECT_FALSE(d.finished());
}

TEST(Decoder, ACorruptSecondGzipMemberIsAnError) {
  std::string second = encode(ContentCoding::gzip, sample(5000));
  second[second.size() / 2] ^= 0x55;
  second[second.size() / 2 + 1] ^= 0x55;
  const std::string coded = encode(ContentCoding::gzip, "one ") + second;
  ContentDecoder d(ContentCoding::gzip);
  std::string out;
  EXPECT_EQ(decode(d, coded, coded.size(), out), ContentDecoder::Status::error);
  EXPECT_FALSE(d.error().empty());
}

TEST(Decoder, ZstdFramesFollowEachOther) {
  const std::string coded =
      encode(ContentCoding::zstd, "one ") + encode(ContentCoding::zstd, "two");
  ContentDecoder d(ContentCoding::zstd);
  std::string out;
  ASSERT_EQ(decode(d, coded, 1, out), ContentDecoder::Status::ok) << d.error();
  EXPECT_TRUE(d.finished());
  EXPECT_EQ(out, "one two");
}

TEST(Decoder, ZstdWindowBeyondEightMiBIsRefused) {
  // RFC 9659 §3: a decoder need not take windows over 8 MiB, and taking
  // them would let a frame make us allocate 128 MiB.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 26);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  const std::string text = sample(1 << 16);
  std::string coded(ZSTD_compressBound(text.size()) + 64, '\0');
  ZSTD_inBuffer in{text.data(), text.size(), 0};
  ZSTD_outBuffer out{coded.data(), coded.size(), 0};
  // In two calls, so that the size is unknown and the window stays.
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue)));
  ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0u);
  coded.resize(out.pos);
  ZSTD_freeCCtx(cctx);
  ContentDecoder d(ContentCoding::zstd);
  std::string decoded;
  EXPECT_EQ(decode(d, coded, coded.size(), decoded), ContentDecoder::Status::error);
  EXPECT_NE(d.error().find("zstd"), std::string::npos);
}

TEST(Decoder, IdentityIsNotACodingToDecode) {
  ContentDecoder d(ContentCoding::identity);
  EXPECT_EQ(d.feed("x", [](std::string_view) { return true; }), ContentDecoder::Status::error);
}

TEST(ContentEncodingField, OneCodingStackedOrUnknown) {
  using Kind = ContentEncoding::Kind;
  EXPECT_EQ(parse_content_encoding("").kind, Kind::none);
  EXPECT_EQ(parse_content_encoding(" identity ").kind, Kind::none);
  EXPECT_EQ(parse_content_encoding("gzip").coding, ContentCoding::gzip);
  EXPECT_EQ(parse_content_encoding("X-Gzip").coding, ContentCoding::gzip);
  EXPECT_EQ(parse_content_encoding("BR").coding, ContentCoding::br);
  EXPECT_EQ(parse_content_encoding("zstd").coding, ContentCoding::zstd);
  EXPECT_EQ(parse_content_encoding("deflate, identity").kind, Kind::one);
  EXPECT_EQ(parse_content_encoding("gzip, br").kind, Kind::stacked);
  EXPECT_EQ(parse_content_encoding("gzip,gzip").kind, Kind::stacked);
  EXPECT_EQ(parse_content_encoding("compress").kind, Kind::unknown);
  EXPECT_EQ(parse_content_encoding("gzip, compress").kind, Kind::unknown);
  EXPECT_EQ(parse_content_encoding("gzip;q=1").kind, Kind::unknown);  // no parameters here
  // Two field lines are one list.
  EXPECT_EQ(parse_content_encoding("br", parse_content_encoding("gzip")).kind, Kind::stacked);
  EXPECT_EQ(parse_content_encoding("", parse_content_encoding("gzip")).kind, Kind::one);
}

}  // namespace
}  // namespace httpkit::http
