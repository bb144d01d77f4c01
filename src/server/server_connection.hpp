// Per-connection state of the HTTP server.
//
// An idle keep-alive connection is this fixed struct and nothing else: the
// two pending buffers stay empty until a request arrives in pieces or the
// socket refuses bytes, and are freed as soon as that is over.
//
// Lifetime: close_connection() ends a connection at once (phase `closed`:
// no more reads, writes or callbacks) but the descriptor is closed, and
// the slot recycled, only after the loop iteration (LoopServer::
// release_closed). So code that called into a handler just asks
// `c.closed()`; only work arriving from outside the loop's call stack (a
// worker thread's response, a channel's send) identifies its connection
// by (fd, generation).
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/chunked_decoder.hpp"
#include "http/request_parser.hpp"
#include "io/timer_wheel.hpp"

namespace httpkit {
class OpenFile;  // response.hpp
}

namespace httpkit::server {

class LoopServer;
class ServerChannel;

// How far the request at the front of a byte range has been taken apart.
// The range holds [head | decoded body | consumed raw | unconsumed raw].
struct RequestProgress {
  std::size_t scan_from = 0;    // where the search for the end of the head resumes
  std::size_t head_length = 0;  // 0 until the head is complete
  std::size_t body_end = 0;     // end of the (decoded) body so far
  std::size_t raw_pos = 0;      // first byte not yet consumed by body framing
  http::BodyFraming framing = http::BodyFraming::none;
  uint64_t content_length = 0;
  bool continue_sent = false;
  bool stream = false;    // the body plan streams this body to the handler
  uint64_t max_body = 0;  // the limit for this request (the plan's or the server's)
  http::ChunkedDecoder chunked;
};

// Bytes of a request that did not arrive in one read (and any pipelined
// requests behind it that wait for their turn).
struct PendingInput {
  std::string bytes;
  RequestProgress progress;
};

// Response bytes the socket did not take yet: a byte tail, then maybe a file.
struct PendingOutput {
  std::string bytes;
  std::size_t offset = 0;
  std::shared_ptr<const OpenFile> file{};  // shared with the cache of serve_files
  off_t file_offset = 0;
  std::size_t file_remaining = 0;

  std::size_t unsent_bytes() const { return bytes.size() - offset; }
};

enum class Phase : uint8_t {
  idle,       // between requests (keep-alive timer)
  reading,    // part of a request is here (header or body timer)
  busy,       // a handler runs elsewhere, or a channel holds the response
  websocket,  // upgraded: frames, not requests
  lingering,  // answered an error mid-request: reading and dropping until the peer stops
  closed,     // ended; the slot is recycled after this loop iteration
};

struct ServerConnection {
  io::TimerNode timer;  // the one deadline that applies in the current phase
  std::unique_ptr<PendingInput> input;
  std::unique_ptr<PendingOutput> output;
  LoopServer* owner = nullptr;       // the loop serving it; null in a free slot
  ServerChannel* channel = nullptr;  // owned by the channel itself while open
  int fd = -1;
  uint32_t generation = 0;  // tells a recycled fd from the connection a task was for
  Phase phase = Phase::idle;
  bool close_after_write = false;  // the response in flight ends the connection
  bool read_pending = false;       // stopped reading with bytes possibly left in the socket
  bool in_body = false;            // the timer is the body timer
  bool handshaking = false;        // a TLS handshake runs: the timer is its deadline
  bool linger = false;             // an error cut a request short: linger before closing
  // A body is streamed to a handler: its state is the loop's, by fd, for
  // the request's length only (request_body_stream.cpp).
  bool streaming = false;
  // The timer measures a stall (keep-alive idle, or a body between reads):
  // only request bytes restart it, not a read that brought none (an empty
  // TLS record, a KeyUpdate), or such records would hold a connection open.
  bool stall_deadline = false;

  bool closed() const { return phase == Phase::closed; }
};

static_assert(sizeof(ServerConnection) <= 80, "an idle connection must stay small");
static_assert(sizeof(std::unique_ptr<PendingOutput>) == sizeof(void*), "owning costs no bytes");

}  // namespace httpkit::server
