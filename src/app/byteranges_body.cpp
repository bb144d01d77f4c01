#include "app/byteranges_body.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>

namespace httpkit::app {

std::optional<ByteRangesBody> multipart_byteranges(int fd, uint64_t size,
                                                   std::span<const http::ByteRange> ranges,
                                                   std::string_view content_type,
                                                   std::size_t max_bytes) {
  uint64_t total = 0;
  for (const http::ByteRange& r : ranges)
    total += r.length;
  if (total > max_bytes) return std::nullopt;
  ByteRangesBody out;
  unsigned char random[12];
  if (RAND_bytes(random, sizeof random) != 1) return std::nullopt;
  static const char kHex[] = "0123456789abcdef";
  out.boundary = "httpkit-";
  for (unsigned char b : random) {
    out.boundary += kHex[b >> 4];
    out.boundary += kHex[b & 15];
  }
  out.body.reserve(std::size_t(total) + ranges.size() * 128);
  for (const http::ByteRange& r : ranges) {
    out.body += "--" + out.boundary + "\r\nContent-Type: ";
    out.body += content_type;
    out.body += "\r\nContent-Range: bytes " + std::to_string(r.first) + "-" +
                std::to_string(r.first + r.length - 1) + "/" + std::to_string(size) + "\r\n\r\n";
    const std::size_t at = out.body.size();
    out.body.resize(at + std::size_t(r.length));
    std::size_t got = 0;
    while (got < r.length) {
      const ssize_t n =
          pread(fd, out.body.data() + at + got, std::size_t(r.length) - got, off_t(r.first + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;  // the file shrank under us
      got += std::size_t(n);
    }
    out.body += "\r\n";
  }
  out.body += "--" + out.boundary + "--\r\n";
  return out;
}

}  // namespace httpkit::app
