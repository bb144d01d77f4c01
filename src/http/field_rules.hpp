// What the header fields of a request head mean for its framing and its
// connection (RFC 9112 §3.2, §6, §9; RFC 9110 §7.2, §7.6.1, §10.1.1).
//
// The parser hands every field to `FieldRules` as it goes by; conflicts that
// one field makes with an earlier one are reported at once, the rest when the
// head is complete. Internal to src/http.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/request_parser.hpp"

namespace httpkit::http {

struct Fault {
  ParseError error = ParseError::none;
  std::string_view detail;

  explicit operator bool() const { return error != ParseError::none; }
};

class FieldRules {
 public:
  explicit FieldRules(uint8_t version_minor) : version_minor_(version_minor) {}

  // `value` is already stripped of surrounding whitespace.
  Fault on_field(std::string_view name, std::string_view value);

  // Judges what only the whole head can tell, then fills the framing and
  // connection members of `out`.
  Fault finish(RequestHead& out) const;

 private:
  Fault on_host(std::string_view value);
  Fault on_content_length(std::string_view value);
  Fault on_transfer_encoding(std::string_view value);
  void on_connection(std::string_view value);
  void on_expect(std::string_view value);

  uint8_t version_minor_;
  bool host_seen_ = false;
  bool content_length_seen_ = false;
  bool transfer_encoding_seen_ = false;
  bool chunked_seen_ = false;         // chunked is the last coding seen so far
  bool unknown_coding_seen_ = false;  // a coding we do not implement came before it
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool connection_upgrade_ = false;
  bool upgrade_field_seen_ = false;
  bool expect_continue_ = false;
  uint64_t content_length_ = 0;
};

}  // namespace httpkit::http
