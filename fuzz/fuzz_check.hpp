// The check every fuzz target uses for its invariants. It names the broken
// condition before it traps, so that a crash found by the fuzzer or by the
// corpus replay (built with gcc, where there is no libFuzzer report) says
// what went wrong and where.
#pragma once

#include <cstdio>

#define FUZZ_CHECK(condition)                                                                \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      __builtin_trap();                                                                      \
    }                                                                                        \
  } while (0)
