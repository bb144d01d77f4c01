#include "latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace httpkit::load {

double percentile_us(const LatencyCounts& counts, double fraction) {
  uint64_t total = 0;
  for (uint64_t c : counts)
    total += c;
  if (total == 0) return 0;
  // The rank of the sample at `fraction`, counting from 1.
  const uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(fraction * double(total))));
  uint64_t seen = 0;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    seen += counts[b];
    if (seen >= rank) return bucket_middle(b);
  }
  return bucket_middle(counts.size() - 1);
}

}  // namespace httpkit::load
