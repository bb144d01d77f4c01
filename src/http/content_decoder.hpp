// Decodes one content-coding (RFC 9110 §8.4.1): gzip and deflate (zlib),
// br (libbrotli), zstd (libzstd), in bounded pieces. The client decodes
// response bodies with it, wrap_decode_request request bodies.
//
// feed() takes coded bytes (copying what it cannot decode yet), and the
// sink gets decoded bytes at most kPiece at a time; a sink that returns
// false pauses the decoder until drain(). So what a consumer holds is
// bounded by what it accepts, however well the body compresses: the
// decompression-bomb defence is the consumer's limit, enforced piece by
// piece. The decoders' own state is bounded too: zstd windows are capped
// at 8 MiB (RFC 9659 §3), brotli's at its format's 16 MiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/content_coding.hpp"

namespace httpkit::http {

class ContentDecoder {
 public:
  static constexpr std::size_t kPiece = 64 * 1024;

  // `coding` is not identity.
  explicit ContentDecoder(ContentCoding coding);
  ~ContentDecoder();
  ContentDecoder(const ContentDecoder&) = delete;
  ContentDecoder& operator=(const ContentDecoder&) = delete;

  enum class Status : uint8_t { ok, paused, error };

  // Called with each decoded piece; returns false to pause.
  using Sink = std::function<bool(std::string_view)>;

  // Decodes `in` (after whatever was held back) into `sink`. On `paused`
  // the rest is kept; drain() goes on. After `error`, error() says why and
  // the decoder is done.
  Status feed(std::string_view in, const Sink& sink);
  Status drain(const Sink& sink) { return feed({}, sink); }

  // True when the coded stream ended properly (for zstd and gzip: at the
  // end of a frame or member; more may follow, RFC 1952 §2.2). Other bytes
  // after the end of a gzip, deflate or br stream are ignored (old servers
  // append garbage to gzip).
  bool finished() const;
  bool consumed_any() const { return consumed_ > 0; }
  bool has_pending() const { return pending_offset_ < pending_.size(); }
  const std::string& error() const { return error_; }

  // One library's decoding state (zlib, brotli or zstd).
  class Engine;

 private:
  Status run(const char*& data, std::size_t& size, const Sink& sink);

  std::unique_ptr<Engine> engine_;
  uint64_t consumed_ = 0;
  std::string pending_;  // coded bytes held back by a pause
  std::size_t pending_offset_ = 0;
  std::unique_ptr<char[]> out_;
  std::string error_;
};

}  // namespace httpkit::http
