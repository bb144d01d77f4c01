// multipart/form-data (RFC 7578 over RFC 2046 §5.1) read as a stream: the
// body goes in as it arrives, in pieces of any size, and each part comes
// out as its head, then its data in pieces, then its end. Memory is
// bounded by the longest part head allowed plus the boundary, whatever the
// body's size: a 1 GiB file part passes through without being held.
//
// Pure: bytes in, events out. The part heads are read by the one field
// scanner of src/http.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpkit::http {

// The boundary parameter of a multipart Content-Type value, unquoted;
// nullopt if absent or not a valid boundary (1-70 bchars, no trailing
// space).
std::optional<std::string_view> multipart_boundary(std::string_view content_type);

struct MultipartPartHead {
  std::string name;      // Content-Disposition's name
  std::string filename;  // ... and filename, when has_filename
  bool has_filename = false;
  std::string content_type;  // "text/plain" when the part has none
};

// What the parser hands its user. on_data may be called many times per
// part, with pieces that are views into the parser's input or buffer.
class MultipartSink {
 public:
  virtual ~MultipartSink() = default;
  // False stops the parse with MultipartError::refused (a limit of the
  // user's, a file that cannot be written...).
  virtual bool on_part_begin(const MultipartPartHead& head) = 0;
  virtual bool on_part_data(std::string_view bytes) = 0;
  virtual bool on_part_end() = 0;
};

enum class MultipartError : uint8_t {
  none,
  malformed,      // a delimiter line or a part head that breaks the syntax
  head_too_long,  // a part head beyond the limit (an endless part header)
  too_many_parts,
  no_disposition,  // a part without Content-Disposition: form-data; name=...
  unterminated,    // the body ended before the close delimiter
  refused,         // the sink said stop
};

std::string_view to_string(MultipartError e);

class MultipartParser {
 public:
  struct Limits {
    std::size_t max_part_head = 16 * 1024;
    std::size_t max_parts = 1000;
  };

  MultipartParser(std::string_view boundary, Limits limits);
  MultipartParser(std::string_view boundary) : MultipartParser(boundary, Limits{}) {}

  // Feeds the next bytes of the body. Returns false once an error stopped
  // the parse (error() says which); later calls do nothing.
  bool feed(std::string_view bytes, MultipartSink& sink);
  // The body ended: an error unless the close delimiter was seen.
  bool finish();

  bool done() const { return state_ == State::epilogue; }
  MultipartError error() const { return error_; }
  // Bytes held between feeds (bounded: see the top of this file).
  std::size_t buffered() const { return buffer_.size(); }

 private:
  enum class State : uint8_t { preamble, after_delimiter, head, data, epilogue, failed };

  bool fail(MultipartError e);
  // Each step works on buffer_ from its start; false: wait for bytes.
  bool step(MultipartSink& sink);
  bool read_head(MultipartSink& sink);

  std::string delimiter_;  // "\r\n--" + boundary
  Limits limits_;
  std::string buffer_;  // bytes not consumed yet (bounded, see above)
  State state_ = State::preamble;
  MultipartError error_ = MultipartError::none;
  std::size_t parts_ = 0;
};

}  // namespace httpkit::http
