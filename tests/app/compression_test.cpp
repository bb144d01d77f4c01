#include "httpkit/compression.hpp"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>
#include <future>
#include <optional>
#include <sstream>
#include <thread>

#include "httpkit/channel.hpp"
#include "server/websocket_accept.hpp"
#include "tests/app/fake_request.hpp"
#include "tests/server/raw_client.hpp"
#include "tests/server/test_server.hpp"

namespace httpkit {
namespace {

using test::FakeRequest;
using test::response_header;

std::string gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 31);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

std::string page() {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "<p>paragraph " + std::to_string(i) + "</p>\n";
  return text;
}

Handler app_returning(Response r) {
  return [r](const Request&) { return r; };
}

TEST(Compression, ChoosesByAcceptEncodingAndAddsVary) {
  Handler app = wrap_compression(app_returning(Response::html(page())));
  FakeRequest gzip("GET", "/", {{"Accept-Encoding", "gzip"}});
  const Response r = app(*gzip);
  EXPECT_EQ(response_header(r, "Content-Encoding"), "gzip");
  EXPECT_EQ(response_header(r, "Vary"), "Accept-Encoding");
  EXPECT_EQ(gunzip(test::response_text(r)), page());
  EXPECT_LT(test::response_text(r).size(), page().size() / 3);

  FakeRequest browser("GET", "/", {{"Accept-Encoding", "gzip, deflate, br, zstd"}});
  EXPECT_EQ(response_header(app(*browser), "Content-Encoding"), "zstd");
  FakeRequest prefers_br("GET", "/", {{"Accept-Encoding", "gzip;q=0.5, br"}});
  EXPECT_EQ(response_header(app(*prefers_br), "Content-Encoding"), "br");
  FakeRequest none("GET", "/");
  const Response plain = app(*none);
  EXPECT_EQ(response_header(plain, "Content-Encoding"), "<none>");
  EXPECT_EQ(response_header(plain, "Vary"), "Accept-Encoding");  // caches must know
  EXPECT_EQ(test::response_text(plain), page());
}

TEST(Compression, LeavesAloneWhatItShould) {
  FakeRequest req("GET", "/", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(response_header(wrap_compression(app_returning(Response::text("tiny")))(*req),
                            "Content-Encoding"),
            "<none>");
  Response png(200, page());
  png.header("Content-Type", "image/png");
  EXPECT_EQ(response_header(wrap_compression(app_returning(png))(*req), "Content-Encoding"),
            "<none>");
  Response done = Response::html(page());
  done.header("Content-Encoding", "br");
  EXPECT_EQ(test::response_text(wrap_compression(app_returning(done))(*req)), page());
  Response no_transform = Response::html(page());
  no_transform.header("Cache-Control", "public, no-transform");
  EXPECT_EQ(
      response_header(wrap_compression(app_returning(no_transform))(*req), "Content-Encoding"),
      "<none>");
  Response partial = Response::html(page());
  partial.status = 206;
  EXPECT_EQ(response_header(wrap_compression(app_returning(partial))(*req), "Content-Encoding"),
            "<none>");
  FakeRequest refuses("GET", "/", {{"Accept-Encoding", "gzip;q=0, identity"}});
  EXPECT_EQ(response_header(wrap_compression(app_returning(Response::html(page())))(*refuses),
                            "Content-Encoding"),
            "<none>");
}

TEST(Compression, WeakensAStrongETagAndKeepsVaryList) {
  Response r = Response::html(page());
  r.header("ETag", "\"abc\"").header("Vary", "Origin");
  FakeRequest req("GET", "/", {{"Accept-Encoding", "gzip"}});
  const Response out = wrap_compression(app_returning(r))(*req);
  EXPECT_EQ(response_header(out, "ETag"), "W/\"abc\"");
  EXPECT_EQ(response_header(out, "Vary"), "Origin, Accept-Encoding");
}

TEST(Compression, CustomCodingsAndMinimum) {
  CompressionOptions options;
  options.codings = {Coding::gzip};
  options.min_size = 100000;
  FakeRequest req("GET", "/", {{"Accept-Encoding", "br, gzip"}});
  EXPECT_EQ(response_header(wrap_compression(app_returning(Response::html(page())), options)(*req),
                            "Content-Encoding"),
            "<none>");
  options.min_size = 10;
  EXPECT_EQ(response_header(wrap_compression(app_returning(Response::html(page())), options)(*req),
                            "Content-Encoding"),
            "gzip");
}

// ------------------------------------------------------------ streamed output

// Decodes a stream fed piece by piece, keeping its state between pieces, as
// a browser does: what a piece gives back is what arrived with it.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const std::string& coding) : coding_(coding) {
    if (coding == "gzip" || coding == "deflate") {
      EXPECT_EQ(inflateInit2(&z_, coding == "gzip" ? 31 : 15), Z_OK);
    } else if (coding == "br") {
      br_ = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
    } else {
      zstd_ = ZSTD_createDCtx();
    }
  }
  ~IncrementalDecoder() {
    if (coding_ == "gzip" || coding_ == "deflate") inflateEnd(&z_);
    if (br_) BrotliDecoderDestroyInstance(br_);
    if (zstd_) ZSTD_freeDCtx(zstd_);
  }
  // What `piece` decodes to; `ended` turns true at the end of the stream.
  std::string feed(std::string_view piece) {
    std::string out;
    char buf[16384];
    if (br_) {
      std::size_t avail_in = piece.size();
      auto next_in = reinterpret_cast<const uint8_t*>(piece.data());
      BrotliDecoderResult rc;
      do {
        std::size_t avail_out = sizeof buf;
        auto next_out = reinterpret_cast<uint8_t*>(buf);
        rc =
            BrotliDecoderDecompressStream(br_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
        out.append(buf, sizeof buf - avail_out);
      } while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT);
      EXPECT_NE(rc, BROTLI_DECODER_RESULT_ERROR);
      ended = rc == BROTLI_DECODER_RESULT_SUCCESS;
    } else if (zstd_) {
      ZSTD_inBuffer in{piece.data(), piece.size(), 0};
      for (;;) {
        ZSTD_outBuffer o{buf, sizeof buf, 0};
        const std::size_t rc = ZSTD_decompressStream(zstd_, &o, &in);
        EXPECT_FALSE(ZSTD_isError(rc));
        if (ZSTD_isError(rc)) break;
        out.append(buf, o.pos);
        if (rc == 0) ended = true;
        if (in.pos == in.size && o.pos < sizeof buf) break;
      }
    } else {
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
      z_.avail_in = uInt(piece.size());
      int rc;
      do {
        z_.next_out = reinterpret_cast<Bytef*>(buf);
        z_.avail_out = sizeof buf;
        rc = inflate(&z_, Z_SYNC_FLUSH);
        out.append(buf, sizeof buf - z_.avail_out);
      } while (rc == Z_OK && (z_.avail_in > 0 || z_.avail_out == 0));
      EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR) << rc;
      ended = rc == Z_STREAM_END;
    }
    return out;
  }
  bool ended = false;

 private:
  std::string coding_;
  z_stream z_{};
  BrotliDecoderState* br_ = nullptr;
  ZSTD_DCtx* zstd_ = nullptr;
};

