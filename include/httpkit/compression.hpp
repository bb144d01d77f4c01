// Response compression: zstd, br, gzip and deflate, chosen by the
// client's Accept-Encoding q-values (the order below breaks ties), for
// compressible types above a minimum size, with Vary: Accept-Encoding.
//
//   httpkit::Server server(httpkit::wrap_compression(app), options);
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "httpkit/server.hpp"

namespace httpkit {

enum class Coding { zstd, br, gzip, deflate };

struct CompressionOptions {
  // Offered in this order of preference.
  std::vector<Coding> codings = {Coding::zstd, Coding::br, Coding::gzip, Coding::deflate};
  // Bodies smaller than this go as they are (the framing would eat the gain).
  std::size_t min_size = 256;
  // Files (FileBody) up to this size are read and compressed; larger ones
  // go out with sendfile as they are (serve_files' pre-compressed
  // siblings are the way for large static files).
  std::size_t max_file_size = 1u << 20;
  // Which Content-Types are worth it; default: text, JSON, JS, XML, SVG...
  std::function<bool(std::string_view content_type)> compressible{};
};

// Leaves alone: responses that already have a Content-Encoding, that say
// Cache-Control: no-transform, statuses without a body, 206 (a range of
// the identity representation) and WebSocket. A strong ETag is made weak,
// as the compressed bytes differ from the ones it named.
//
// Streamed output is compressed too, through an output filter
// (output_filter.hpp): HTTP channels (SSE included) and StreamBody, chunked,
// without Content-Length. The same rules apply when the stream's head is
// written, except min_size: a stream's size is not known until it ends.
// The encoder is flushed at each channel send (and each batch of a stream
// body), so every SSE event is decodable by the browser as it arrives; it
// costs a few bytes per flush. One encoder per stream, with smaller windows
// than for whole bodies, freed when the stream ends.
Handler wrap_compression(Handler next, CompressionOptions options = {});

}  // namespace httpkit
