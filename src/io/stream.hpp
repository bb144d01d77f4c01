// A connected socket as the protocols see it: reads land in the loop's
// shared buffer, writes take iovecs or a file range, and a StreamLayer may
// sit between the bytes on the wire and the protocol (TLS, in the server
// issue that follows; the client's TLS today). HTTP/1, WebSocket and the
// client code call only this, so a layer or another backend changes
// nothing above it.
//
// A Stream is a small value (loop, descriptor, layer); the owner of the
// connection keeps it or rebuilds it, and owns the layer's lifetime.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>

#include "io/backend.hpp"
#include "io/event_loop.hpp"
#include "io/transfer.hpp"

namespace httpkit::io {

class StreamLayer;

class Stream {
 public:
  Stream() = default;
  Stream(EventLoop& loop, int fd, StreamLayer* layer = nullptr)
      : loop_(&loop), fd_(fd), layer_(layer) {}

  int fd() const { return fd_; }
  EventLoop& loop() const { return *loop_; }
  StreamLayer* layer() const { return layer_; }
  void set_layer(StreamLayer* layer) { layer_ = layer; }
  // True when a layer protects the bytes (https, wss).
  bool secure() const;

  // One read: `bytes` views what arrived, in loop memory that the next
  // receive on this loop reuses. `closed` is the peer's end of stream.
  IoResult receive(std::span<char>& bytes);

  // Reads until the socket has nothing more, handing each batch to
  // `on_bytes(std::span<char>)`, which returns false to stop reading (the
  // rest stays in the socket; the caller remembers to come back). Returns
  // what ended the loop: `again` (drained), `closed`, `failed`, or `done`
  // when on_bytes stopped it. `peer_closing` says the event that woke the
  // caller also reported the peer's close: then read on to the end of
  // stream instead of trusting a short read to mean "empty".
  template <class OnBytes>
  IoResult receive_all(bool peer_closing, OnBytes&& on_bytes);

  // Writes as much as the socket takes now.
  IoResult send(const iovec* iov, int count);
  IoResult send(std::string_view bytes);
  IoResult send(std::string_view head, std::string_view body);
  // Sends up to `count` bytes of `file_fd` from `offset`, advancing it.
  IoResult send_file(int file_fd, off_t& offset, std::size_t count);

  // The layer's goodbye (a TLS close_notify), without waiting for an answer.
  void shutdown();
  // Closes the descriptor (which ends the loop's watch on it).
  void close();

 private:
  EventLoop* loop_ = nullptr;
  int fd_ = -1;
  StreamLayer* layer_ = nullptr;
};

// What sits between the socket and the protocol. Each operation gets
// `below`, the same stream without this layer, to move its own bytes.
class StreamLayer {
 public:
  virtual ~StreamLayer() = default;
  virtual IoResult receive(Stream& below, std::span<char>& bytes) = 0;
  virtual IoResult send(Stream& below, const iovec* iov, int count) = 0;
  // A layer that transforms bytes cannot hand the file to the kernel: it
  // reads the range and sends it as it sends any other bytes.
  virtual IoResult send_file(Stream& below, int file_fd, off_t& offset, std::size_t count) = 0;
  virtual void shutdown(Stream& below) = 0;
  virtual bool secure() const = 0;
  // Whether bytes the layer already holds wait to be received (so a short
  // read does not mean the socket is empty).
  virtual bool holds_input() const { return true; }
  // A layer with a handshake (TLS): whether it still runs, and how long the
  // peer may take over it. The owner holds the connection to that deadline.
  virtual bool handshaking() const { return false; }
  virtual std::chrono::milliseconds handshake_timeout() const { return {}; }
  // Whether the handshake waits for the socket to take its bytes: only
  // then does writability move it on (a new socket is writable at once,
  // and again after each flight, with nothing for the handshake to do).
  virtual bool handshake_waits_to_send() const { return false; }
};

template <class OnBytes>
IoResult Stream::receive_all(bool peer_closing, OnBytes&& on_bytes) {
  for (;;) {
    std::span<char> bytes;
    IoResult r = receive(bytes);
    if (!r.done()) return r;
    if (!on_bytes(bytes)) return r;
    // A short read emptied the socket: edge-triggered readiness reports
    // the next bytes, so the EAGAIN read can be skipped.
    const bool emptied = bytes.size() < Backend::kReadBufferSize && !peer_closing;
    if (emptied && !(layer_ && layer_->holds_input())) return {IoStatus::again, 0, 0};
  }
}

}  // namespace httpkit::io
