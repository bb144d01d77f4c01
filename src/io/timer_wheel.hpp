// A hashed timing wheel: O(1) arm and cancel, no allocation per timer.
//
// Timers are intrusive nodes the owner embeds (a connection holds one). A
// node lives in slot `due_tick % slots`; a slot holds nodes of several
// revolutions, and advancing re-files the ones that are not due yet. An
// occupancy bitmap lets the loop sleep until the next non-empty slot
// instead of waking every tick.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace httpkit::io {

struct TimerNode {
  using Fire = void (*)(TimerNode*);

  TimerNode* next = nullptr;
  TimerNode** pprev = nullptr;  // the link that points at this node; null when idle
  uint64_t due_tick = 0;
  Fire fire = nullptr;

  bool armed() const { return pprev != nullptr; }
};

class TimerWheel {
 public:
  // `slots` must be a power of two.
  explicit TimerWheel(uint64_t now_ms, uint32_t tick_ms = 10, std::size_t slots = 8192);

  // Arms (or re-arms) `node` to fire `delay_ms` from `now_ms`. `node.fire`
  // must be set. A zero delay fires on the next advance.
  void arm(TimerNode& node, uint64_t now_ms, uint64_t delay_ms);
  void cancel(TimerNode& node);

  // Fires every timer due at or before `now_ms`. A fired node is disarmed
  // before its callback runs, so the callback may re-arm it.
  void advance(uint64_t now_ms);

  // Milliseconds until the next slot that holds a timer, or -1 if none.
  int64_t ms_until_next(uint64_t now_ms) const;

  std::size_t size() const { return count_; }
  uint32_t tick_ms() const { return tick_ms_; }

 private:
  void link(TimerNode& node);
  void unlink(TimerNode& node);
  std::size_t slot_of(uint64_t tick) const { return tick & mask_; }

  uint32_t tick_ms_;
  std::size_t mask_;
  uint64_t current_tick_;  // every tick <= this has been processed
  std::size_t count_ = 0;
  std::vector<TimerNode*> slots_;
  std::vector<uint64_t> occupied_;  // one bit per slot
};

}  // namespace httpkit::io
