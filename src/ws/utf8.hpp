// Incremental UTF-8 validation (RFC 3629) for WebSocket text messages.
//
// A text message may arrive in fragments split anywhere, even inside a
// code point, and RFC 6455 §8.1 wants the connection failed as soon as the
// bytes cannot be UTF-8 — not only at the end of the message. So the
// validator keeps three bytes of state between calls and rejects at the
// first bad byte: overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code
// points above U+10FFFF, stray continuation bytes and the never-valid bytes
// C0, C1, F5..FF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace httpkit::ws {

class Utf8Validator {
 public:
  // Checks the next piece of a text. Returns false at the first byte that
  // cannot belong to valid UTF-8, and keeps returning false until reset().
  bool feed(std::string_view bytes);

  // True when everything fed so far is valid and does not stop inside a
  // multi-byte sequence: the check to make when the message ends.
  bool complete() const { return valid_ && pending_ == 0; }
  bool failed() const { return !valid_; }

  void reset() { *this = Utf8Validator{}; }

 private:
  // The byte range the next continuation byte must fall into. Only the
  // first continuation after E0, ED, F0 and F4 is narrower than 80..BF:
  // that narrowing is what rules out overlongs, surrogates and > U+10FFFF.
  uint8_t next_low_ = 0x80;
  uint8_t next_high_ = 0xBF;
  uint8_t pending_ = 0;  // continuation bytes still expected
  bool valid_ = true;
};

// Whole-buffer check: valid and complete.
bool is_valid_utf8(std::string_view bytes);

// The longest prefix of the valid UTF-8 `text` that is at most `max_bytes`
// long and does not cut a code point in two.
std::size_t utf8_prefix_length(std::string_view text, std::size_t max_bytes);

}  // namespace httpkit::ws
