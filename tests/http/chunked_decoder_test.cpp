#include "http/chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace httpkit::http {
namespace {

struct Outcome {
  ChunkedStatus status;
  std::string body;      // every decoded byte, across calls
  std::size_t consumed;  // input bytes used, across calls
};

// Feeds `wire` to a fresh decoder in pieces of the given sizes (the last
// piece takes the rest), the way reads would arrive on a connection.
Outcome decode_in_pieces(std::string wire, const std::vector<std::size_t>& pieces,
                         const ChunkedLimits& limits = {}) {
  ChunkedDecoder decoder;
  Outcome o{ChunkedStatus::more, {}, 0};
  std::size_t at = 0;
  for (std::size_t i = 0; i <= pieces.size() && at < wire.size(); ++i) {
    const std::size_t n =
        i < pieces.size() ? std::min(pieces[i], wire.size() - at) : wire.size() - at;
    const ChunkedDecoder::Step step = decoder.decode(wire.data() + at, n, limits);
    EXPECT_LE(step.decoded, step.consumed);
    o.body.append(wire.data() + at, step.decoded);
    o.consumed += step.consumed;
    o.status = step.status;
    if (step.status != ChunkedStatus::more) break;
    EXPECT_EQ(step.consumed, n) << "`more` must consume everything";
    at += n;
  }
  EXPECT_EQ(decoder.body_bytes(), o.body.size());
  return o;
}

Outcome decode_all(std::string wire, const ChunkedLimits& limits = {}) {
  return decode_in_pieces(std::move(wire), {}, limits);
}

ChunkedStatus status_of_body(std::string wire, const ChunkedLimits& limits = {}) {
  return decode_all(std::move(wire), limits).status;
}

TEST(ChunkedDecoder, DecodesChunksInPlace) {
  const std::string wire = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  const Outcome o = decode_all(wire + "NEXT");
  EXPECT_EQ(o.status, ChunkedStatus::done);
  EXPECT_EQ(o.body, "hello world");
  EXPECT_EQ(o.consumed, wire.size());  // the next request is left alone
}

TEST(ChunkedDecoder, ReportsDecodedBytesPerCall) {
  std::string wire = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  ChunkedDecoder decoder;
  const ChunkedDecoder::Step step = decoder.decode(wire.data(), wire.size(), {});
  EXPECT_EQ(step.status, ChunkedStatus::done);
  EXPECT_EQ(step.consumed, wire.size());
  EXPECT_EQ(step.decoded, 5u);
  EXPECT_EQ(wire.substr(0, 5), "abcde");
  EXPECT_EQ(decoder.body_bytes(), 5u);
}

TEST(ChunkedDecoder, HexSizesInEitherCaseAndWithLeadingZeros) {
  EXPECT_EQ(decode_all("a\r\n0123456789\r\n0\r\n\r\n").body, "0123456789");
  EXPECT_EQ(decode_all("A\r\n0123456789\r\n0\r\n\r\n").body, "0123456789");
  EXPECT_EQ(decode_all("0000A\r\n0123456789\r\n000\r\n\r\n").body, "0123456789");
  const std::string big(0x1f, 'z');
  EXPECT_EQ(decode_all("1F\r\n" + big + "\r\n0\r\n\r\n").body, big);
}

TEST(ChunkedDecoder, AcceptsAndDropsExtensions) {
  for (std::string_view ext : {";a", ";a=b", ";a=b;c", ";a=\"q d\"", ";a=\"\\\"x\\\\\";b=c", " ;a",
                               "\t; a = b ;c", ";a=\"\"", ";a=\"\xff\""}) {
    const Outcome o =
        decode_all("3" + std::string(ext) + "\r\nabc\r\n0" + std::string(ext) + "\r\n\r\n");
    EXPECT_EQ(o.status, ChunkedStatus::done) << ext;
    EXPECT_EQ(o.body, "abc") << ext;
  }
}

TEST(ChunkedDecoder, AcceptsAndDropsTrailers) {
  const std::string wire = "3\r\nabc\r\n0\r\nVary: *\r\nX-Sum:\t1 2\r\nEmpty:\r\n\r\n";
  const Outcome o = decode_all(wire + "NEXT");
  EXPECT_EQ(o.status, ChunkedStatus::done);
  EXPECT_EQ(o.body, "abc");
  EXPECT_EQ(o.consumed, wire.size());
}

TEST(ChunkedDecoder, MalformedFramingIsBad) {
  for (std::string_view wire : {
           "\r\n",                     // no size
           "g\r\n",                    // not hex
           "-1\r\n",                   //
           "3\r\nfoo\r\n\r\n",         // missing last-chunk
           "3\nfoo\r\n0\r\n\r\n",      // bare LF after the size
           "3\rfoo\r\n0\r\n\r\n",      // bare CR after the size
           "3 \r\nfoo\r\n0\r\n\r\n",   // whitespace without an extension
           "3 x\r\nfoo\r\n0\r\n\r\n",  //
           "3;\r\nfoo\r\n0\r\n\r\n",   // ';' without a name
           "3;=b\r\nfoo\r\n",          //
           "3;a=\r\nfoo\r\n",          // '=' without a value
           "3;a b\r\nfoo\r\n",         // whitespace inside an extension
           "3;a=b c\r\nfoo\r\n",       //
           "3;a=\"b\r\nfoo\r\n",       // unterminated quoted-string
           "3;a=\"b\"c\r\nfoo\r\n",    // junk after the quotes
           "3;a=\"\x01\"\r\nfoo\r\n",  // control byte in quotes
           "3;a@b\r\nfoo\r\n",         // not a token
           "3\r\nfooX\r\n",            // data longer than the size
           "3\r\nfoo\n0\r\n\r\n",      // bare LF after data
           "3\r\nfoo\rX",              // bare CR after data
           "0\r\n X: y\r\n\r\n",       // trailer obs-fold
           "0\r\n: y\r\n\r\n",         // empty trailer name
           "0\r\nX y: z\r\n\r\n",      // bad trailer name
           "0\r\nX\r\n\r\n",           // trailer without colon
           "0\r\nX: a\x01b\r\n\r\n",   // control byte in a trailer value
           "0\r\nX: a\rb\r\n\r\n",     // bare CR in a trailer
           "0\r\nX: a\n\r\n",          // bare LF in a trailer
           "0\r\n\rX",                 // bare CR at the end
           "0\r\n\n",                  //
       }) {
    EXPECT_EQ(status_of_body(std::string(wire)), ChunkedStatus::bad) << wire;
  }
}

TEST(ChunkedDecoder, BadReportsTheOffendingByte) {
  ChunkedDecoder decoder;
  std::string wire = "3\r\nabc\r\nZ";
  const ChunkedDecoder::Step step = decoder.decode(wire.data(), wire.size(), {});
  EXPECT_EQ(step.status, ChunkedStatus::bad);
  EXPECT_EQ(step.consumed, wire.size() - 1);
  EXPECT_EQ(step.decoded, 3u);
  // The verdict sticks.
  EXPECT_EQ(decoder.decode(wire.data(), wire.size(), {}).status, ChunkedStatus::bad);
}

TEST(ChunkedDecoder, SizeOverflowIsBad) {
  EXPECT_EQ(status_of_body("fffffffffffffff\r\n"), ChunkedStatus::too_large);  // 15 digits fit
  EXPECT_EQ(status_of_body("10000000000000000\r\n"), ChunkedStatus::bad);      // 2^64
  EXPECT_EQ(status_of_body("ffffffffffffffffff\r\n"), ChunkedStatus::bad);
}

TEST(ChunkedDecoder, BodyLimit) {
  ChunkedLimits limits;
  limits.max_body = 10;
  const Outcome at_limit = decode_all("4\r\nabcd\r\n6\r\nefghij\r\n0\r\n\r\n", limits);
  EXPECT_EQ(at_limit.status, ChunkedStatus::done);
  EXPECT_EQ(at_limit.body, "abcdefghij");

  // Refused when the size is read, before any of that chunk's data.
  const Outcome over = decode_all("4\r\nabcd\r\n7\r\nefghijk\r\n0\r\n\r\n", limits);
  EXPECT_EQ(over.status, ChunkedStatus::too_large);
  EXPECT_EQ(over.body, "abcd");
  EXPECT_EQ(over.consumed, std::string("4\r\nabcd\r\n7").size());
}

TEST(ChunkedDecoder, LineLimit) {
  ChunkedLimits limits;
  limits.max_line = 12;  // "3;aaaaaaaa\r\n" is exactly 12 bytes
  EXPECT_EQ(status_of_body("3;aaaaaaaa\r\nabc\r\n0\r\n\r\n", limits), ChunkedStatus::done);
  EXPECT_EQ(status_of_body("3;aaaaaaaaa\r\nabc\r\n0\r\n\r\n", limits), ChunkedStatus::bad);
  // The count starts again on every line.
  EXPECT_EQ(status_of_body("3;aaaaaaaa\r\nabc\r\n3;aaaaaaaa\r\nabc\r\n0\r\n\r\n", limits),
            ChunkedStatus::done);
  // Endless leading zeros are caught too.
  EXPECT_EQ(status_of_body(std::string(100, '0'), limits), ChunkedStatus::bad);
}

TEST(ChunkedDecoder, TrailerLimit) {
  const std::string trailers = "X: 12345\r\n\r\n";  // 12 bytes
  ChunkedLimits limits;
  limits.max_trailers = trailers.size();
  EXPECT_EQ(status_of_body("0\r\n" + trailers, limits), ChunkedStatus::done);
  limits.max_trailers = trailers.size() - 1;
  EXPECT_EQ(status_of_body("0\r\n" + trailers, limits), ChunkedStatus::too_large);
}

TEST(ChunkedDecoder, EverySplitDecodesTheSame) {
  const std::string wire =
      "5;ext=\"a;b\"\r\nhello\r\n1\r\n \r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    const Outcome o = decode_in_pieces(wire + "GET", {split});
    ASSERT_EQ(o.status, ChunkedStatus::done) << split;
    EXPECT_EQ(o.body, "hello 0123456789abcdef") << split;
    EXPECT_EQ(o.consumed, wire.size()) << split;
  }
  // And one byte at a time.
  const Outcome bytewise = decode_in_pieces(wire, std::vector<std::size_t>(wire.size(), 1));
  EXPECT_EQ(bytewise.status, ChunkedStatus::done);
  EXPECT_EQ(bytewise.body, "hello 0123456789abcdef");
}

