// What one attempt to move bytes through a descriptor came to. Shared by
// the backend, the stream and its layers, so that none of them speaks errno
// to the protocols above.
#pragma once

#include <cstddef>
#include <cstdint>

namespace httpkit::io {

enum class IoStatus : uint8_t {
  done,    // `bytes` moved (for a write: maybe fewer than offered)
  again,   // nothing can move now; the next readiness event says when
  closed,  // the peer ended the stream (a read saw its FIN)
  failed,  // the stream is broken; `error` holds the errno
};

struct IoResult {
  IoStatus status = IoStatus::done;
  std::size_t bytes = 0;
  int error = 0;

  bool done() const { return status == IoStatus::done; }
};

}  // namespace httpkit::io
