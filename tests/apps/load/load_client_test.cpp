// The pure parts of httpkit-load: ranges, the address plan, latency
// buckets, the HTTP exchange's checks (down to each body byte) and the
// summary's error kinds.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <set>
#include <string>

#include "address_plan.hpp"
#include "common/benchmark_text.hpp"
#include "http_exchange.hpp"
#include "latency_histogram.hpp"
#include "options.hpp"
#include "reporter.hpp"

namespace httpkit::load {
namespace {

TEST(Range, ParsesIntegersDecimalsAndSingleValues) {
  auto r = parse_range("1-4096");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->min, 1u);
  EXPECT_EQ(r->max, 4096u);
  r = parse_range("0.5-3", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->min, 500u);
  EXPECT_EQ(r->max, 3000u);
  r = parse_range("7");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->min, 7u);
  EXPECT_EQ(r->max, 7u);
  EXPECT_FALSE(parse_range("5-1"));
  EXPECT_FALSE(parse_range("a-b"));
  EXPECT_FALSE(parse_range("-3"));
  EXPECT_FALSE(parse_range(""));
}

TEST(AddressPlan, StaysOutOfTheEphemeralRangeAndTheServerPort) {
  AddressPlan plan((127u << 24) | 1, 8000, 1, 32768, 60999);
  EXPECT_EQ(plan.ports_per_source(), (32767u - 1025 + 1) + (65535u - 61000 + 1) - 1);
  for (uint64_t i = 0; i < plan.ports_per_source() * 2; ++i) {
    const Tuple t = plan.at(i);
    EXPECT_TRUE(t.source.port < 32768 || t.source.port > 60999) << t.source.port;
    EXPECT_NE(t.source.port, 8000);
    EXPECT_GE(t.source.port, 1025);
  }
}

TEST(AddressPlan, TuplesAreDistinctAndSlicesDisjoint) {
  AddressPlan plan((127u << 24) | 1, 8000, 3, 32768, 60999);
  std::set<std::pair<uint32_t, uint16_t>> seen;
  const std::size_t per_worker = 30000;
  Slice previous{};
  for (int w = 0; w < 4; ++w) {
    const Slice s = plan.slice(w, per_worker);
    EXPECT_GE(s.end - s.begin, per_worker);
    EXPECT_EQ(s.begin, previous.end);
    previous = s;
  }
  for (uint64_t i = 0; i < previous.end; i += 7) {
    const Tuple t = plan.at(i);
    EXPECT_TRUE(seen.insert({t.source.address, t.source.port}).second) << i;
    char text[16];
    const std::string source = format_address(t.source.address, text);
    EXPECT_EQ(source.rfind("127.0.", 0), 0u) << source;
    EXPECT_NE(t.source.address & 255, 0u);
    EXPECT_NE(t.source.address & 255, 255u);
    EXPECT_GE(t.destination.address, (127u << 24) | 1);
    EXPECT_LE(t.destination.address, (127u << 24) | 3);
  }
  char first[16];
  EXPECT_EQ(std::string(format_address(plan.at(0).source.address, first)), "127.0.1.1");
}

TEST(AddressPlan, SourcesAddUpForAMillion) {
  AddressPlan plan((127u << 24) | 1, 8000, 1, 32768, 60999);
  const std::size_t sources = plan.sources_used(63, 15874);
  EXPECT_GE(sources * plan.ports_per_source(), 1'000'000u);
  EXPECT_LT(sources, 254u);  // all in 127.0.1.x
}

TEST(LatencyHistogram, BucketsAreMonotonicAndTight) {
  std::size_t previous = 0;
  for (uint32_t v = 0; v < 1'000'000; v += 1 + v / 50) {
    const std::size_t b = latency_bucket(v);
    ASSERT_LT(b, kLatencyBuckets);
    EXPECT_GE(b, previous);
    previous = b;
    EXPECT_LE(bucket_floor(b), v);
    if (b + 1 < kLatencyBuckets) {
      EXPECT_GT(bucket_floor(b + 1), v);
    }
  }
  EXPECT_LT(latency_bucket(UINT32_MAX), kLatencyBuckets);
}