TEST(ChunkedDecoder, EverySplitFailsTheSame) {
  const std::string wire = "5\r\nhello\r\n3;x=\"unterminated\r\nabc\r\n0\r\n\r\n";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    const Outcome o = decode_in_pieces(wire, {split});
    EXPECT_EQ(o.status, ChunkedStatus::bad) << split;
    EXPECT_EQ(o.body, "hello") << split;
    EXPECT_EQ(o.consumed, wire.find("\r\nabc")) << split;
  }
}

TEST(ChunkedDecoder, MoreUntilTheFinalCrlf) {
  const std::string wire = "3\r\nabc\r\n0\r\n\r\n";
  for (std::size_t n = 0; n < wire.size(); ++n) {
    EXPECT_EQ(decode_all(wire.substr(0, n)).status, ChunkedStatus::more) << n;
  }
}

TEST(ChunkedDecoder, DoneIsFinalAndResetStartsOver) {
  ChunkedDecoder decoder;
  std::string wire = "1\r\na\r\n0\r\n\r\n";
  ASSERT_EQ(decoder.decode(wire.data(), wire.size(), {}).status, ChunkedStatus::done);
  const ChunkedDecoder::Step again = decoder.decode(wire.data(), wire.size(), {});
  EXPECT_EQ(again.status, ChunkedStatus::done);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(again.decoded, 0u);

  decoder.reset();
  EXPECT_EQ(decoder.body_bytes(), 0u);
  std::string second = "2\r\nbc\r\n0\r\n\r\n";
  const ChunkedDecoder::Step step = decoder.decode(second.data(), second.size(), {});
  EXPECT_EQ(step.status, ChunkedStatus::done);
  EXPECT_EQ(second.substr(0, step.decoded), "bc");
}

TEST(ChunkedDecoder, EmptyInputIsMore) {
  ChunkedDecoder decoder;
  char none = 0;
  const ChunkedDecoder::Step step = decoder.decode(&none, 0, {});
  EXPECT_EQ(step.status, ChunkedStatus::more);
  EXPECT_EQ(step.consumed, 0u);
}

}  // namespace
}  // namespace httpkit::http
