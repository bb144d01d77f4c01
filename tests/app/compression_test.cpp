#include "httpkit/compression.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include "tests/app/fake_request.hpp"

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

}  // namespace
}  // namespace httpkit
