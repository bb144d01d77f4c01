// The counters workers publish and the parent reads: one MAP_SHARED region
// created before fork, a control block the parent writes, and one slot per
// worker that only that worker writes.
//
// Every counter is cumulative and has a single writer, so a worker bumps it
// with a plain load + store (no locked instruction) and the parent turns two
// snapshots into per-second figures by subtraction.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "latency_histogram.hpp"

namespace httpkit::load {

enum class LoadFailure : uint8_t {
  connect_failed,    // refused, unreachable, no socket
  connect_timeout,   // no handshake within --connect-timeout
  reset,             // ECONNRESET / EPIPE on an established connection
  timeout,           // no complete response within --timeout
  short_response,    // the server closed in the middle of a response
  wrong_response,    // unparsable, wrong framing or Content-Length, stray bytes
  wrong_body,        // the body's bytes are not the server's text (HTTP workload)
  bad_status,        // a status other than 200
  unexpected_close,  // the server closed an idle connection, or before answering
  no_address,        // the worker's slice of (source, port) tuples ran out
  tls_failed,        // --tls: the handshake failed (refused, bad certificate, closed)
  tls_timeout,       // --tls: no finished handshake within --connect-timeout of the connect
  count,
};

inline constexpr std::size_t kLoadFailures = std::size_t(LoadFailure::count);
std::string_view to_string(LoadFailure kind);

class Counter {
 public:
  // Single writer: the owning worker. Readers see a value that only grows.
  // Release/acquire cost nothing extra on x86 and keep the order in which a
  // worker bumps two counters (established before closed) visible as such.
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  void set(uint64_t v) { value_.store(v, std::memory_order_release); }
  uint64_t get() const { return value_.load(std::memory_order_acquire); }

 private:
  std::atomic<uint64_t> value_{0};
};

struct alignas(128) WorkerSlot {
  Counter connects_started;
  Counter established;  // cumulative; concurrency = established - closed
  Counter closed;       // established connections closed, for any reason
  Counter requests_sent;
  Counter responses_ok;
  Counter bytes_received;
  Counter tuples_skipped;     // busy (source, port) tuples passed over
  Counter not_opened;         // connections given up when --ramp-timeout passed
  Counter ramp_done_ms;       // when every connect of this worker had its answer; 0: not yet
  Counter target_reached_ms;  // when all of this worker's connections were up at once
  std::array<Counter, kLoadFailures> errors;
  std::array<Counter, kLatencyBuckets> latency;  // request sent -> response complete
  // Written once, when the worker has closed everything.
  Counter finished;
  Counter min_requests;        // least completed requests of an established connection
  Counter below_two_requests;  // established connections that completed fewer than 2
};

struct ControlBlock {
  std::atomic<uint64_t> start_ns{0};  // CLOCK_MONOTONIC of the run's start
  std::atomic<uint32_t> stop{0};      // set by the parent: close everything and exit
};

// The region itself; lives across fork().
class SharedStats {
 public:
  explicit SharedStats(int workers);
  ~SharedStats();
  SharedStats(const SharedStats&) = delete;
  SharedStats& operator=(const SharedStats&) = delete;

  ControlBlock& control() { return *control_; }
  WorkerSlot& slot(int worker) { return slots_[worker]; }
  const WorkerSlot& slot(int worker) const { return slots_[worker]; }
  int workers() const { return workers_; }

 private:
  void* memory_ = nullptr;
  std::size_t size_ = 0;
  ControlBlock* control_ = nullptr;
  WorkerSlot* slots_ = nullptr;
  int workers_ = 0;
};

// Everything the workers counted, summed, at one moment.
struct Snapshot {
  uint64_t connects_started = 0;
  uint64_t established = 0;
  uint64_t closed = 0;
  uint64_t requests_sent = 0;
  uint64_t responses_ok = 0;
  uint64_t bytes_received = 0;
  uint64_t tuples_skipped = 0;
  uint64_t not_opened = 0;
  std::array<uint64_t, kLoadFailures> errors{};
  LatencyCounts latency{};
  int ramp_done_workers = 0;
  int target_reached_workers = 0;
  uint64_t last_ramp_done_ms = 0;
  uint64_t last_target_reached_ms = 0;

  uint64_t concurrency() const { return established - closed; }
  uint64_t total_errors() const;
};

Snapshot take_snapshot(const SharedStats& stats);

uint64_t monotonic_ns();

}  // namespace httpkit::load
