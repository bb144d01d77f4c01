// What httpkit-load prints: the seed's per-second line (plus errors and
// p99), one CSV row per second, and the final summary as text and JSON.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "options.hpp"
#include "shared_stats.hpp"

namespace httpkit::load {

// One second of the run, derived from two snapshots.
struct SecondReport {
  uint64_t second = 0;  // whole seconds since the start
  double elapsed_s = 0;
  const Snapshot* now = nullptr;
  const Snapshot* before = nullptr;  // one second earlier
  int workers_alive = 0;
};

struct FinalReport {
  const LoadOptions* options = nullptr;
  int processes = 0;
  std::size_t sources = 0;
  const Snapshot* last = nullptr;
  double elapsed_s = 0;
  uint64_t peak_concurrency = 0;
  double time_to_target_s = -1;  // < 0: never reached
  double ramp_done_s = -1;
  uint64_t min_requests = 0;
  uint64_t below_two_requests = 0;
  int workers_failed = 0;  // died, or did not report their final figures
  bool interrupted = false;
};

class Reporter {
 public:
  explicit Reporter(const LoadOptions& options);
  ~Reporter();

  bool open_csv();  // false (and a message) if --csv cannot be written
  void second(const SecondReport& r);
  void final(const FinalReport& r);
  std::string summary_json(const FinalReport& r) const;

 private:
  const LoadOptions& options_;
  std::FILE* csv_ = nullptr;
};

}  // namespace httpkit::load
