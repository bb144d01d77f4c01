// The seed's workload on one connection: GET /?length=L, then check that the
// whole response is a 200 whose Content-Length and body are both
// max(1, min(10240, L)) bytes, and that the body is that prefix of
// http-kit's text (common/benchmark_text.hpp), compared piece by piece as
// it arrives. No I/O here: the worker hands bytes in and sends the bytes
// this writes.
//
// Its sibling is WsExchange (ws_exchange.hpp), chosen by
// LoadOptions::workload: the same shape (start, on_bytes, error_on_close,
// release) on the connection's own union member, plus what WebSocket adds
// (an upgrade before the first message, pongs to send back, bytes held
// for the socket).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/benchmark_text.hpp"
#include "load_connection.hpp"
#include "options.hpp"
#include "random.hpp"
#include "shared_stats.hpp"

namespace httpkit::load {

class HttpExchange {
 public:
  static constexpr std::size_t kMaxRequest = 96;
  static constexpr std::size_t kMaxHead = 8192;  // a longer response head is wrong

  struct Result {
    enum Status : uint8_t { more, done, failed } status;
    LoadFailure error = LoadFailure::wrong_response;  // when failed
  };

  explicit HttpExchange(Range length) : length_(length) {}

  // Picks the next request for `c` and writes it to `out`; returns its size.
  std::size_t start(LoadConnection& c, Random& random, char* out) const;
  // The bytes of the request in flight again (to finish a short send).
  std::size_t request_of(const LoadConnection& c, char* out) const;

  // Takes the next bytes of the response. `done` means it is complete and
  // correct; bytes beyond its end are an error (nothing was asked for).
  Result on_bytes(LoadConnection& c, const char* data, std::size_t size) const;

  // What it means that the server closed now.
  LoadFailure error_on_close(const LoadConnection& c) const;

  // Frees what a connection holds between reads.
  static void release(LoadConnection& c);

 private:
  Result on_head(LoadConnection& c, const char* data, std::size_t size, std::size_t& used) const;
  Result on_body(LoadConnection& c, const char* data, std::size_t size) const;

  Range length_;
};

// The body size the benchmark server answers ?length=L with.
inline uint32_t expected_body(uint32_t length) {
  return uint32_t(benchmark::body_length(long(length)));
}

}  // namespace httpkit::load
