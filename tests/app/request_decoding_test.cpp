#include <gtest/gtest.h>
#include <malloc.h>

#include <fstream>
#include <string>

#include "app/content_encoder.hpp"
#include "httpkit/middleware.hpp"
#include "tests/app/fake_request.hpp"
#include "tests/server/raw_client.hpp"
#include "tests/server/test_server.hpp"

namespace httpkit {
namespace {

using test::FakeRequest;
using test::response_header;
using test::response_text;

constexpr http::ContentCoding kCodings[] = {http::ContentCoding::gzip, http::ContentCoding::deflate,
                                            http::ContentCoding::br, http::ContentCoding::zstd};

// What the wrapped handler saw.
struct Seen {
  int calls = 0;
  std::string body, content_encoding, content_length, other;
};

Handler recorder(Seen& seen) {
  return [&seen](const Request& req) {
    ++seen.calls;
    seen.body = std::string(req.body());
    seen.content_encoding = std::string(req.header("content-encoding").value_or("<none>"));
    seen.content_length = std::string(req.header("content-length").value_or("<none>"));
    seen.other = std::string(req.header("x-other").value_or("<none>"));
    return Response::text("ok");
  };
}

// `req` with `body` and fields as the server would build them.
Response call(const Handler& h, const std::vector<std::pair<std::string, std::string>>& fields,
              std::string body) {
  FakeRequest fake("POST", "/in", fields);
  std::vector<HeaderView> views;
  for (const HeaderView& v : (*fake).headers())
    views.push_back(v);
  return h((*fake).with_body(std::move(body), views));
}

std::string encoded(http::ContentCoding coding, std::string_view text) {
  std::string out;
  EXPECT_TRUE(app::encode_all(coding, text, out));
  return out;
}

// `size` zeros encoded in a stream (never held whole).
std::string encoded_zeros(http::ContentCoding coding, std::size_t size) {
  auto encoder = app::make_content_encoder(coding);
  const std::string block(1 << 20, '\0');
  std::string out;
  for (std::size_t left = size; left > 0; left -= std::min(left, block.size()))
    EXPECT_TRUE(encoder->write({block.data(), std::min(left, block.size())}, out));
  EXPECT_TRUE(encoder->finish(out));
  return out;
}

std::string sample() {
  std::string s;
  for (int i = 0; i < 30000; ++i)
    s += "field" + std::to_string(i) + "=value&";
  return s;
}

// The process's peak resident set (kB), reset by clear_peak().
long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
bool clear_peak() {
  malloc_trim(0);  // free heap pages would hide growth
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return bool(clear.flush());
}

// A bomb may cost the 1 MiB limit, the decoder's state and the string's
// growth; ASan's redzones and quarantine (freed memory is not reused at
// once) about double that.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kBombGrowthLimitKiB = 8 * 1024;
#else
constexpr long kBombGrowthLimitKiB = 4 * 1024;
#endif

std::string name(const testing::TestParamInfo<http::ContentCoding>& info) {
  return std::string(to_string(info.param));
}

class DecodeRequest : public testing::TestWithParam<http::ContentCoding> {};

TEST_P(DecodeRequest, HandlerSeesTheDecodedBody) {
  const std::string text = sample();
  const std::string coded = encoded(GetParam(), text);
  Seen seen;
  Handler h = wrap_decode_request(recorder(seen));
  const Response r = call(h,
                          {{"Content-Encoding", std::string(to_string(GetParam()))},
                           {"Content-Length", std::to_string(coded.size())},
                           {"X-Other", "kept"}},
                          coded);
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.body, text);
  EXPECT_EQ(seen.content_encoding, "<none>");
  EXPECT_EQ(seen.content_length, std::to_string(text.size()));
  EXPECT_EQ(seen.other, "kept");
}

TEST_P(DecodeRequest, CorruptBodyIs400) {
  std::string coded = encoded(GetParam(), sample());
  for (std::size_t i = coded.size() / 3; i < coded.size() / 2; ++i)
    coded[i] = char(~coded[i]);
  Seen seen;
  const Response r = call(wrap_decode_request(recorder(seen)),
                          {{"Content-Encoding", std::string(to_string(GetParam()))}}, coded);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(seen.calls, 0);
}

TEST_P(DecodeRequest, TruncatedBodyIs400) {
  const std::string coded = encoded(GetParam(), sample());
  Seen seen;
  const Response r = call(wrap_decode_request(recorder(seen)),
                          {{"Content-Encoding", std::string(to_string(GetParam()))}},
                          coded.substr(0, coded.size() / 2));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(response_text(r).find("ends early"), std::string::npos) << response_text(r);
  EXPECT_EQ(seen.calls, 0);
}

TEST_P(DecodeRequest, BombIs413WithMemoryBounded) {
  // 64 MiB of zeros, a few KiB to a few hundred KiB coded, against a 1 MiB
  // limit: 413, and the peak RSS grows by the limit and the decoder's
  // state, not by the bomb.
  const std::string bomb = encoded_zeros(GetParam(), 64u << 20);
  ASSERT_LT(bomb.size(), 1u << 20);
  Seen seen;
  Handler h = wrap_decode_request(recorder(seen), {.max_decoded = 1u << 20});
  if (!clear_peak()) GTEST_SKIP() << "no /proc/self/clear_refs";
  const long before = peak_rss_kb();
  const Response r = call(h, {{"Content-Encoding", std::string(to_string(GetParam()))}}, bomb);
  const long growth = peak_rss_kb() - before;
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(seen.calls, 0);
  std::printf("%s bomb (%zu coded bytes): peak RSS grew by %ld KiB\n",
              std::string(to_string(GetParam())).c_str(), bomb.size(), growth);
  EXPECT_LT(growth, kBombGrowthLimitKiB) << "KiB";
  // The control: a limit of 32 MiB lets it hold 32 MiB, and the measure
  // sees that.
  Handler loose = wrap_decode_request(recorder(seen), {.max_decoded = 32u << 20});
  clear_peak();
  const long loose_before = peak_rss_kb();
  EXPECT_EQ(call(loose, {{"Content-Encoding", std::string(to_string(GetParam()))}}, bomb).status,
            413);
  EXPECT_GT(peak_rss_kb() - loose_before, 24 * 1024) << "KiB";
}

TEST_P(DecodeRequest, LimitIsTheDecodedSize) {
  const std::string text(100'000, 'a');
  const std::string coded = encoded(GetParam(), text);
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"Content-Encoding", std::string(to_string(GetParam()))}};
  Seen seen;
  EXPECT_EQ(
      call(wrap_decode_request(recorder(seen), {.max_decoded = text.size()}), fields, coded).status,
      200);
  EXPECT_EQ(
      call(wrap_decode_request(recorder(seen), {.max_decoded = text.size() - 1}), fields, coded)
          .status,
      413);
  EXPECT_EQ(seen.calls, 1);
}

