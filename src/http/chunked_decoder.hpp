// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1).
//
// Pure: it decodes in place. Feed it the bytes that follow the head; it
// moves the chunk data down over the framing and reports how much of the
// buffer it consumed and how many decoded body bytes now sit at its start.
// State survives between calls, so a body may arrive in any split.
#pragma once

#include <cstddef>
#include <cstdint>

#include "http/request_parser.hpp"

namespace httpkit::http {

struct ChunkedLimits {
  uint64_t max_body = 8u << 20;      // decoded bytes; over it -> too_large (413)
  std::size_t max_line = 4096;       // one chunk-size line with extensions; over it -> bad
  std::size_t max_trailers = 65536;  // the whole trailer section; over it -> too_large
};

enum class ChunkedStatus : uint8_t { more, done, bad, too_large };

class ChunkedDecoder {
 public:
  struct Step {
    ChunkedStatus status;
    std::size_t consumed;  // input bytes used (framing and data)
    std::size_t decoded;   // body bytes now at data[0..decoded)
  };

  // Decodes data[0..len) in place. After `done`, bytes past `consumed` belong
  // to the next request. `bad` -> 400, `too_large` -> 413; then `consumed`
  // is the offset of the byte at fault, and later calls repeat the verdict.
  // Chunk extensions and trailer fields are checked, then dropped.
  Step decode(char* data, std::size_t len, const ChunkedLimits& limits);

  uint64_t body_bytes() const { return total_; }
  void reset() { *this = ChunkedDecoder{}; }

 private:
  // Where in the grammar (RFC 9112 §7.1) the next byte falls.
  enum class State : uint8_t {
    size_first,       // the first hex digit of a chunk-size
    size,             // further hex digits
    size_ws,          // BWS after the size: only ';' may follow
    ext_name_start,   // after ';' (BWS allowed)
    ext_name,         // chunk-ext-name
    ext_name_ws,      // BWS after a name: '=' or ';'
    ext_value_start,  // after '=' (BWS allowed)
    ext_token,        // chunk-ext-val as a token
    ext_quoted,       // chunk-ext-val as a quoted-string
    ext_quoted_pair,  // after a backslash inside the quotes
    ext_value_end,    // after a value: ';' or the line's CR
    ext_value_ws,     // BWS after a value: only ';' may follow
    size_lf,          // the LF that ends the chunk-size line
    data,             // chunk data, `remaining_` bytes to go
    data_cr,          // the CRLF after chunk data
    data_lf,
    trailer_start,  // a trailer field line, or the CRLF ending the body
    trailer_name,
    trailer_value,
    trailer_lf,
    final_lf,
    done,
    bad,
    too_large,
  };

  // Consumes one framing byte (anything but chunk data).
  void step(char c, const ChunkedLimits& limits);
  // Takes a whole "hex CRLF" size line at once; 0 when it is not one.
  std::size_t take_plain_size_line(const char* p, std::size_t n, const ChunkedLimits& limits);
  void end_chunk_size(const ChunkedLimits& limits);
  bool fits_body(uint64_t chunk_size, const ChunkedLimits& limits) const;
  bool is_final() const { return state_ >= State::done; }

  State state_ = State::size_first;
  uint64_t chunk_size_ = 0;  // while reading the size line
  uint64_t remaining_ = 0;   // chunk data still to come
  uint64_t total_ = 0;
  std::size_t line_bytes_ = 0;     // of the current chunk-size line
  std::size_t trailer_bytes_ = 0;  // of the whole trailer section
};

}  // namespace httpkit::http
