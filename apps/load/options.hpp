// What httpkit-load is asked to do: the command line, parsed and checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpkit::load {

// An inclusive range of integers, written "A-B" (or "A" for A-A).
struct Range {
  uint32_t min = 0;
  uint32_t max = 0;
};

// Parses "A-B" / "A"; `scale` multiplies each bound (e.g. 1000 for seconds
// given in ms) and a bound may then be a decimal ("0.5-2"). nullopt if bad.
std::optional<Range> parse_range(std::string_view text, uint32_t scale = 1);

// What each connection does once connected, each by its own exchange:
//   http       GET /?length=L, the seed's benchmark (http_exchange.hpp)
//   websocket  an upgrade on --ws-path, then one text message of L bytes
//              per idle period, whose echo is checked (ws_exchange.hpp)
enum class Workload : uint8_t { http, websocket };

// The largest --length of a WebSocket message: a connection counts the one
// in flight in 16 bits (WsProgress in connection.hpp).
inline constexpr uint32_t kMaxWsMessage = 0xFFFF;

struct LoadOptions {
  std::size_t connections = 600000;
  std::string host = "127.0.0.1";  // the first destination address
  uint16_t port = 8000;
  unsigned dest_addresses = 1;    // spread destinations over host, host+1, ...
  int processes = 0;              // 0: auto, from the descriptor limit
  double rate = 0;                // new connections per second overall; 0: as fast as possible
  unsigned max_connecting = 128;  // per worker: connections not yet past their first response
  double duration_s = 600;        // hard bound on the whole run
  double steady_s = 0;            // stop this long after the ramp completes; 0: only --duration
  double ramp_timeout_s = 0;      // open no new connection after this; 0: no limit
  Range length{1, 4096};          // the ?length= of each request, or each message's size
  Range idle_ms{5000, 45000};     // think time between a response and the next request
  uint32_t connect_timeout_ms = 10000;
  uint32_t response_timeout_ms = 30000;
  Workload workload = Workload::http;
  bool deflate = false;         // websocket: offer (and require) permessage-deflate
  std::string ws_path = "/ws";  // websocket: the upgrade's request target
  // https: a TLS handshake after each connect (within --connect-timeout
  // again), then the same workload over it. Off: no TLS state anywhere.
  bool tls = false;
  bool tls_insecure = false;    // no certificate or name check
  bool tls12 = false;           // offer TLS 1.2 only (the server keeps its SSL object)
  std::string tls_ca;           // PEM CA bundle to verify against (default: the system's)
  std::string tls_server_name;  // SNI and the name verified; empty: --host
  std::string csv_path;
  std::string summary_path;
  bool allow_errors = false;
};

// Parses argv; on --help or an error prints and returns the exit code.
std::optional<LoadOptions> parse_options(int argc, char** argv, int& exit_code);

// Connections one worker process holds at most under `--processes auto`:
// the descriptor limit leaves room for ~16k sockets plus the process's own.
std::size_t auto_connections_per_process();

int resolve_processes(const LoadOptions& options);

}  // namespace httpkit::load
