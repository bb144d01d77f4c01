// The state of one client connection: a small fixed struct in a table
// indexed by file descriptor. An idle connection owns nothing else; the
// partial-head pointer is set only while a response head arrives in pieces.
#pragma once

#include <cstdint>

#include "io/timer_wheel.hpp"

namespace httpkit::load {

enum class ConnState : uint8_t {
  unused,      // no socket
  connecting,  // non-blocking connect in flight (connect timer)
  sending,     // the socket refused part of the request (response timer)
  awaiting,    // request sent, response not complete (response timer)
  idle,        // between a response and the next request (idle timer)
};

struct Connection {
  io::TimerNode timer;           // the one deadline of the current state
  char* partial_head = nullptr;  // response-head bytes that arrived in pieces
  uint32_t sent_at_us = 0;       // when the request went out, on the worker's µs clock
  uint32_t body_left = 0;        // body bytes of the current response still to come
  uint32_t length_param = 0;     // ?length= of the request in flight
  uint16_t partial_len = 0;
  uint16_t requests_done = 0;  // completed exchanges (saturating)
  ConnState state = ConnState::unused;
  uint8_t request_offset = 0;  // bytes of the request the socket took so far
  bool head_done = false;      // the current response's head is parsed
};

static_assert(sizeof(Connection) <= 64, "1M connections must stay cheap in user space");

}  // namespace httpkit::load
