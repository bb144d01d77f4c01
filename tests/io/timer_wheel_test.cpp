#include "io/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace httpkit::io {
namespace {

struct Probe : TimerNode {
  int fired = 0;
  uint64_t fired_at = 0;
  static uint64_t clock;
  Probe() {
    fire = [](TimerNode* n) {
      auto* p = static_cast<Probe*>(n);
      ++p->fired;
      p->fired_at = clock;
    };
  }
};
uint64_t Probe::clock = 0;

TEST(TimerWheel, FiresNoEarlierThanDueAndOnlyOnce) {
  TimerWheel wheel(0, 10, 64);
  Probe p;
  wheel.arm(p, 0, 95);
  for (Probe::clock = 0; Probe::clock < 95; Probe::clock += 5) {
    wheel.advance(Probe::clock);
    ASSERT_EQ(p.fired, 0) << "fired early at " << Probe::clock;
  }
  Probe::clock = 100;
  wheel.advance(100);
  EXPECT_EQ(p.fired, 1);
  wheel.advance(1000);
  EXPECT_EQ(p.fired, 1);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_FALSE(p.armed());
}

TEST(TimerWheel, DelaysLongerThanOneRevolution) {
  TimerWheel wheel(0, 10, 64);  // one revolution = 640 ms
  Probe p;
  wheel.arm(p, 0, 5000);
  for (uint64_t t = 10; t < 5000; t += 10) {
    wheel.advance(t);
    ASSERT_EQ(p.fired, 0) << t;
  }
  wheel.advance(5000);
  EXPECT_EQ(p.fired, 1);
}

TEST(TimerWheel, CancelAndRearm) {
  TimerWheel wheel(0, 10, 64);
  Probe a, b;
  wheel.arm(a, 0, 50);
  wheel.arm(b, 0, 50);
  wheel.cancel(a);
  wheel.cancel(a);  // idempotent
  EXPECT_EQ(wheel.size(), 1u);
  wheel.arm(b, 0, 200);  // re-arming moves, does not duplicate
  EXPECT_EQ(wheel.size(), 1u);
  wheel.advance(100);
  EXPECT_EQ(a.fired + b.fired, 0);
  wheel.advance(200);
  EXPECT_EQ(b.fired, 1);
  EXPECT_EQ(a.fired, 0);
}

TEST(TimerWheel, CallbackMayCancelAnotherTimerInTheSameSlot) {
  TimerWheel wheel(0, 10, 64);
  struct Canceller : TimerNode {
    TimerWheel* wheel;
    TimerNode* victim;
  } killer;
  Probe victim;
  killer.wheel = &wheel;
  killer.victim = &victim;
  killer.fire = [](TimerNode* n) {
    auto* k = static_cast<Canceller*>(n);
    k->wheel->cancel(*k->victim);
  };
  wheel.arm(victim, 0, 30);
  wheel.arm(killer, 0, 30);  // linked in front: fires first
  wheel.advance(30);
  EXPECT_EQ(victim.fired, 0);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CallbackMayRearmItself) {
  TimerWheel wheel(0, 10, 64);
  struct Repeater : TimerNode {
    TimerWheel* wheel;
    int count = 0;
    uint64_t now = 0;
  } r;
  r.wheel = &wheel;
  r.fire = [](TimerNode* n) {
    auto* self = static_cast<Repeater*>(n);
    if (++self->count < 3) self->wheel->arm(*self, self->now, 100);
  };
  wheel.arm(r, 0, 100);
  for (r.now = 0; r.now <= 1000; r.now += 10) wheel.advance(r.now);
  EXPECT_EQ(r.count, 3);
}

TEST(TimerWheel, NextDeadlineLetsTheLoopSleep) {
  TimerWheel wheel(0, 10, 1024);
  EXPECT_EQ(wheel.ms_until_next(0), -1);
  Probe p;
  wheel.arm(p, 0, 3000);
  int64_t wait = wheel.ms_until_next(0);
  EXPECT_GE(wait, 3000);
  EXPECT_LE(wait, 3010);
}

TEST(TimerWheel, ManyRandomTimersFireInOrderOfDeadline) {
  TimerWheel wheel(0, 10, 256);
  std::mt19937 rng(42);
  std::vector<Probe> probes(2000);
  std::vector<uint64_t> due(probes.size());
  for (std::size_t i = 0; i < probes.size(); ++i) {
    due[i] = rng() % 20000;
    wheel.arm(probes[i], 0, due[i]);
  }
  for (Probe::clock = 0; Probe::clock <= 21000; Probe::clock += 7) wheel.advance(Probe::clock);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    ASSERT_EQ(probes[i].fired, 1) << i;
    EXPECT_GE(probes[i].fired_at, due[i]);
    EXPECT_LT(probes[i].fired_at, due[i] + 10 + 7);
  }
}

TEST(TimerWheel, AStallLongerThanARevolutionStillFiresEverything) {
  TimerWheel wheel(0, 10, 64);
  std::vector<Probe> probes(100);
  for (std::size_t i = 0; i < probes.size(); ++i) wheel.arm(probes[i], 0, 10 * i);
  wheel.advance(1'000'000);
  for (auto& p : probes) EXPECT_EQ(p.fired, 1);
}

}  // namespace
}  // namespace httpkit::io
