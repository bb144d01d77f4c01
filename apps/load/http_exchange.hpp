// The seed's workload on one connection: GET /?length=L, then check that the
// whole response is a 200 whose Content-Length and body are both
// max(1, min(10240, L)) bytes. No I/O here: the worker hands bytes in and
// sends the bytes this writes.
//
// The seam for other workloads (the WebSocket mode of issue 4): a sibling
// class with the same four members, chosen by LoadOptions::workload.
#pragma once

#include <cstddef>
#include <cstdint>

#include "connection.hpp"
#include "options.hpp"
#include "shared_stats.hpp"

namespace httpkit::load {

// xorshift64*: fast, and good enough to pick lengths and idle times.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dull;
  }
  uint32_t in(Range r) { return r.min + uint32_t(next() % (uint64_t(r.max - r.min) + 1)); }

 private:
  uint64_t state_;
};

class HttpExchange {
 public:
  static constexpr std::size_t kMaxRequest = 96;
  static constexpr std::size_t kMaxHead = 8192;  // a longer response head is wrong

  struct Result {
    enum Status : uint8_t { more, done, failed } status;
    ErrorKind error = ErrorKind::wrong_response;  // when failed
  };

  explicit HttpExchange(Range length) : length_(length) {}

  // Picks the next request for `c` and writes it to `out`; returns its size.
  std::size_t start(Connection& c, Random& random, char* out) const;
  // The bytes of the request in flight again (to finish a short send).
  std::size_t request_of(const Connection& c, char* out) const;

  // Takes the next bytes of the response. `done` means it is complete and
  // correct; bytes beyond its end are an error (nothing was asked for).
  Result on_bytes(Connection& c, const char* data, std::size_t size) const;

  // What it means that the server closed now.
  ErrorKind error_on_close(const Connection& c) const;

  // Frees what a connection holds between reads.
  static void release(Connection& c);

 private:
  Result on_head(Connection& c, const char* data, std::size_t size, std::size_t& used) const;
  Result on_body(Connection& c, std::size_t size) const;

  Range length_;
};

// The body size the benchmark server answers ?length=L with.
inline uint32_t expected_body(uint32_t length) {
  return length < 1 ? 1 : (length > 10240 ? 10240 : length);
}

}  // namespace httpkit::load
