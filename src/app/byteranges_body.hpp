// A 206 body with several ranges of a file (RFC 9110 §14.6,
// multipart/byteranges), read into memory up to a limit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/byte_ranges.hpp"

namespace httpkit::app {

struct ByteRangesBody {
  std::string boundary;
  std::string body;
};

// Nullopt when the ranges add up to more than `max_bytes` or the file
// cannot be read (then the caller sends the whole file).
std::optional<ByteRangesBody> multipart_byteranges(int fd, uint64_t size,
                                                   std::span<const http::ByteRange> ranges,
                                                   std::string_view content_type,
                                                   std::size_t max_bytes);

}  // namespace httpkit::app