const char* const kCodings[] = {"gzip", "deflate", "br", "zstd"};

Response sse_channel_response() {
  static const auto handlers = std::make_shared<ChannelHandlers>();
  Response r;
  r.body = ChannelBody{handlers, nullptr};
  return r;
}

std::string sse_event(int i) {
  return EventStream::format("tick " + std::to_string(i) + " of the clock", "tick",
                             std::to_string(i));
}

TEST(StreamedCompression, EachSendIsDecodableAsItArrivesForEveryCoding) {
  for (const char* coding : kCodings) {
    SCOPED_TRACE(coding);
    FakeRequest req("GET", "/events", {{"Accept-Encoding", coding}});
    Response r = wrap_compression(app_returning(sse_channel_response()))(*req);
    ASSERT_EQ(r.output_filters.size(), 1u);  // decided at the head, when the type is known
    std::vector<Header> headers = {
        {"Content-Type", "text/event-stream"}, {"Content-Length", "99"}, {"ETag", "\"v1\""}};
    OutputHead head{200, headers, false};
    std::unique_ptr<BodyFilter> filter = r.output_filters[0](head);
    ASSERT_TRUE(filter);
    const auto value = [&](std::string_view name) -> std::string {
      for (const Header& h : headers)
        if (iequals(h.name, name)) return h.value;
      return "<none>";
    };
    EXPECT_EQ(value("Content-Encoding"), coding);
    EXPECT_EQ(value("Vary"), "Accept-Encoding");
    EXPECT_EQ(value("Content-Length"), "<none>");
    EXPECT_EQ(value("ETag"), "W/\"v1\"");

    IncrementalDecoder decoder(coding);
    for (int i = 0; i < 20; ++i) {
      std::string out;
      ASSERT_TRUE(filter->process(sse_event(i), /*flush=*/true, /*last=*/false, out));
      EXPECT_EQ(decoder.feed(out), sse_event(i)) << "event " << i;
    }
    std::string tail;
    ASSERT_TRUE(filter->process({}, true, true, tail));
    EXPECT_EQ(decoder.feed(tail), "");
    EXPECT_TRUE(decoder.ended);
    std::string after;
    EXPECT_FALSE(filter->process("late", false, false, after));  // nothing follows the end
  }
}

