// The Range header for bytes (RFC 9110 §14.1.2, §14.2): which parts of a
// representation of a known length a client asked for.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace httpkit::http {

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

enum class RangeStatus : uint8_t {
  ignore,         // no usable Range (absent, another unit, malformed): send 200
  satisfiable,    // send 206 with `ranges`
  unsatisfiable,  // send 416 with Content-Range: bytes */size
};

struct RangeRequest {
  RangeStatus status = RangeStatus::ignore;
  std::vector<ByteRange> ranges;  // in the order asked, overlapping ones merged
};

// Ranges of a `size`-byte representation. More than `max_ranges` ranges,
// or ranges that overlap heavily, are a denial-of-service shape (RFC 9110
// §14.2): the request is then served whole (ignore).
RangeRequest parse_range(std::string_view range_header, uint64_t size, std::size_t max_ranges = 16);

}  // namespace httpkit::http
