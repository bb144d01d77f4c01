// Latency buckets with ~6% resolution from 1 µs to over an hour, cheap
// enough to bump on every response: values below 16 µs get a bucket each,
// then every power of two is split into 16 equal sub-buckets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace httpkit::load {

inline constexpr std::size_t kSubBuckets = 16;
inline constexpr std::size_t kLatencyBuckets = 16 + (32 - 4) * kSubBuckets;

inline std::size_t latency_bucket(uint32_t micros) {
  if (micros < 16) return micros;
  const unsigned exponent = 31u - unsigned(__builtin_clz(micros));  // >= 4
  const unsigned sub = (micros >> (exponent - 4)) & (kSubBuckets - 1);
  return 16 + (exponent - 4) * kSubBuckets + sub;
}

// The smallest value that falls into `bucket`.
inline uint64_t bucket_floor(std::size_t bucket) {
  if (bucket < 16) return bucket;
  const std::size_t exponent = 4 + (bucket - 16) / kSubBuckets;
  const std::size_t sub = (bucket - 16) % kSubBuckets;
  return (uint64_t{1} << exponent) + (uint64_t(sub) << (exponent - 4));
}

// The middle of `bucket`, the value a percentile falling into it reports.
inline double bucket_middle(std::size_t bucket) {
  if (bucket + 1 >= kLatencyBuckets) return double(bucket_floor(bucket));
  return (double(bucket_floor(bucket)) + double(bucket_floor(bucket + 1))) / 2;
}

using LatencyCounts = std::array<uint64_t, kLatencyBuckets>;

// The `fraction` (0..1) percentile of `counts` in µs; 0 when empty.
double percentile_us(const LatencyCounts& counts, double fraction);

}  // namespace httpkit::load
