// The state of one client connection: a small fixed struct in a table
// indexed by file descriptor. An idle connection owns nothing else; a
// pointer is set only while bytes must wait between two reads (a response
// head that arrives in pieces, a compressed WebSocket echo in flight).
//
// With --tls the connection's TLS layer (and its OpenSSL session) lives in
// a table of its own beside this one, also indexed by descriptor and made
// only with --tls: a plain run's connections stay exactly this size.
//
// The worker's part is common; what the exchange keeps between reads is a
// union of one struct per workload (options.hpp), each read and written
// only by its exchange (http_exchange.hpp, ws_exchange.hpp).
#pragma once

#include <cstdint>

#include "io/timer_wheel.hpp"

namespace httpkit::load {

enum class LoadState : uint8_t {
  unused,      // no socket
  connecting,  // non-blocking connect in flight (connect timer)
  sending,     // the socket refused part of the request (response timer)
  awaiting,    // request sent, response not complete (response timer)
  idle,        // between a response and the next request (idle timer)
  handshaking, // --tls: connected, TLS handshake in flight (connect timer, again)
};

// HttpExchange's state: the request in flight and how much of its answer came.
struct HttpProgress {
  char* partial_head;      // response-head bytes that arrived in pieces
  uint32_t body_left;      // body bytes of the current response still to come
  uint32_t length_param;   // ?length= of the request in flight
  uint16_t partial_len;    // bytes in partial_head
  uint8_t request_offset;  // bytes of the request the socket took so far
  bool head_done;          // the current response's head is parsed
};

struct WsHeldBytes;  // ws_exchange.hpp

// WsExchange's state: the handshake, the message in flight, the frame being read.
struct WsProgress {
  WsHeldBytes* held;        // bytes waiting between reads or sends; null almost always
  uint32_t nonce;           // seeds Sec-WebSocket-Key and, with requests_done, the payload
  uint32_t frame_left;      // payload bytes of the frame being read still to come
  uint16_t message_length;  // of the message in flight
  uint16_t echo_checked;    // bytes of its uncompressed echo compared so far
  uint8_t upgraded : 1;     // the 101 was accepted: frames from here on
  uint8_t awaiting_echo : 1;
  uint8_t in_message : 1;   // the echo's first frame came, its final one not yet
  uint8_t compressed : 1;   // the echo in flight has RSV1 (permessage-deflate)
  uint8_t final_frame : 1;  // the frame being read ends its message
  uint8_t frame_kind : 2;   // WsExchange::FrameKind of the frame being read
};

struct LoadConnection {
  io::TimerNode timer;         // the one deadline of the current state
  uint32_t sent_at_us = 0;     // when the request went out, on the worker's µs clock
  uint16_t requests_done = 0;  // completed exchanges (saturating)
  LoadState state = LoadState::unused;
  // Between connect and the first response (for WebSocket: the 101), the
  // span the ramp's --max-connecting bounds.
  bool ramping = false;
  // All zero after LoadConnection{} and in the table's fresh pages, which each
  // exchange reads as "nothing in flight, nothing held".
  union {
    uint64_t zeroed[3] = {};
    HttpProgress http;
    WsProgress ws;
  };
};

static_assert(sizeof(HttpProgress) <= sizeof(uint64_t[3]) &&
                  sizeof(WsProgress) <= sizeof(uint64_t[3]),
              "Connection{} must zero the whole union");
static_assert(sizeof(LoadConnection) <= 64, "1M connections must stay cheap in user space");

}  // namespace httpkit::load
