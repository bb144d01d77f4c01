// The text of HTTP: byte classes of its grammar (RFC 9110 §5.6, RFC 9112),
// case-insensitive comparison, comma-separated lists, decimal numbers and
// the fast scans the parsers run over them. One definition of each, shared
// by src/http, src/ws and src/client.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "httpkit/header_view.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace httpkit::http::text {

enum CharClass : uint8_t {
  kTokenChar = 1 << 0,   // tchar
  kTargetChar = 1 << 1,  // VCHAR: what a request-target may hold
  kValueChar = 1 << 2,   // field-vchar / obs-text / SP / HTAB
  kHostChar = 1 << 3,    // reg-name / IP-literal / ":" port
  kDigit = 1 << 4,       // DIGIT
  kAlpha = 1 << 5,       // ALPHA
};

inline constexpr std::array<uint8_t, 256> kClasses = [] {
  std::array<uint8_t, 256> t{};
  auto add = [&t](std::string_view chars, uint8_t cls) {
    for (unsigned char c : chars) {
      t[c] |= cls;
    }
  };
  for (int c = 0; c < 256; ++c) {
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (digit) t[c] |= kDigit;
    if (alpha) t[c] |= kAlpha;
    if (digit || alpha) t[c] |= kTokenChar | kHostChar;
    if (c > 0x20 && c < 0x7f) t[c] |= kTargetChar | kValueChar;
    if (c >= 0x80) t[c] |= kValueChar;
  }
  add("!#$%&'*+-.^_`|~", kTokenChar);
  add(" \t", kValueChar);
  add("-._~%!$&'()*+,;=:[]", kHostChar);
  return t;
}();

inline bool is(char c, CharClass cls) {
  return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}
inline bool is_token_char(char c) {
  return is(c, kTokenChar);
}
inline bool is_value_char(char c) {
  return is(c, kValueChar);
}
inline bool is_digit(char c) {
  return is(c, kDigit);
}
inline bool is_alpha(char c) {
  return is(c, kAlpha);
}
inline bool is_alnum(char c) {
  return is(c, static_cast<CharClass>(kAlpha | kDigit));
}
inline bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

// -1 when `c` is not a hex digit.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const char lower = static_cast<char>(c | 0x20);
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return -1;
}

// Decodes %XX escapes of `in` into `out` (room for in.size() bytes), '+'
// to a space if asked (forms, queries); a '%' not followed by two hex
// digits stays as it is. Returns the decoded length.
inline std::size_t percent_decode(std::string_view in, char* out, bool plus_is_space) {
  char* o = out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      const int high = hex_value(in[i + 1]);
      const int low = hex_value(in[i + 2]);
      if (high >= 0 && low >= 0) {
        *o++ = static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    *o++ = plus_is_space && c == '+' ? ' ' : c;
  }
  return std::size_t(o - out);
}

inline char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// ASCII case-insensitive equality, either side in any case: the public one
// (header_view.hpp), so that the library has a single meaning of it.
using httpkit::iequals;

// True when every byte of `s` is of class `cls` (true for an empty `s`).
inline bool all_of(std::string_view s, CharClass cls) {
  // No early exit: a table load and an AND per byte, one branch at the end.
  uint8_t common = cls;
  for (unsigned char c : s) {
    common &= kClasses[c];
  }
  return common != 0;
}

// token = 1*tchar (RFC 9110 §5.6.2).
inline bool is_token(std::string_view s) {
  return !s.empty() && all_of(s, kTokenChar);
}

// What a writer may put in a field value without ending the field or the
// head early: anything but CR, LF and NUL (RFC 9110 §5.5).
inline bool is_safe_field_value(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_ows(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// Walks a comma-separated field value (RFC 9110 §5.6.1): elements are
// trimmed of whitespace and empty elements are skipped, as recipients must.
class ListElements {
 public:
  explicit ListElements(std::string_view list) : rest_(list) {}

  bool next(std::string_view& element) {
    while (!rest_.empty()) {
      const std::size_t comma = rest_.find(',');
      element = trim_ows(rest_.substr(0, comma));
      rest_ = comma == std::string_view::npos ? std::string_view{} : rest_.substr(comma + 1);
      if (!element.empty()) return true;
    }
    return false;
  }

 private:
  std::string_view rest_;
};

// True when the comma list `list` has an element equal to `token`, case aside.
inline bool list_has(std::string_view list, std::string_view token) {
  ListElements elements(list);
  std::string_view element;
  while (elements.next(element)) {
    if (iequals(element, token)) return true;
  }
  return false;
}

enum class Decimal : uint8_t { ok, empty, not_digits, overflows };

// 1*DIGIT into `value`, refusing anything else (signs, spaces, lists) and
// values past UINT64_MAX. `value` is meaningful only when the answer is ok.
inline Decimal parse_decimal(std::string_view s, uint64_t& value) {
  if (s.empty()) return Decimal::empty;
  value = 0;
  for (char c : s) {
    if (!is_digit(c)) return Decimal::not_digits;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return Decimal::overflows;
    value = value * 10 + digit;
  }
  return Decimal::ok;
}

// First byte in [p, end) that may not appear in a request-target (anything
// but VCHAR), or `end`. Targets run to a few hundred bytes, so 16 at a time.
inline const char* skip_target_chars(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7f);
  while (end - p >= 16) {
    // Signed compares: bytes >= 0x80 are negative, so they fail `> 0x20`.
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(v, space), _mm_cmplt_epi8(v, del));
    const unsigned bad = ~static_cast<unsigned>(_mm_movemask_epi8(ok)) & 0xffffu;
    if (bad != 0) return p + __builtin_ctz(bad);
    p += 16;
  }
#endif
  while (p < end && is(*p, kTargetChar)) {
    ++p;
  }
  return p;
}

// First byte in [p, end) that is a control character (HTAB included) or DEL,
// or `end`. The caller decides about HTAB, which is legal in field values.
inline const char* skip_value_chars_except_tab(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i below_space = _mm_set1_epi8(0x20);
  const __m128i minus_one = _mm_set1_epi8(-1);
  const __m128i del = _mm_set1_epi8(0x7f);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Control bytes are the non-negative ones below 0x20; obs-text is negative.
    const __m128i ctl = _mm_and_si128(_mm_cmpgt_epi8(v, minus_one), _mm_cmplt_epi8(v, below_space));
    const __m128i bad = _mm_or_si128(ctl, _mm_cmpeq_epi8(v, del));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(bad));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == 0x7f) break;
    ++p;
  }
  return p;
}

// First byte in [p, end) that ends a field value or a reason phrase: a
// control character other than HTAB, or DEL; `end` when there is none.
inline const char* skip_value_chars(const char* p, const char* end) {
  for (;;) {
    p = skip_value_chars_except_tab(p, end);
    if (p == end || *p != '\t') return p;
    ++p;
  }
}

}  // namespace httpkit::http::text
