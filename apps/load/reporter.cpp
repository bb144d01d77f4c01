#include "reporter.hpp"

#include <cinttypes>

namespace httpkit::load {
namespace {

LatencyCounts difference(const LatencyCounts& now, const LatencyCounts& before) {
  LatencyCounts d{};
  for (std::size_t b = 0; b < d.size(); ++b)
    d[b] = now[b] - before[b];
  return d;
}

std::string json_field(const char* key, const std::string& value) {
  return "\"" + std::string(key) + "\": " + value;
}

}  // namespace

Reporter::Reporter(const LoadOptions& options) : options_(options) {}

Reporter::~Reporter() {
  if (csv_) std::fclose(csv_);
}

bool Reporter::open_csv() {
  if (options_.csv_path.empty()) return true;
  csv_ = std::fopen(options_.csv_path.c_str(), "w");
  if (!csv_) {
    std::perror(options_.csv_path.c_str());
    return false;
  }
  std::fprintf(csv_,
               "time_s,concurrency,total_requests,throughput_mib_s,requests_per_s_avg,errors,"
               "p99_ms,requests_this_second,responses_this_second,connects_this_second,"
               "errors_this_second,mib_this_second,p50_ms,p999_ms,connecting,workers\n");
  std::fflush(csv_);
  return true;
}

void Reporter::second(const SecondReport& r) {
  const Snapshot& now = *r.now;
  const Snapshot& before = *r.before;
  const double elapsed = r.elapsed_s > 0 ? r.elapsed_s : 1;
  const double throughput = double(now.bytes_received) / elapsed / (1 << 20);
  const double request_rate = double(now.requests_sent) / elapsed;
  const LatencyCounts last_second = difference(now.latency, before.latency);
  const double p99 = percentile_us(last_second, 0.99) / 1000;
  const bool any_response = now.responses_ok > before.responses_ok;

  char p99_text[32] = "-";
  if (any_response) std::snprintf(p99_text, sizeof p99_text, "%.1fms", p99);
  std::printf("time %" PRIu64 "s, concurrency: %" PRIu64 ", total requests: %" PRIu64
              ", throughput: %.2fM/s, %.2f requests/seconds, errors: %" PRIu64 ", p99: %s\n",
              r.second, now.concurrency(), now.requests_sent, throughput, request_rate,
              now.total_errors(), p99_text);
  std::fflush(stdout);

  if (!csv_) return;
  const uint64_t connecting = now.connects_started - now.established -
                              (now.errors[std::size_t(LoadFailure::connect_failed)] +
                               now.errors[std::size_t(LoadFailure::connect_timeout)]);
  std::fprintf(csv_,
               "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%.2f,%" PRIu64 ",%.3f,%" PRIu64 ",%" PRIu64
               ",%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%.3f,%" PRId64 ",%d\n",
               r.second, now.concurrency(), now.requests_sent, throughput, request_rate,
               now.total_errors(), any_response ? p99 : 0.0,
               now.requests_sent - before.requests_sent, now.responses_ok - before.responses_ok,
               now.established - before.established, now.total_errors() - before.total_errors(),
               double(now.bytes_received - before.bytes_received) / (1 << 20),
               percentile_us(last_second, 0.50) / 1000, percentile_us(last_second, 0.999) / 1000,
               int64_t(connecting), r.workers_alive);
  std::fflush(csv_);
}

std::string Reporter::summary_json(const FinalReport& r) const {
  const Snapshot& s = *r.last;
  char number[64];
  auto num = [&](const char* key, double v, const char* format = "%.3f") {
    std::snprintf(number, sizeof number, format, v);
    return json_field(key, number);
  };
  auto count = [&](const char* key, uint64_t v) {
    std::snprintf(number, sizeof number, "%" PRIu64, v);
    return json_field(key, number);
  };
  std::string errors = "{";
  for (std::size_t k = 0; k < kLoadFailures; ++k) {
    std::string name(to_string(LoadFailure(k)));
    for (char& ch : name)
      ch = ch == ' ' ? '_' : ch;
    if (k) errors += ", ";
    errors += count(name.c_str(), s.errors[k]);
  }
  errors += "}";
  std::string out = "{";
  out += count("connections", r.options->connections) + ", ";
  out += count("processes", uint64_t(r.processes)) + ", ";
  out += count("source_addresses", r.sources) + ", ";
  out += count("peak_concurrency", r.peak_concurrency) + ", ";
  out += (r.time_to_target_s >= 0 ? num("time_to_target_s", r.time_to_target_s)
                                  : json_field("time_to_target_s", "null")) +
         ", ";
  out +=
      (r.ramp_done_s >= 0 ? num("ramp_done_s", r.ramp_done_s) : json_field("ramp_done_s", "null")) +
      ", ";
  out += num("elapsed_s", r.elapsed_s) + ", ";
  out += count("total_requests", s.requests_sent) + ", ";
  out += count("total_responses", s.responses_ok) + ", ";
  out += count("bytes_received", s.bytes_received) + ", ";
  out += num("throughput_mib_s", double(s.bytes_received) / r.elapsed_s / (1 << 20)) + ", ";
  out += num("requests_per_s", double(s.requests_sent) / r.elapsed_s, "%.2f") + ", ";
  out += num("p99_ms", percentile_us(s.latency, 0.99) / 1000) + ", ";
  out += num("p999_ms", percentile_us(s.latency, 0.999) / 1000) + ", ";
  out += count("errors", s.total_errors()) + ", ";
  out += json_field("errors_by_kind", errors) + ", ";
  out += count("min_requests_per_connection", r.min_requests) + ", ";
  out += count("connections_below_2_requests", r.below_two_requests) + ", ";
  out += count("tuples_skipped", s.tuples_skipped) + ", ";
  out += count("not_opened", s.not_opened) + ", ";
  out += count("workers_failed", uint64_t(r.workers_failed)) + ", ";
  out += json_field("interrupted", r.interrupted ? "true" : "false");
  out += "}";
  return out;
}

void Reporter::final(const FinalReport& r) {
  const Snapshot& s = *r.last;
  std::printf("\n== httpkit-load summary\n");
  std::printf("  target connections      %zu (%d processes, %zu source addresses)\n",
              r.options->connections, r.processes, r.sources);
  std::printf("  peak concurrency        %" PRIu64 "\n", r.peak_concurrency);
  if (r.time_to_target_s >= 0) {
    std::printf("  time to target          %.1f s\n", r.time_to_target_s);
  } else {
    std::printf("  time to target          not reached\n");
  }
  std::printf("  run time                %.1f s%s\n", r.elapsed_s,
              r.interrupted ? " (interrupted)" : "");
  std::printf("  total requests          %" PRIu64 " (%" PRIu64 " complete responses)\n",
              s.requests_sent, s.responses_ok);
  std::printf("  throughput              %.2f MiB/s, %.2f requests/s (averages)\n",
              double(s.bytes_received) / r.elapsed_s / (1 << 20),
              double(s.requests_sent) / r.elapsed_s);
  std::printf("  latency p99 / p99.9     %.2f ms / %.2f ms (whole run)\n",
              percentile_us(s.latency, 0.99) / 1000, percentile_us(s.latency, 0.999) / 1000);
  std::printf("  errors                  %" PRIu64 "\n", s.total_errors());
  for (std::size_t k = 0; k < kLoadFailures; ++k) {
    const std::string_view name = to_string(LoadFailure(k));
    std::printf("    %-21.*s %" PRIu64 "\n", int(name.size()), name.data(), s.errors[k]);
  }
  std::printf("  requests per connection min %" PRIu64 ", %" PRIu64 " connections below 2\n",
              r.min_requests, r.below_two_requests);
  if (s.not_opened) {
    std::printf("  not opened (ramp timeout) %" PRIu64 "\n", s.not_opened);
  }
  if (s.tuples_skipped) {
    std::printf("  busy tuples skipped     %" PRIu64 "\n", s.tuples_skipped);
  }
  if (r.workers_failed) std::printf("  workers failed          %d\n", r.workers_failed);
  const std::string json = summary_json(r);
  std::printf("summary-json %s\n", json.c_str());
  std::fflush(stdout);
  if (!options_.summary_path.empty()) {
    if (std::FILE* f = std::fopen(options_.summary_path.c_str(), "w")) {
      std::fprintf(f, "%s\n", json.c_str());
      std::fclose(f);
    } else {
      std::perror(options_.summary_path.c_str());
    }
  }
}

}  // namespace httpkit::load
