// A streaming encoder for one response body's content-coding: gzip and
// deflate (zlib), br (libbrotli), zstd (libzstd). Bytes go in as the body
// is produced; flush() makes everything so far decodable by the client
// (for SSE and channel messages, which must not wait in the encoder); the
// end finishes the stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/content_coding.hpp"

namespace httpkit::app {

class ContentEncoder {
 public:
  virtual ~ContentEncoder() = default;
  // Appends the encoded form of `bytes` (maybe nothing yet) to `out`.
  // False on a library failure (out of memory).
  virtual bool write(std::string_view bytes, std::string& out) = 0;
  // Appends what makes everything written so far decodable.
  virtual bool flush(std::string& out) = 0;
  // Appends the end of the stream; nothing may be written after.
  virtual bool finish(std::string& out) = 0;
};

// What an encoder is for. A whole body is encoded at once and the encoder
// freed; a stream's encoder lives as long as its response (an SSE feed:
// hours), one per stream, so it gets smaller windows and tables: at most
// about 1.15 MiB of state for br and zstd, 260 KiB for zlib, whatever the
// stream's length (content_encoder_test measures it).
enum class EncoderUse : uint8_t { whole, stream };

// Levels suited to encoding while serving (not the libraries' maxima):
// zlib 6, brotli 5, zstd 3. Null for identity.
std::unique_ptr<ContentEncoder> make_content_encoder(http::ContentCoding coding,
                                                     EncoderUse use = EncoderUse::whole);

// The whole of `bytes` encoded at once (for bodies known in full).
bool encode_all(http::ContentCoding coding, std::string_view bytes, std::string& out);

}  // namespace httpkit::app