TEST(LatencyHistogram, Percentiles) {
  LatencyCounts counts{};
  for (uint32_t v = 1; v <= 1000; ++v)
    counts[latency_bucket(v * 10)]++;  // 10 µs .. 10 ms
  EXPECT_NEAR(percentile_us(counts, 0.99), 9900, 9900 * 0.07);
  EXPECT_NEAR(percentile_us(counts, 0.50), 5000, 5000 * 0.07);
  EXPECT_EQ(percentile_us(LatencyCounts{}, 0.99), 0);
}

class HttpExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override { c_.http.length_param = 0; }

  std::string request() {
    char out[HttpExchange::kMaxRequest];
    return std::string(out, exchange_.start(c_, random_, out));
  }

  // As httpkit-server answers: `body` defaults to the first `length` bytes of the text.
  static std::string answer(uint32_t length, std::string_view status = "200 OK",
                            std::optional<std::string> body = std::nullopt) {
    return "HTTP/1.1 " + std::string(status) +
           "\r\nServer: httpkit\r\nContent-Length: " + std::to_string(length) +
           "\r\nContent-Type: text/plain\r\n\r\n" +
           body.value_or(std::string(benchmark::kText.substr(0, length)));
  }

  HttpExchange::Result feed(std::string_view bytes) {
    return exchange_.on_bytes(c_, bytes.data(), bytes.size());
  }

  HttpExchange exchange_{Range{1, 4096}};
  Random random_{42};
  LoadConnection c_;
};

