// Gives the heap's free pages back to the kernel once a burst of
// short-lived allocations is over. A TLS handshake allocates ~50-100 KB
// that OpenSSL frees when it ends, while the connection's small long-lived
// state stays: glibc keeps the freed pages resident (it returns only the
// top of the heap on its own), so after a ramp of handshakes the process
// would keep its peak. One malloc_trim, a second after the last burst
// activity on the loop, returns them.
#pragma once

#include <cstdint>

#include "io/event_loop.hpp"
#include "io/timer_wheel.hpp"

namespace httpkit::io {

class HeapTrim {
 public:
  explicit HeapTrim(EventLoop& loop, uint64_t quiet_ms = 1000);
  ~HeapTrim();
  HeapTrim(const HeapTrim&) = delete;
  HeapTrim& operator=(const HeapTrim&) = delete;

  // A burst allocation was freed (a handshake ended): trim once it is quiet.
  void note_activity();
  // Trims done so far (for tests and logs).
  uint64_t trims() const { return trims_; }

 private:
  static void on_timer(TimerNode* node);

  EventLoop& loop_;
  uint64_t quiet_ms_;
  struct Timer {  // the node and its owner, for io::container_of
    TimerNode node;
    HeapTrim* self = nullptr;
  } timer_;
  bool active_ = false;  // activity since the timer was armed
  uint64_t trims_ = 0;
};

}  // namespace httpkit::io
