// Lingering close (nginx's lingering_close). After an error answer cut a
// request short (413, 431, 400...), the client may still be sending the
// rest of it. Closing with unread bytes makes the kernel send a reset, and
// a reset that overtakes the answer makes the client's kernel drop it: the
// client sees "connection reset" instead of its 413. So the server says
// goodbye (close_notify under TLS), shuts its sending side, and reads and
// drops what still comes until the peer's end of stream, a deadline, or a
// bound on what one event may read, whichever comes first.
#include <sys/socket.h>

#include "server/loop_server.hpp"

namespace httpkit::server {
namespace {

constexpr std::chrono::milliseconds kLingerTime{3000};
// Reads per event: a peer that keeps flooding after its answer is cut off
// rather than served at loopback speed.
constexpr int kLingerReads = 16;

}  // namespace

void LoopServer::finish_connection(ServerConnection& c) {
  if (c.linger && !draining_) {
    start_linger(c);
  } else {
    close_connection(c);
  }
}

void LoopServer::start_linger(ServerConnection& c) {
  stream(c).shutdown();  // the layer's goodbye first; it sends it once
  ::shutdown(c.fd, SHUT_WR);
  c.input.reset();
  c.phase = Phase::lingering;
  arm(c, kLingerTime);
  linger_readable(c);  // what arrived already
}

void LoopServer::linger_readable(ServerConnection& c) {
  // Raw bytes: under TLS they are records nobody will open any more.
  io::Stream raw(loop_, c.fd);
  for (int i = 0; i < kLingerReads; ++i) {
    std::span<char> bytes;
    const io::IoResult r = raw.receive(bytes);
    if (r.status == io::IoStatus::again) return;  // the timer or the next bytes
    if (!r.done()) break;                         // the peer's end: done lingering
  }
  close_connection(c);
}

}  // namespace httpkit::server
