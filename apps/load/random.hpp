// The load client's pseudo-random numbers: lengths, idle times, nonces.
#pragma once

#include <cstdint>

#include "options.hpp"

namespace httpkit::load {

// xorshift64*: fast, and good enough to pick lengths and idle times.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dull;
  }
  uint32_t in(Range r) { return r.min + uint32_t(next() % (uint64_t(r.max - r.min) + 1)); }

 private:
  uint64_t state_;
};

}  // namespace httpkit::load
