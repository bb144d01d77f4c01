#include "io/timer_wheel.hpp"

#include <algorithm>
#include <cassert>

namespace httpkit::io {

TimerWheel::TimerWheel(uint64_t now_ms, uint32_t tick_ms, std::size_t slots)
    : tick_ms_(tick_ms),
      mask_(slots - 1),
      current_tick_(now_ms / tick_ms),
      slots_(slots, nullptr),
      occupied_((slots + 63) / 64, 0) {
  assert(slots >= 64 && (slots & (slots - 1)) == 0);
}

void TimerWheel::link(TimerNode& node) {
  std::size_t s = slot_of(node.due_tick);
  TimerNode*& head = slots_[s];
  node.next = head;
  if (head) head->pprev = &node.next;
  head = &node;
  node.pprev = &head;
  occupied_[s / 64] |= uint64_t{1} << (s % 64);
}

void TimerWheel::unlink(TimerNode& node) {
  *node.pprev = node.next;
  if (node.next) node.next->pprev = node.pprev;
  std::size_t s = slot_of(node.due_tick);
  if (!slots_[s]) occupied_[s / 64] &= ~(uint64_t{1} << (s % 64));
  node.next = nullptr;
  node.pprev = nullptr;
}

void TimerWheel::arm(TimerNode& node, uint64_t now_ms, uint64_t delay_ms) {
  assert(node.fire);
  if (node.armed()) {
    unlink(node);
  } else {
    ++count_;
  }
  // Round up so a timer never fires early; never file into a processed tick.
  uint64_t due = (now_ms + delay_ms + tick_ms_ - 1) / tick_ms_;
  node.due_tick = std::max(due, current_tick_ + 1);
  link(node);
}

void TimerWheel::cancel(TimerNode& node) {
  if (!node.armed()) return;
  unlink(node);
  --count_;
}

void TimerWheel::advance(uint64_t now_ms) {
  const uint64_t now_tick = now_ms / tick_ms_;
  if (now_tick <= current_tick_) return;
  // After a long stall every slot is visited once; visiting more is useless.
  uint64_t first = std::max(current_tick_ + 1, now_tick > mask_ ? now_tick - mask_ : 0);
  current_tick_ = now_tick;
  for (uint64_t tick = first; tick <= now_tick && count_; ++tick) {
    std::size_t s = slot_of(tick);
    if (!slots_[s]) continue;
    // Take the slot's list aside so callbacks may arm and cancel freely.
    TimerNode* pending = slots_[s];
    slots_[s] = nullptr;
    occupied_[s / 64] &= ~(uint64_t{1} << (s % 64));
    pending->pprev = &pending;
    while (pending) {
      TimerNode& node = *pending;
      pending = node.next;
      if (pending) pending->pprev = &pending;
      node.next = nullptr;
      node.pprev = nullptr;
      if (node.due_tick <= now_tick) {
        --count_;
        node.fire(&node);
      } else {
        link(node);
      }
    }
  }
}

int64_t TimerWheel::ms_until_next(uint64_t now_ms) const {
  if (!count_) return -1;
  const std::size_t slots = mask_ + 1;
  const std::size_t start = slot_of(current_tick_ + 1);
  for (std::size_t i = 0; i < slots;) {
    std::size_t s = (start + i) & mask_;
    uint64_t word = occupied_[s / 64] >> (s % 64);
    if (word) {
      std::size_t distance = i + __builtin_ctzll(word);
      uint64_t due_ms = (current_tick_ + 1 + distance) * tick_ms_;
      return due_ms > now_ms ? int64_t(due_ms - now_ms) : 0;
    }
    i += 64 - (s % 64);
  }
  return -1;
}

}  // namespace httpkit::io
