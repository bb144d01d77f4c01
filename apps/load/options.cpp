#include "options.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <CLI/CLI.hpp>

namespace httpkit::load {
namespace {

// Descriptors a worker keeps for itself (stdio, the event backend, eventfd, files) and
// slack, so that a full worker never runs into EMFILE.
constexpr std::size_t kReservedDescriptors = 4000;
constexpr std::size_t kMaxPerProcess = 16000;

std::optional<uint32_t> parse_scaled(std::string_view text, uint32_t scale) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  const double scaled = std::round(value * scale);
  if (scaled > 4e9) return std::nullopt;
  return static_cast<uint32_t>(scaled);
}

}  // namespace

std::optional<Range> parse_range(std::string_view text, uint32_t scale) {
  const std::size_t dash = text.find('-');
  auto low = parse_scaled(text.substr(0, dash), scale);
  auto high = dash == std::string_view::npos ? low : parse_scaled(text.substr(dash + 1), scale);
  if (!low || !high || *low > *high) return std::nullopt;
  return Range{*low, *high};
}

std::size_t auto_connections_per_process() {
  rlimit rl{};
  std::size_t limit = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    limit = rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : std::size_t(rl.rlim_cur);
  }
  const std::size_t usable =
      limit > 2 * kReservedDescriptors ? limit - kReservedDescriptors : limit / 2;
  return std::min(usable, kMaxPerProcess);
}

int resolve_processes(const LoadOptions& options) {
  if (options.processes > 0) return options.processes;
  const std::size_t per = auto_connections_per_process();
  return int(std::max<std::size_t>(1, (options.connections + per - 1) / per));
}

std::optional<LoadOptions> parse_options(int argc, char** argv, int& exit_code) {
  CLI::App app{"httpkit-load: the concurrency client of http-kit's 600k benchmark"};
  LoadOptions o;
  std::string processes = "auto", length = "1-4096", idle = "5-45";
  double connect_timeout_s = 10, response_timeout_s = 30;
  app.add_option("--connections", o.connections, "keep-alive connections to hold")
      ->capture_default_str();
  app.add_option("--host", o.host, "destination address (IPv4)")->capture_default_str();
  app.add_option("--port", o.port, "destination port")->capture_default_str();
  app.add_option("--dest-addresses", o.dest_addresses,
                 "spread connections over this many destinations from --host up")
      ->capture_default_str();
  app.add_option("--processes", processes, "worker processes: a number, or auto")
      ->capture_default_str();
  app.add_option("--rate", o.rate, "new connections per second (0: as fast as accepted)")
      ->capture_default_str();
  app.add_option("--max-connecting", o.max_connecting,
                 "per worker: connections between connect and their first response "
                 "(with --websocket: the 101)")
      ->capture_default_str();
  app.add_option("--duration", o.duration_s, "seconds until everything stops")
      ->capture_default_str();
  app.add_option("--steady", o.steady_s, "seconds to hold after the ramp (0: until --duration)")
      ->capture_default_str();
  app.add_option("--ramp-timeout", o.ramp_timeout_s,
                 "seconds after which no new connection is opened (0: no limit)")
      ->capture_default_str();
  app.add_option("--length", length,
                 "range of ?length= per request (with --websocket: bytes per message), A-B")
      ->capture_default_str();
  app.add_option("--idle", idle, "seconds between a response and the next request, A-B")
      ->capture_default_str();
  bool websocket = false;
  app.add_flag("--websocket", websocket,
               "WebSocket workload: upgrade each connection on --ws-path, then per --idle "
               "period send one masked text message of --length bytes and check its echo");
  app.add_flag("--deflate", o.deflate,
               "with --websocket: offer permessage-deflate (server_no_context_takeover, "
               "client_no_context_takeover), require the server to agree, inflate its echoes");
  app.add_option("--ws-path", o.ws_path, "with --websocket: the upgrade's request target")
      ->capture_default_str();
  app.add_option("--connect-timeout", connect_timeout_s, "seconds")->capture_default_str();
  app.add_option("--timeout", response_timeout_s, "seconds a response may take")
      ->capture_default_str();
  app.add_flag("--tls", o.tls,
               "https: a TLS handshake (TLS 1.2 or 1.3, ALPN http/1.1) after each connect, "
               "bounded by --connect-timeout again, then the workload over it");
  app.add_flag("--tls-insecure", o.tls_insecure,
               "with --tls: do not verify the server's certificate or name");
  app.add_option("--tls-ca", o.tls_ca,
                 "with --tls: PEM CA bundle to verify the server against (default: the system's)");
  app.add_option("--tls-server-name", o.tls_server_name,
                 "with --tls: the name sent as SNI and verified (default: --host)");
  app.add_flag("--tls12", o.tls12, "with --tls: offer TLS 1.2 only");
  app.add_option("--csv", o.csv_path, "write one row per second to this file");
  app.add_option("--summary", o.summary_path, "write the final summary as JSON to this file");
  app.add_flag("--allow-errors", o.allow_errors,
               "exit 0 even when errors occurred or the target was not reached");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }

  auto fail = [&](const char* message) {
    std::fprintf(stderr, "httpkit-load: %s\n", message);
    exit_code = 2;
    return std::nullopt;
  };
  if (processes == "auto") {
    o.processes = 0;
  } else {
    auto [end, ec] =
        std::from_chars(processes.data(), processes.data() + processes.size(), o.processes);
    if (ec != std::errc() || end != processes.data() + processes.size() || o.processes < 1) {
      return fail("--processes: a positive number or auto");
    }
  }
  auto length_range = parse_range(length);
  if (!length_range) return fail("--length: A-B with A <= B");
  o.length = *length_range;
  if (websocket) o.workload = Workload::websocket;
  if (o.workload != Workload::websocket && o.deflate) return fail("--deflate needs --websocket");
  if (o.workload == Workload::websocket && o.length.max > kMaxWsMessage) {
    return fail("--length: at most 65535 bytes per WebSocket message");
  }
  if (!o.tls && (o.tls_insecure || o.tls12 || !o.tls_ca.empty() || !o.tls_server_name.empty())) {
    return fail("--tls-insecure, --tls-ca, --tls-server-name and --tls12 need --tls");
  }
  if (o.tls_insecure && !o.tls_ca.empty()) return fail("--tls-insecure and --tls-ca: one or the other");
  if (o.ws_path.empty() || o.ws_path[0] != '/' ||
      o.ws_path.find_first_of(" \t\r\n") != std::string::npos) {
    return fail("--ws-path: an origin-form target, starting with /");
  }
  auto idle_range = parse_range(idle, 1000);
  if (!idle_range) return fail("--idle: A-B seconds with A <= B");
  o.idle_ms = *idle_range;
  if (o.idle_ms.max > 70000) return fail("--idle: at most 70 seconds");
  if (o.connections == 0) return fail("--connections must be positive");
  if (o.dest_addresses == 0) o.dest_addresses = 1;
  if (o.duration_s <= 0) return fail("--duration must be positive: the run always stops by itself");
  if (o.max_connecting == 0) o.max_connecting = 1;
  if (connect_timeout_s <= 0 || response_timeout_s <= 0 || connect_timeout_s > 60 ||
      response_timeout_s > 60) {
    return fail("--connect-timeout and --timeout: more than 0, at most 60 seconds");
  }
  o.connect_timeout_ms = uint32_t(connect_timeout_s * 1000);
  o.response_timeout_ms = uint32_t(response_timeout_s * 1000);
  return o;
}

}  // namespace httpkit::load
