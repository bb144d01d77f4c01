#include "client/body_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

namespace httpkit::client {
namespace {

// Room before a chunk for its "<hex>\r\n" size line.
constexpr std::size_t kPrefix = 18;

}  // namespace

BodySource::~BodySource() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> BodySource::open(const RequestOptions& opts) {
  if (!opts.body_file.empty()) {
    fd_ = ::open(opts.body_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return "cannot open body_file '" + opts.body_file + "': " + std::strerror(errno);
    struct stat st {};
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode))
      return "body_file '" + opts.body_file + "' is not a regular file";
    kind_ = Kind::file;
    size_ = uint64_t(st.st_size);
    ended_ = size_ == 0;
    return std::nullopt;
  }
  if (opts.body_stream) {
    kind_ = Kind::stream;
    pull_ = opts.body_stream;
    declared_ = opts.body_length;
    ended_ = declared_ == 0u;
    return std::nullopt;
  }
  if (opts.body_length) return "body_length is for body_stream";
  return std::nullopt;
}

void BodySource::rewind() {
  out_ = 0;
  if (kind_ == Kind::file) {
    offset_ = 0;
    ended_ = size_ == 0;
  }
}

std::string BodySource::pull_next() {
  if (pending_.empty()) pending_.resize(kPrefix + kChunk + 2);
  char* data = pending_.data() + kPrefix;
  std::size_t n = 0;
  ++pulls_;
  try {
    n = pull_(std::span<char>(data, kChunk));
  } catch (const std::exception& e) {
    return std::string("body_stream threw: ") + e.what();
  } catch (...) {
    return "body_stream threw";
  }
  if (n > kChunk) return "body_stream returned more bytes than its buffer holds";
  pulled_ += n;
  if (declared_) {
    if (pulled_ > *declared_)
      return "body_stream gave more than body_length (" + std::to_string(*declared_) + " bytes)";
    if (n == 0 && pulled_ < *declared_)
      return "body_stream ended after " + std::to_string(pulled_) + " of body_length " +
             std::to_string(*declared_) + " bytes";
    pending_begin_ = kPrefix;
    pending_end_ = kPrefix + n;
    ended_ = n == 0 || pulled_ == *declared_;
    return {};
  }
  if (n == 0) {  // the last chunk (RFC 9112 §7.1), no trailers
    static constexpr char kLast[] = "0\r\n\r\n";
    std::memcpy(pending_.data(), kLast, sizeof kLast - 1);
    pending_begin_ = 0;
    pending_end_ = sizeof kLast - 1;
    ended_ = true;
    return {};
  }
  char line[kPrefix];
  const int len = std::snprintf(line, sizeof line, "%zx\r\n", n);
  pending_begin_ = kPrefix - std::size_t(len);
  std::memcpy(pending_.data() + pending_begin_, line, std::size_t(len));
  std::memcpy(data + n, "\r\n", 2);
  pending_end_ = kPrefix + n + 2;
  return {};
}

BodySource::Outcome BodySource::write(io::Stream& stream, uint64_t budget) {
  Outcome o;
  while (!done() && o.moved < budget) {
    if (kind_ == Kind::file) {
      const uint64_t left = size_ - uint64_t(offset_);
      o.io =
          stream.send_file(fd_, offset_, std::size_t(std::min<uint64_t>(left, budget - o.moved)));
      o.moved += o.io.bytes;
      ended_ = uint64_t(offset_) >= size_;
    } else {
      if (pending_begin_ == pending_end_) {
        o.error = pull_next();
        if (!o.error.empty()) {
          o.io.status = io::IoStatus::failed;
          return o;
        }
        continue;
      }
      o.io = stream.send(
          std::string_view(pending_).substr(pending_begin_, pending_end_ - pending_begin_));
      pending_begin_ += o.io.bytes;
      o.moved += o.io.bytes;
    }
    if (!o.io.done()) break;
  }
  out_ += o.moved;
  return o;
}

}  // namespace httpkit::client
