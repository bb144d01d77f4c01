#include "io/heap_trim.hpp"

#include <malloc.h>

#include "io/container_of.hpp"

namespace httpkit::io {

HeapTrim::HeapTrim(EventLoop& loop, uint64_t quiet_ms) : loop_(loop), quiet_ms_(quiet_ms) {
  timer_.node.fire = &HeapTrim::on_timer;
  timer_.self = this;
}

HeapTrim::~HeapTrim() {
  if (timer_.node.armed()) loop_.timers().cancel(timer_.node);
}

void HeapTrim::note_activity() {
  active_ = true;
  if (!timer_.node.armed()) {
    active_ = false;
    loop_.timers().arm(timer_.node, loop_.now_ms(), quiet_ms_);
  }
}

void HeapTrim::on_timer(TimerNode* node) {
  HeapTrim* self = container_of<&Timer::node>(node).self;
  if (self->active_) {  // still busy: look again after another quiet period
    self->active_ = false;
    self->loop_.timers().arm(self->timer_.node, self->loop_.now_ms(), self->quiet_ms_);
    return;
  }
  malloc_trim(0);
  ++self->trims_;
}

}  // namespace httpkit::io