TEST(StreamedCompression, TheSameRulesDecideAtTheHead) {
  FakeRequest req("GET", "/", {{"Accept-Encoding", "gzip"}});
  const auto setup = [&](int status, std::vector<Header> headers) {
    Response r = wrap_compression(app_returning(sse_channel_response()))(*req);
    OutputHead head{status, headers, false};
    bool filtered = r.output_filters.at(0)(head) != nullptr;
    bool vary = false;
    for (const Header& h : headers)
      vary = vary || h.name == "Vary";
    return std::make_pair(filtered, vary);
  };
  EXPECT_EQ(setup(200, {{"Content-Type", "text/plain"}}), std::make_pair(true, true));
  EXPECT_EQ(setup(200, {{"Content-Type", "image/png"}}), std::make_pair(false, false));
  EXPECT_EQ(setup(200, {}), std::make_pair(false, false));
  EXPECT_EQ(setup(204, {{"Content-Type", "text/plain"}}), std::make_pair(false, false));
  EXPECT_EQ(setup(206, {{"Content-Type", "text/plain"}}), std::make_pair(false, false));
  EXPECT_EQ(setup(200, {{"Content-Type", "text/plain"}, {"Content-Encoding", "br"}}).first, false);
  EXPECT_EQ(setup(200, {{"Content-Type", "text/plain"}, {"Cache-Control", "no-transform"}}).first,
            false);

  // A client that takes no coding of ours: Vary, but no filter.
  FakeRequest plain("GET", "/");
  Response r = wrap_compression(app_returning(sse_channel_response()))(*plain);
  std::vector<Header> headers = {{"Content-Type", "text/plain"}};
  OutputHead head{200, headers, false};
  EXPECT_EQ(r.output_filters.at(0)(head), nullptr);
  EXPECT_EQ(headers.size(), 2u);

  // WebSocket is not HTTP output: left alone.
  Response upgrade;
  upgrade.status = 101;
  upgrade.body =
      ChannelBody{std::make_shared<ChannelHandlers>(), std::make_shared<WebSocketAccept>()};
  EXPECT_TRUE(wrap_compression(app_returning(upgrade))(*req).output_filters.empty());
}