TEST_P(DecodeRequest, EmptyBodyIsAnEmptyDecodedBody) {
  Seen seen;
  const Response r =
      call(wrap_decode_request(recorder(seen)),
           {{"Content-Encoding", std::string(to_string(GetParam()))}, {"Content-Length", "0"}}, "");
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.body, "");
  EXPECT_EQ(seen.content_encoding, "<none>");
  EXPECT_EQ(seen.content_length, "0");
}

INSTANTIATE_TEST_SUITE_P(Codings, DecodeRequest, testing::ValuesIn(kCodings), name);

TEST(DecodeRequest, UnknownOrStackedCodingIs415WithAcceptEncoding) {
  Seen seen;
  Handler h = wrap_decode_request(recorder(seen));
  const std::string gz = encoded(http::ContentCoding::gzip, "x");
  for (const auto& fields : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"Content-Encoding", "compress"}},
           {{"Content-Encoding", "gzip, gzip"}},
           {{"Content-Encoding", "gzip, br"}},
           {{"Content-Encoding", "gzip"}, {"Content-Encoding", "zstd"}}}) {
    const Response r = call(h, fields, gz);
    EXPECT_EQ(r.status, 415) << fields.back().second;
    EXPECT_EQ(response_header(r, "accept-encoding"), "gzip, deflate, br, zstd");
  }
  EXPECT_EQ(seen.calls, 0);
}

