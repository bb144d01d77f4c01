#include "ws/utf8.hpp"

#include <cstring>

namespace httpkit::ws {

namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ull;

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

}  // namespace

bool Utf8Validator::feed(std::string_view bytes) {
  if (!valid_) return false;
  auto p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto end = p + bytes.size();
  while (p < end) {
    if (pending_ != 0) {
      const unsigned char c = *p++;
      if (c < next_low_ || c > next_high_) return valid_ = false;
      next_low_ = 0x80;
      next_high_ = 0xBF;
      --pending_;
      continue;
    }
    // Between code points: skip ASCII eight bytes at a time, the common case.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if (word & kHighBits) break;
      p += 8;
    }
    if (p == end) break;
    const unsigned char lead = *p++;
    if (lead < 0x80) continue;
    if (lead < 0xC2) return valid_ = false;  // a continuation byte, or C0/C1 (overlong)
    if (lead < 0xE0) {
      pending_ = 1;
    } else if (lead < 0xF0) {
      pending_ = 2;
      if (lead == 0xE0) next_low_ = 0xA0;   // below: overlong 3-byte form
      if (lead == 0xED) next_high_ = 0x9F;  // above: U+D800..U+DFFF, surrogates
    } else if (lead < 0xF5) {
      pending_ = 3;
      if (lead == 0xF0) next_low_ = 0x90;   // below: overlong 4-byte form
      if (lead == 0xF4) next_high_ = 0x8F;  // above: beyond U+10FFFF
    } else {
      return valid_ = false;  // F5..FF never occur
    }
  }
  return true;
}

bool is_valid_utf8(std::string_view bytes) {
  Utf8Validator v;
  return v.feed(bytes) && v.complete();
}

std::size_t utf8_prefix_length(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  std::size_t n = max_bytes;
  // text[n] is the first byte cut off; if it continues a code point, the
  // code point's lead byte and the rest of it go too.
  while (n > 0 && is_continuation(static_cast<unsigned char>(text[n])))
    --n;
  return n;
}

}  // namespace httpkit::ws
