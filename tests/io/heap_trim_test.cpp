#include "io/heap_trim.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace httpkit::io {
namespace {

// Runs the loop until `done` or about two seconds have passed.
template <class Done>
void run_until(EventLoop& loop, Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done() && std::chrono::steady_clock::now() < until) loop.run_once(10);
}

TEST(HeapTrim, TrimsOnceAfterAQuietPeriod) {
  EventLoop loop;
  HeapTrim trim(loop, 30);
  loop.run_once(0);
  EXPECT_EQ(trim.trims(), 0u);  // nothing happened, nothing to trim
  trim.note_activity();
  run_until(loop, [&] { return trim.trims() > 0; });
  EXPECT_EQ(trim.trims(), 1u);
  run_until(loop, [] { return false; });
  EXPECT_EQ(trim.trims(), 1u);  // no new activity, no new trim
}

TEST(HeapTrim, ActivityPostponesTheTrim) {
  EventLoop loop;
  HeapTrim trim(loop, 100);
  const auto start = std::chrono::steady_clock::now();
  // Activity every ~20 ms for ~300 ms keeps it from trimming mid-burst.
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300)) {
    trim.note_activity();
    loop.run_once(20);
  }
  EXPECT_EQ(trim.trims(), 0u);
  run_until(loop, [&] { return trim.trims() > 0; });
  EXPECT_EQ(trim.trims(), 1u);
}

}  // namespace
}  // namespace httpkit::io