// Reads one chunk of a chunked body; nullopt at the last chunk.
std::optional<std::string> read_chunk(test::RawClient& c) {
  std::string line;
  while (line.size() < 2 || line.compare(line.size() - 2, 2, "\r\n") != 0) {
    const std::string b = c.read_exact(1);
    if (b.empty()) return std::nullopt;
    line += b;
  }
  const std::size_t size = std::stoul(line, nullptr, 16);
  std::string data = c.read_exact(size);
  c.read_exact(2);
  if (size == 0) return std::nullopt;
  return data;
}

TEST(StreamedCompression, ServerSentEventsReachTheClientDecodableOneByOne) {
  std::mutex m;
  std::vector<ChannelPtr> channels;
  auto handlers = std::make_shared<ChannelHandlers>();
  handlers->on_open = [&](const ChannelPtr& ch) {
    std::lock_guard lock(m);
    channels.push_back(ch);
  };
  test::TestServer server(
      wrap_compression([&](const Request& req) { return as_channel(req, handlers); }));
  for (const char* coding : kCodings) {
    SCOPED_TRACE(coding);
    test::RawClient c(server.port());
    c.send(std::string("GET /events HTTP/1.1\r\nHost: t\r\nAccept-Encoding: ") + coding +
           "\r\n\r\n");
    ChannelPtr ch;
    for (int i = 0; i < 500 && !ch; ++i) {
      {
        std::lock_guard lock(m);
        if (!channels.empty()) ch = channels.back(), channels.clear();
      }
      if (!ch) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(ch);
    EventStream events(ch, std::chrono::milliseconds(0));
    const test::RawResponse head = c.read_head();
    EXPECT_EQ(head.get("content-encoding"), coding);
    EXPECT_EQ(head.get("transfer-encoding"), "chunked");
    EXPECT_EQ(head.get("vary"), "Accept-Encoding");
    IncrementalDecoder decoder(coding);
    auto first = read_chunk(c);
    ASSERT_TRUE(first);
    EXPECT_EQ(decoder.feed(*first), ": stream opened\n\n");
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(
          events.send("tick " + std::to_string(i) + " of the clock", "tick", std::to_string(i)));
      auto chunk = read_chunk(c);  // the event's own chunk, before any other is sent
      ASSERT_TRUE(chunk);
      EXPECT_EQ(decoder.feed(*chunk), sse_event(i));
    }
    events.close();
    std::string rest;
    while (auto chunk = read_chunk(c))
      rest += decoder.feed(*chunk);
    EXPECT_EQ(rest, "");
    EXPECT_TRUE(decoder.ended);
  }
}

TEST(StreamedCompression, AStreamBodyIsCompressedWithoutItsLength) {
  std::string text;
  for (int i = 0; i < 30000; ++i)
    text += "{\"row\": " + std::to_string(i) + "}\n";
  test::TestServer server(wrap_compression([&](const Request&) {
    Response r;
    r.header("Content-Type", "application/json");
    r.body = stream_body(std::make_unique<std::istringstream>(text), text.size(), 8192);
    return r;
  }));
  for (const char* coding : kCodings) {
    SCOPED_TRACE(coding);
    test::RawClient c(server.port());
    c.send(std::string("GET / HTTP/1.1\r\nHost: t\r\nAccept-Encoding: ") + coding + "\r\n\r\n");
    const test::RawResponse r = c.read_response();
    EXPECT_EQ(r.get("content-encoding"), coding);
    EXPECT_FALSE(r.has("content-length"));
    EXPECT_LT(r.body.size(), text.size() / 4);
    IncrementalDecoder decoder(coding);
    EXPECT_EQ(decoder.feed(r.body), text);
    EXPECT_TRUE(decoder.ended);
  }
}

}  // namespace
}  // namespace httpkit
