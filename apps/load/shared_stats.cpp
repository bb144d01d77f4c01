#include "shared_stats.hpp"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <new>

namespace httpkit::load {

std::string_view to_string(LoadFailure kind) {
  switch (kind) {
    case LoadFailure::connect_failed:
      return "connect failed";
    case LoadFailure::connect_timeout:
      return "connect timeout";
    case LoadFailure::reset:
      return "reset";
    case LoadFailure::timeout:
      return "response timeout";
    case LoadFailure::short_response:
      return "short response";
    case LoadFailure::wrong_response:
      return "wrong response";
    case LoadFailure::wrong_body:
      return "wrong body";
    case LoadFailure::bad_status:
      return "bad status";
    case LoadFailure::unexpected_close:
      return "unexpected close";
    case LoadFailure::no_address:
      return "no address left";
    case LoadFailure::tls_failed:
      return "tls failed";
    case LoadFailure::tls_timeout:
      return "tls timeout";
    case LoadFailure::count:
      break;
  }
  return "?";
}

SharedStats::SharedStats(int workers) : workers_(workers) {
  const std::size_t control_size = (sizeof(ControlBlock) + 127) / 128 * 128;
  size_ = control_size + sizeof(WorkerSlot) * std::size_t(workers);
  memory_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory_ == MAP_FAILED) throw std::bad_alloc();
  // Fresh anonymous pages are zero: every counter already reads 0.
  control_ = new (memory_) ControlBlock;
  slots_ = reinterpret_cast<WorkerSlot*>(static_cast<char*>(memory_) + control_size);
  for (int i = 0; i < workers; ++i)
    new (&slots_[i]) WorkerSlot;
}

SharedStats::~SharedStats() {
  munmap(memory_, size_);
}

uint64_t Snapshot::total_errors() const {
  uint64_t n = 0;
  for (uint64_t e : errors)
    n += e;
  return n;
}

Snapshot take_snapshot(const SharedStats& stats) {
  Snapshot s;
  for (int w = 0; w < stats.workers(); ++w) {
    const WorkerSlot& slot = stats.slot(w);
    // Read `closed` before `established` so concurrency never goes negative.
    s.closed += slot.closed.get();
    s.established += slot.established.get();
    s.connects_started += slot.connects_started.get();
    s.requests_sent += slot.requests_sent.get();
    s.responses_ok += slot.responses_ok.get();
    s.bytes_received += slot.bytes_received.get();
    s.tuples_skipped += slot.tuples_skipped.get();
    s.not_opened += slot.not_opened.get();
    for (std::size_t k = 0; k < kLoadFailures; ++k)
      s.errors[k] += slot.errors[k].get();
    for (std::size_t b = 0; b < kLatencyBuckets; ++b)
      s.latency[b] += slot.latency[b].get();
    if (uint64_t t = slot.ramp_done_ms.get()) {
      ++s.ramp_done_workers;
      s.last_ramp_done_ms = std::max(s.last_ramp_done_ms, t);
    }
    if (uint64_t t = slot.target_reached_ms.get()) {
      ++s.target_reached_workers;
      s.last_target_reached_ms = std::max(s.last_target_reached_ms, t);
    }
  }
  return s;
}

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

}  // namespace httpkit::load
