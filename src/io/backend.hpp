// The seam between an event loop and the kernel's I/O interface.
//
// A backend does two jobs: it reports which descriptors are ready, and it
// moves their bytes. Each backend is one file (backend_epoll.cpp today)
// that defines the members below and its own `State`; CMake picks the file.
// Nothing above src/io sees a backend's flags or calls: protocols use
// `Stream` and `EventLoop`, whose event bits are ours (event_loop.hpp).
//
// Byte movement is here, not in the stream, so that a completion backend
// can plug in without touching server/, client/ or apps/: io_uring would
// arm a multishot recv per descriptor into a registered buffer ring and
// report readiness when a completion lands; receive() then hands out the
// completed ring buffer instead of calling recv(2) (the same contract:
// a view into loop memory, valid until the next receive), and send()
// queues SQEs that submit() flushes once per loop iteration.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "io/transfer.hpp"

namespace httpkit::io {

struct ReadyEvent {
  uint64_t token;   // what watch() was given
  uint32_t events;  // io::kReadable | kWritable | kPeerClosed | kFailed
};

class Backend {
 public:
  // The loop's shared read buffer: every receive lands here.
  static constexpr std::size_t kReadBufferSize = 64 * 1024;

  Backend();
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  // Edge-triggered interest in `events` (kReadable, kWritable). The peer's
  // close and errors are always reported.
  bool watch(int fd, uint32_t events, uint64_t token);
  bool rewatch(int fd, uint32_t events, uint64_t token);
  void unwatch(int fd);
  // `fd` is about to close (which ends an epoll watch by itself; a
  // completion backend cancels what it has in flight for it).
  void release(int fd);

  // Waits at most `timeout_ms` (-1: until something happens) and fills
  // `out` with what is ready; returns how many.
  int wait(std::span<ReadyEvent> out, int timeout_ms);

  // Reads what `fd` has into the shared buffer: `bytes` views it.
  IoResult receive(int fd, std::span<char>& bytes);
  // Reads into the caller's memory (a layer decrypting into its own).
  IoResult receive_into(int fd, char* buffer, std::size_t size);
  IoResult send(int fd, const iovec* iov, int count);
  // Sends up to `count` bytes of `file_fd` from `offset`, advancing it.
  IoResult send_file(int fd, int file_fd, off_t& offset, std::size_t count);
  // End of a loop iteration: a completion backend submits queued work.
  void submit();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace httpkit::io
