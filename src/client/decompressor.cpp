#include "client/decompressor.hpp"

#include "httpkit/header_view.hpp"

namespace httpkit::client {

Coding coding_of(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  if (value.empty() || iequals(value, "identity")) return Coding::identity;
  if (iequals(value, "gzip") || iequals(value, "x-gzip")) return Coding::gzip;
  if (iequals(value, "deflate")) return Coding::deflate;
  return Coding::unsupported;
}

Decompressor::Decompressor(Coding coding) : coding_(coding), out_(new char[kPiece]) {
  // 15 + 16: gzip wrapper only. "deflate" waits for its first two bytes.
  if (coding == Coding::gzip) init(15 + 16);
}

Decompressor::~Decompressor() {
  if (initialized_) inflateEnd(&zs_);
}

bool Decompressor::init(int window_bits) {
  if (initialized_) inflateEnd(&zs_);
  zs_ = z_stream{};
  initialized_ = inflateInit2(&zs_, window_bits) == Z_OK;
  if (!initialized_) error_ = "zlib initialisation failed";
  return initialized_;
}

Decompressor::Status Decompressor::feed(std::string_view in, const Sink& sink) {
  if (coding_ == Coding::deflate && !initialized_ && error_.empty()) {
    // RFC 9110 "deflate" is the zlib format, but some servers send raw
    // deflate. A zlib header is CM=8 and a multiple of 31: look first.
    sniff_.append(in);
    if (sniff_.size() < 2) return Status::ok;
    const auto cmf = uint8_t(sniff_[0]), flg = uint8_t(sniff_[1]);
    const bool zlib = (cmf & 0x0f) == 8 && (cmf * 256 + flg) % 31 == 0;
    if (!init(zlib ? 15 : -15)) return Status::error;
    std::string first = std::move(sniff_);
    sniff_.clear();
    return feed(first, sink);
  }
  if (!initialized_) return Status::error;
  // Held-back bytes go first; new bytes queue behind them.
  if (pending_offset_ < pending_.size()) {
    pending_.append(in);
    const char* data = pending_.data() + pending_offset_;
    std::size_t size = pending_.size() - pending_offset_;
    Status s = run(data, size, sink);
    pending_offset_ = pending_.size() - size;
    if (size == 0) {
      pending_.clear();
      pending_offset_ = 0;
    }
    return s;
  }
  const char* data = in.data();
  std::size_t size = in.size();
  Status s = run(data, size, sink);
  if (size > 0) {
    pending_.assign(data, size);
    pending_offset_ = 0;
  }
  return s;
}

Decompressor::Status Decompressor::run(const char*& data, std::size_t& size, const Sink& sink) {
  while (!finished_) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    zs_.avail_in = uInt(size);
    zs_.next_out = reinterpret_cast<Bytef*>(out_.get());
    zs_.avail_out = uInt(kPiece);
    int rc = inflate(&zs_, Z_NO_FLUSH);
    std::size_t used = size - zs_.avail_in;
    consumed_ += used;
    data += used;
    size -= used;
    std::size_t produced = kPiece - zs_.avail_out;
    if (rc == Z_STREAM_END) finished_ = true;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      error_ = std::string(coding_ == Coding::gzip ? "invalid gzip data" : "invalid deflate data") +
               (zs_.msg ? std::string(": ") + zs_.msg : std::string());
      return Status::error;
    }
    if (produced > 0 && !sink({out_.get(), produced})) return Status::paused;
    // No progress possible without more input.
    if (produced == 0 && (size == 0 || rc == Z_BUF_ERROR)) break;
    if (size == 0 && zs_.avail_out != 0) break;
  }
  // Bytes after the end of the stream are ignored (trailing garbage is
  // common after gzip members written by old servers).
  if (finished_) size = 0;
  return Status::ok;
}

}  // namespace httpkit::client
