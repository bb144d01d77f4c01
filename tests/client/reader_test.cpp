#include <gtest/gtest.h>
#include <zlib.h>

#include "app/content_encoder.hpp"
#include "client/response_reader.hpp"
#include "client/text_decode.hpp"

namespace httpkit::client {
namespace {

std::string compress(std::string_view data, int window_bits) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = uInt(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct Collect : ResponseSink {
  int status = 0;
  std::string body;
  int heads = 0;
  std::size_t pause_after = SIZE_MAX;
  std::size_t pieces = 0;
  HeadAction head_action = HeadAction::keep;

  HeadAction on_head(const http::ResponseHeadView& h) override {
    status = h.status;
    ++heads;
    return head_action;
  }
  Verdict on_body(std::string_view piece) override {
    body.append(piece);
    return ++pieces >= pause_after ? Verdict::pause : Verdict::go;
  }
};

struct Fed {
  ResponseReader::Result last;
  std::size_t total_consumed = 0;
};

// Feeds `bytes` in pieces of `step`.
Fed feed(ResponseReader& reader, Collect& sink, std::string bytes, std::size_t step) {
  Fed fed;
  for (std::size_t at = 0; at < bytes.size();) {
    std::size_t n = std::min(step, bytes.size() - at);
    std::string piece = bytes.substr(at, n);
    fed.last = reader.feed(piece.data(), piece.size(), sink);
    fed.total_consumed += fed.last.consumed;
    at += n;
    if (fed.last.status != ResponseReader::Status::more) break;
  }
  return fed;
}

http::HeaderField g_fields[100];

ResponseReader::Config config() {
  ResponseReader::Config c;
  c.fields = g_fields;
  c.max_headers = 100;
  return c;
}

ResponseReader started(bool head = false, bool decompress = true) {
  ResponseReader r;
  ResponseReader::Config c = config();
  c.decompress = decompress;
  r.start({head, false}, c);
  return r;
}

TEST(Reader, ContentLengthInAnySplit) {
  const std::string msg = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
  for (std::size_t step : {1, 2, 7, 100}) {
    ResponseReader r = started();
    Collect sink;
    Fed f = feed(r, sink, msg, step);
    EXPECT_EQ(f.last.status, ResponseReader::Status::done) << step;
    EXPECT_EQ(sink.body, "hello");
    EXPECT_EQ(sink.status, 200);
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST(Reader, ChunkedAndInterim) {
  const std::string msg =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n";
  for (std::size_t step : {1, 3, 1000}) {
    ResponseReader r = started();
    Collect sink;
    Fed f = feed(r, sink, msg, step);
    EXPECT_EQ(f.last.status, ResponseReader::Status::done);
    EXPECT_EQ(sink.status, 201);
    EXPECT_EQ(sink.heads, 1);
    EXPECT_EQ(sink.body, "hello world");
  }
}

TEST(Reader, UntilCloseEndsAtEof) {
  ResponseReader r = started();
  Collect sink;
  std::string msg = "HTTP/1.0 200 OK\r\n\r\nsome body";
  EXPECT_EQ(r.feed(msg.data(), msg.size(), sink).status, ResponseReader::Status::more);
  EXPECT_EQ(r.on_eof(sink).status, ResponseReader::Status::done);
  EXPECT_EQ(sink.body, "some body");
  EXPECT_FALSE(r.keep_alive());
}

TEST(Reader, HeadAnd204HaveNoBody) {
  ResponseReader r = started(/*head=*/true);
  Collect sink;
  std::string msg = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
  auto res = r.feed(msg.data(), msg.size(), sink);
  EXPECT_EQ(res.status, ResponseReader::Status::done);
  EXPECT_EQ(res.consumed, msg.size());
  ResponseReader r2 = started();
  msg = "HTTP/1.1 204 No Content\r\n\r\n";
  EXPECT_EQ(r2.feed(msg.data(), msg.size(), sink).status, ResponseReader::Status::done);
}

TEST(Reader, ErrorsAreTyped) {
  struct Case {
    std::string bytes;
    ErrorKind kind;
    bool eof;
  };
  std::vector<Case> cases = {
      {"HTTX/1.1 200 OK\r\n\r\n", ErrorKind::protocol, false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", ErrorKind::protocol,
       false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ErrorKind::protocol, false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", ErrorKind::reset, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", ErrorKind::reset, true},
      {"HTTP/1.1 200 OK\r\nX: y", ErrorKind::reset, true},
      {"", ErrorKind::reset, true},
  };
  for (const Case& c : cases) {
    ResponseReader r = started();
    Collect sink;
    std::string bytes = c.bytes;
    auto res = r.feed(bytes.data(), bytes.size(), sink);
    if (c.eof) {
      ASSERT_EQ(res.status, ResponseReader::Status::more) << c.bytes;
      res = r.on_eof(sink);
    }
    EXPECT_EQ(res.status, ResponseReader::Status::error) << c.bytes;
    EXPECT_EQ(res.kind, c.kind) << c.bytes << " -> " << res.message;
    EXPECT_FALSE(res.message.empty());
  }
}

TEST(Reader, HeadLimit) {
  ResponseReader r;
  ResponseReader::Config c = config();
  c.limits.max_head_bytes = 1024;
  r.start({}, c);
  Collect sink;
  std::string bytes = "HTTP/1.1 200 OK\r\nX: " + std::string(2000, 'a');
  auto res = r.feed(bytes.data(), bytes.size(), sink);
  EXPECT_EQ(res.status, ResponseReader::Status::error);
  EXPECT_EQ(res.kind, ErrorKind::protocol);
}

TEST(Reader, GzipAndDeflateBodies) {
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "line " + std::to_string(i) + "\n";
  for (auto [coding, bits] :
       {std::pair{"gzip", 31}, std::pair{"deflate", 15}, std::pair{"deflate", -15}}) {
    std::string z = compress(text, bits);
    std::string msg = std::string("HTTP/1.1 200 OK\r\nContent-Encoding: ") + coding +
                      "\r\nContent-Length: " + std::to_string(z.size()) + "\r\n\r\n" + z;
    for (std::size_t step : {7, 4096, 1 << 20}) {
      ResponseReader r = started();
      Collect sink;
      Fed f = feed(r, sink, msg, step);
      EXPECT_EQ(f.last.status, ResponseReader::Status::done) << coding << bits << " " << step;
      EXPECT_TRUE(sink.body == text) << coding << bits << " " << sink.body.size();
    }
  }
}

TEST(Reader, CorruptGzipIsProtocolError) {
  std::string z = compress("hello hello hello", 31);
  z[12] ^= 0x55;
  z[13] ^= 0x55;
  std::string msg =
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(z.size()) +
      "\r\n\r\n" + z;
  ResponseReader r = started();
  Collect sink;
  auto res = r.feed(msg.data(), msg.size(), sink);
  EXPECT_EQ(res.status, ResponseReader::Status::error);
  EXPECT_EQ(res.kind, ErrorKind::protocol);
}

TEST(Reader, BrotliAndZstdBodies) {
  // What the client's Accept-Encoding offers, it decodes.
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "line " + std::to_string(i) + "\n";
  for (auto coding : {http::ContentCoding::br, http::ContentCoding::zstd}) {
    std::string z;
    ASSERT_TRUE(app::encode_all(coding, text, z));
    std::string msg = "HTTP/1.1 200 OK\r\nContent-Encoding: " + std::string(to_string(coding)) +
                      "\r\nContent-Length: " + std::to_string(z.size()) + "\r\n\r\n" + z;
    for (std::size_t step : {7, 4096, 1 << 20}) {
      ResponseReader r = started();
      Collect sink;
      Fed f = feed(r, sink, msg, step);
      EXPECT_EQ(f.last.status, ResponseReader::Status::done) << to_string(coding) << " " << step;
      EXPECT_TRUE(sink.body == text) << to_string(coding) << " " << sink.body.size();
    }
  }
}

TEST(Reader, DecompressionPausesInBoundedPieces) {
  // 8 MiB of zeros compress to a few KiB: a paused consumer must not get it
  // all at once.
  std::string text(8u << 20, '\0');
  std::string z = compress(text, 31);
  std::string msg =
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(z.size()) +
      "\r\n\r\n" + z;
  ResponseReader r = started();
  Collect sink;
  sink.pause_after = 1;
  auto res = r.feed(msg.data(), msg.size(), sink);
  EXPECT_EQ(res.status, ResponseReader::Status::paused);
  EXPECT_LE(sink.body.size(), http::ContentDecoder::kPiece);
  int resumes = 0;
  while (res.status == ResponseReader::Status::paused) {
    sink.pieces = 0;
    res = r.resume(sink);
    ++resumes;
  }
  EXPECT_EQ(res.status, ResponseReader::Status::done);
  EXPECT_EQ(sink.body.size(), text.size());
  EXPECT_GE(resumes, 100);
}

TEST(Reader, DiscardedBodyStillFramed) {
  ResponseReader r = started();
  Collect sink;
  sink.head_action = ResponseSink::HeadAction::discard;
  std::string msg = "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 3\r\n\r\nabc";
  auto res = r.feed(msg.data(), msg.size(), sink);
  EXPECT_EQ(res.status, ResponseReader::Status::done);
  EXPECT_EQ(sink.body, "");
}

TEST(Reader, LeftoverBytesAreReported) {
  ResponseReader r = started();
  Collect sink;
  std::string msg = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
  auto res = r.feed(msg.data(), msg.size(), sink);
  EXPECT_EQ(res.status, ResponseReader::Status::done);
  EXPECT_EQ(res.consumed, msg.size() - 5);
}

TEST(TextDecode, Charsets) {
  EXPECT_EQ(charset_of("text/html; charset=\"ISO-8859-1\""), "ISO-8859-1");
  EXPECT_EQ(charset_of("text/html;foo=bar; Charset=utf-8"), "utf-8");
  EXPECT_EQ(charset_of("text/html"), "");
  EXPECT_TRUE(is_textual("application/json"));
  EXPECT_TRUE(is_textual("text/plain; charset=x"));
  EXPECT_FALSE(is_textual("image/png"));
  std::string latin1 = "caf\xe9";
  EXPECT_TRUE(convert_to_utf8(latin1, "ISO-8859-1"));
  EXPECT_EQ(latin1, "caf\xc3\xa9");
  std::string unknown = "x";
  EXPECT_FALSE(convert_to_utf8(unknown, "no-such-charset"));
  EXPECT_EQ(unknown, "x");
}

}  // namespace
}  // namespace httpkit::client
