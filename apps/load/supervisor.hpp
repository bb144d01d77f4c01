// The parent process of httpkit-load: forks the workers, samples their
// shared counters once a second for the report, decides when the run ends
// (--duration, --steady after the ramp, SIGINT/SIGTERM, a worker that dies),
// then has every worker close its connections and waits for all of them.
#pragma once

#include "options.hpp"

namespace httpkit::load {

// Runs the whole load test; returns the process exit status.
int run_load(const LoadOptions& options);

}  // namespace httpkit::load
