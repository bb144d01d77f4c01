// Parser micro-benchmarks: the requests load generators send, a browser's
// request, and chunked bodies. Run: build/bin/parser_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "http/chunked_decoder.hpp"
#include "http/request_parser.hpp"

namespace {

using namespace httpkit::http;

constexpr std::string_view kWrkGet = "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";

constexpr std::string_view kAbGet =
    "GET /index.html HTTP/1.0\r\n"
    "Host: localhost:8080\r\n"
    "User-Agent: ApacheBench/2.3\r\n"
    "Accept: */*\r\n"
    "\r\n";

constexpr std::string_view kBrowserGet =
    "GET /static/js/app.4f3c2a.js?v=1712345678 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Referer: https://www.example.com/dashboard\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; "
    "_ga=GA1.2.1234567890.1712345678\r\n"
    "\r\n";

void parse_head(benchmark::State& state, std::string_view request) {
  std::array<HeaderField, 64> fields;
  RequestHead head;
  const ParseLimits limits;
  for (auto _ : state) {
    benchmark::DoNotOptimize(request.data());
    const ParseResult r = parse_request_head(request, limits, fields.data(), fields.size(), head);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(head);
  }
  if (parse_request_head(request, limits, fields.data(), fields.size(), head).status !=
      ParseStatus::complete) {
    state.SkipWithError("request did not parse");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * request.size()));
}

void BM_ParseWrkGet(benchmark::State& state) {
  parse_head(state, kWrkGet);
}
void BM_ParseAbGet(benchmark::State& state) {
  parse_head(state, kAbGet);
}
void BM_ParseBrowserGet(benchmark::State& state) {
  parse_head(state, kBrowserGet);
}

void BM_FindHeadEndBrowserGet(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(kBrowserGet.data());
    benchmark::DoNotOptimize(find_head_end(kBrowserGet));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBrowserGet.size()));
}

// A body of `total` bytes in chunks of `chunk` bytes, with the last-chunk.
std::string chunked_body(std::size_t total, std::size_t chunk) {
  std::string wire;
  char size_line[32];
  for (std::size_t sent = 0; sent < total; sent += chunk) {
    const std::size_t n = std::min(chunk, total - sent);
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    wire += size_line;
    wire.append(n, 'x');
    wire += "\r\n";
  }
  return wire + "0\r\n\r\n";
}

// Decoding is in place, so every iteration starts from a fresh copy; the
// copy is part of the time (BM_CopyOnly shows its share).
void BM_DecodeChunked(benchmark::State& state) {
  const std::string wire = chunked_body(static_cast<std::size_t>(state.range(0)),
                                        static_cast<std::size_t>(state.range(1)));
  std::string buffer = wire;
  for (auto _ : state) {
    std::memcpy(buffer.data(), wire.data(), wire.size());
    ChunkedDecoder decoder;
    const ChunkedDecoder::Step step = decoder.decode(buffer.data(), buffer.size(), ChunkedLimits{});
    benchmark::DoNotOptimize(step);
    if (step.status != ChunkedStatus::done) state.SkipWithError("body did not decode");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}

void BM_CopyOnly(benchmark::State& state) {
  const std::string wire = chunked_body(static_cast<std::size_t>(state.range(0)),
                                        static_cast<std::size_t>(state.range(1)));
  std::string buffer = wire;
  for (auto _ : state) {
    std::memcpy(buffer.data(), wire.data(), wire.size());
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}

BENCHMARK(BM_ParseWrkGet);
BENCHMARK(BM_ParseAbGet);
BENCHMARK(BM_ParseBrowserGet);
BENCHMARK(BM_FindHeadEndBrowserGet);
// 64 KiB in 16 KiB, 1 KiB and 64-byte chunks.
BENCHMARK(BM_DecodeChunked)->Args({65536, 16384})->Args({65536, 1024})->Args({65536, 64});
BENCHMARK(BM_CopyOnly)->Args({65536, 1024});

}  // namespace

BENCHMARK_MAIN();
