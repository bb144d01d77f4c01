// Content-Encoding gzip / deflate, decoded with zlib in bounded pieces.
//
// feed() takes compressed bytes (copying what it cannot decode yet), and
// drain() hands out decoded bytes at most kPiece at a time, so a consumer
// that pauses (streaming backpressure) bounds what is held in memory no
// matter how well the body compresses.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace httpkit::client {

enum class Coding : uint8_t { identity, gzip, deflate, unsupported };

// The coding a Content-Encoding value asks for ("gzip", "x-gzip",
// "deflate", "identity"); anything else, or a stack of codings, is
// `unsupported` and is passed through undecoded.
Coding coding_of(std::string_view content_encoding);

class Decompressor {
 public:
  static constexpr std::size_t kPiece = 64 * 1024;

  explicit Decompressor(Coding coding);
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  enum class Status : uint8_t { ok, paused, error };

  // Called with each decoded piece; returns false to pause.
  using Sink = std::function<bool(std::string_view)>;

  // Decodes `in` (and whatever was held back) into `sink`. On `paused` the
  // rest is kept; call drain() to go on.
  Status feed(std::string_view in, const Sink& sink);
  Status drain(const Sink& sink) { return feed({}, sink); }

  // True when the compressed stream ended properly.
  bool finished() const { return finished_; }
  bool consumed_any() const { return consumed_ > 0 || !sniff_.empty(); }
  bool has_pending() const { return pending_offset_ < pending_.size(); }
  const std::string& error() const { return error_; }

 private:
  Status run(const char*& data, std::size_t& size, const Sink& sink);
  bool init(int window_bits);

  Coding coding_;
  z_stream zs_{};
  bool initialized_ = false;
  bool finished_ = false;
  std::string sniff_;  // the first bytes of a "deflate" body, until its format is known
  uint64_t consumed_ = 0;
  std::string pending_;  // compressed bytes held back by a pause
  std::size_t pending_offset_ = 0;
  std::unique_ptr<char[]> out_;
  std::string error_;
};

}  // namespace httpkit::client