TEST(DecodeRequest, IdentityAndNoCodingPassThrough) {
  Seen seen;
  Handler h = wrap_decode_request(recorder(seen));
  EXPECT_EQ(call(h, {{"Content-Encoding", "identity"}, {"Content-Length", "5"}}, "plain").status,
            200);
  EXPECT_EQ(seen.body, "plain");
  EXPECT_EQ(seen.content_encoding, "identity");
  EXPECT_EQ(call(h, {{"X-Other", "1"}}, "raw").status, 200);
  EXPECT_EQ(seen.body, "raw");
  EXPECT_EQ(seen.calls, 2);
}

TEST(DecodeRequest, XGzipIsGzip) {
  Seen seen;
  const Response r = call(wrap_decode_request(recorder(seen)), {{"Content-Encoding", "x-gzip"}},
                          encoded(http::ContentCoding::gzip, "hello"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(seen.body, "hello");
}

TEST(DecodeRequest, DecodedRequestDetachesAndKeepsTheRest) {
  std::optional<Request> kept;
  Handler h = wrap_decode_request([&kept](const Request& req) {
    kept = req.detached();
    return Response::text("ok");
  });
  {
    FakeRequest fake("PUT", "/a/b?x=1", {{"Content-Encoding", "br"}, {"Host", "h"}});
    std::vector<HeaderView> views((*fake).headers().begin(), (*fake).headers().end());
    EXPECT_EQ(h((*fake).with_body(encoded(http::ContentCoding::br, "payload"), views)).status, 200);
  }  // the original's bytes are gone
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->body(), "payload");
  EXPECT_EQ(kept->method(), "PUT");
  EXPECT_EQ(kept->path(), "/a/b");
  EXPECT_EQ(kept->query_string(), "x=1");
  EXPECT_EQ(kept->header("host"), "h");
  EXPECT_EQ(kept->header("content-length"), "7");
  EXPECT_FALSE(kept->header("content-encoding"));
}

TEST(DecodeRequest, OnARealServerBufferedIsDecodedStreamedIsNot) {
  // /buffered is read whole and decoded; /streamed is the handler's, as
  // sent (the body plan streams it, receive_body takes it raw).
  const std::string coded = encoded(http::ContentCoding::gzip, "decoded by the middleware");
  Handler app = wrap_decode_request([](const Request& req) -> Response {
    if (!req.body_pending())
      return Response::text("buffered:" + std::string(req.body()) + ":" +
                            std::string(req.header("content-length").value_or("-")));
    auto raw = std::make_shared<std::string>();
    return receive_body(
        req, {.on_data = [raw](const RequestBodyPtr&, std::string_view b) { raw->append(b); },
              .on_end =
                  [raw](const RequestBodyPtr& body) {
                    body->respond(Response::text("streamed:" + *raw));
                  }});
  });
  ServerOptions o = test::test_options();
  o.body_plan = [](const Request& head) { return BodyPlan{.stream = head.path() == "/streamed"}; };
  test::TestServer server(app, o);
  for (std::string path : {"/buffered", "/streamed"}) {
    test::RawClient c(server.port());
    c.send("POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: " +
           std::to_string(coded.size()) + "\r\n\r\n" + coded);
    const test::RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body,
              path == "/buffered" ? "buffered:decoded by the middleware:25" : "streamed:" + coded);
  }
}

}  // namespace
}  // namespace httpkit