TEST_F(HttpExchangeTest, SendsTheSeedsRequest) {
  const std::string r = request();
  EXPECT_EQ(r, "GET /?length=" + std::to_string(c_.http.length_param) +
                   " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_GE(c_.http.length_param, 1u);
  EXPECT_LE(c_.http.length_param, 4096u);
}

TEST_F(HttpExchangeTest, AcceptsTheWholeAnswerInOnePiece) {
  request();
  EXPECT_EQ(feed(answer(c_.http.length_param)).status, HttpExchange::Result::done);
  EXPECT_EQ(c_.http.partial_head, nullptr);
}

TEST_F(HttpExchangeTest, AcceptsTheAnswerSplitAnywhere) {
  request();
  const std::string whole = answer(c_.http.length_param);
  for (std::size_t cut = 1; cut < whole.size(); cut += 13) {
    LoadConnection fresh = c_;
    std::swap(fresh, c_);
    ASSERT_EQ(feed(std::string_view(whole).substr(0, cut)).status, HttpExchange::Result::more)
        << cut;
    EXPECT_EQ(feed(std::string_view(whole).substr(cut)).status, HttpExchange::Result::done) << cut;
    HttpExchange::release(c_);
    std::swap(fresh, c_);
  }
}

TEST_F(HttpExchangeTest, AcceptsTheAnswerByteByByte) {
  request();
  const std::string whole = answer(c_.http.length_param);
  for (std::size_t i = 0; i + 1 < whole.size(); ++i)
    ASSERT_EQ(feed(std::string_view(whole).substr(i, 1)).status, HttpExchange::Result::more) << i;
  EXPECT_EQ(feed(std::string_view(whole).substr(whole.size() - 1)).status,
            HttpExchange::Result::done);
}

// A wrong byte is found wherever it is, and wherever the reads cut the body.
TEST_F(HttpExchangeTest, RefusesABodyThatIsNotTheText) {
  c_.http.length_param = 300;  // the text's sentence is shorter: it repeats
  c_.http.head_done = false;
  const std::string right = answer(300);
  const std::size_t body_at = right.size() - 300;
  for (std::size_t wrong = body_at; wrong < right.size(); wrong += 7) {
    std::string bytes = right;
    bytes[wrong] ^= 0x20;
    for (std::size_t cut : {body_at - 5, body_at, wrong, wrong + 1, right.size() - 1}) {
      LoadConnection saved = c_;
      auto first = feed(std::string_view(bytes).substr(0, cut));
      auto verdict = first.status == HttpExchange::Result::failed
                         ? first
                         : feed(std::string_view(bytes).substr(cut));
      EXPECT_EQ(verdict.status, HttpExchange::Result::failed) << wrong << " cut " << cut;
      EXPECT_EQ(verdict.error, LoadFailure::wrong_body) << wrong << " cut " << cut;
      HttpExchange::release(c_);
      c_ = saved;
    }
  }
  // The right size of other bytes, or of the text from the wrong place.
  LoadConnection saved = c_;
  EXPECT_EQ(feed(answer(300, "200 OK", std::string(300, 'x'))).error, LoadFailure::wrong_body);
  c_ = saved;
  EXPECT_EQ(feed(answer(300, "200 OK", std::string(benchmark::kText.substr(1, 300)))).error,
            LoadFailure::wrong_body);
}

TEST_F(HttpExchangeTest, RefusesWrongAnswers) {
  request();
  const uint32_t n = c_.http.length_param;
  auto verdict = [&](const std::string& bytes) {
    LoadConnection saved = c_;
    auto r = feed(bytes);
    HttpExchange::release(c_);
    c_ = saved;
    return r;
  };
  EXPECT_EQ(verdict(answer(n, "500 Oops")).error, LoadFailure::bad_status);
  EXPECT_EQ(verdict(answer(n + 1)).status, HttpExchange::Result::failed);
  EXPECT_EQ(verdict(answer(n) + "x").status, HttpExchange::Result::failed);
  EXPECT_EQ(verdict("garbage\r\n\r\n").status, HttpExchange::Result::failed);
  EXPECT_EQ(verdict("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").status,
            HttpExchange::Result::failed);
}

TEST_F(HttpExchangeTest, TellsAShortResponseFromAnUnansweredRequest) {
  request();
  EXPECT_EQ(exchange_.error_on_close(c_), LoadFailure::unexpected_close);
  feed(answer(c_.http.length_param).substr(0, 10));
  EXPECT_EQ(exchange_.error_on_close(c_), LoadFailure::short_response);
  HttpExchange::release(c_);
}

TEST(ExpectedBody, IsTheServersClamp) {
  EXPECT_EQ(expected_body(0), 1u);
  EXPECT_EQ(expected_body(4096), 4096u);
  EXPECT_EQ(expected_body(20000), 10240u);
}

TEST(BenchmarkText, IsHttpKitsSentenceRepeated) {
  EXPECT_EQ(benchmark::kText.size(), 10240u);
  EXPECT_EQ(benchmark::kText.substr(0, benchmark::kSentence.size()), benchmark::kSentence);
  for (std::size_t i = 0; i < benchmark::kText.size(); ++i)
    ASSERT_EQ(benchmark::kText[i], benchmark::kSentence[i % benchmark::kSentence.size()]) << i;
}

// A wrong body is an error kind of its own, in the summary as in the totals.
TEST(Summary, CountsAWrongBodyByItself) {
  LoadOptions options;
  Snapshot last;
  last.errors[std::size_t(LoadFailure::wrong_body)] = 3;
  last.errors[std::size_t(LoadFailure::wrong_response)] = 1;
  FinalReport report;
  report.options = &options;
  report.last = &last;
  report.elapsed_s = 1;
  const std::string json = Reporter(options).summary_json(report);
  EXPECT_NE(json.find("\"errors\": 4,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"wrong_body\": 3"), std::string::npos) << json;
  EXPECT_NE(json.find("\"wrong_response\": 1"), std::string::npos) << json;
  EXPECT_EQ(to_string(LoadFailure::wrong_body), "wrong body");
}

}  // namespace
}  // namespace httpkit::load
