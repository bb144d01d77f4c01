// A request body that is not held in memory: a file sent in ranges as the
// socket takes them (sendfile on plain TCP), or chunks pulled from the
// caller's producer only when the previous chunk is out, so a slow peer
// stops the producer and at most one chunk is buffered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "httpkit/client.hpp"
#include "io/stream.hpp"

namespace httpkit::client {

class BodySource {
 public:
  enum class Kind : uint8_t { none, file, stream };
  // The largest chunk pulled at once (and so the most held in memory).
  static constexpr std::size_t kChunk = 64 * 1024;

  BodySource() = default;
  ~BodySource();
  BodySource(const BodySource&) = delete;
  BodySource& operator=(const BodySource&) = delete;

  // Opens opts.body_file (on the calling thread) or adopts opts.body_stream.
  // Returns why it cannot, or nullopt.
  std::optional<std::string> open(const RequestOptions& opts);

  Kind kind() const { return kind_; }
  // Sent with Transfer-Encoding: chunked (a stream of unknown length).
  bool chunked() const { return kind_ == Kind::stream && !declared_; }
  // The Content-Length, when not chunked.
  uint64_t length() const { return kind_ == Kind::file ? size_ : declared_.value_or(0); }
  // Whether the bytes can be sent again (a retry, a 307/308): a file
  // always, a stream only before its first pull.
  bool rewindable() const { return kind_ != Kind::stream || pulls_ == 0; }
  // Back to the start for a new hop (only when rewindable()).
  void rewind();
  bool done() const { return ended_ && pending_begin_ == pending_end_; }
  uint64_t bytes_out() const { return out_; }

  struct Outcome {
    io::IoResult io{};    // again: the socket is full; failed: io.error / `error`
    std::string error{};  // the producer failed (threw, overran its length): invalid_request
    uint64_t moved = 0;   // bytes written to the socket
  };
  // Writes until the socket would block, the body is done, or about
  // `budget` bytes went out (a fast producer must not hold the loop).
  Outcome write(io::Stream& stream, uint64_t budget);

 private:
  // Pulls the next chunk into pending_ (framed when chunked); error text or empty.
  std::string pull_next();

  Kind kind_ = Kind::none;
  int fd_ = -1;
  uint64_t size_ = 0;
  off_t offset_ = 0;
  BodyPull pull_{};
  std::optional<uint64_t> declared_{};
  uint64_t pulled_ = 0;  // body bytes the producer gave
  uint32_t pulls_ = 0;
  uint64_t out_ = 0;  // socket bytes written this hop
  bool ended_ = false;
  std::string pending_{};  // one pulled chunk with its framing
  std::size_t pending_begin_ = 0, pending_end_ = 0;
};

}  // namespace httpkit::client
