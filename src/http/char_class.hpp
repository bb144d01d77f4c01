// Byte classes of the HTTP grammar (RFC 9110 §5.6, RFC 9112) and the scans
// built on them. Internal to src/http: the request parser and the chunked
// decoder share one definition of "token", "field value" and "hex digit".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace httpkit::http::ascii {

enum CharClass : uint8_t {
  kTokenChar = 1 << 0,   // tchar
  kTargetChar = 1 << 1,  // VCHAR: what a request-target may hold
  kValueChar = 1 << 2,   // field-vchar / obs-text / SP / HTAB
  kHostChar = 1 << 3,    // reg-name / IP-literal / ":" port
};

inline constexpr std::array<uint8_t, 256> kClasses = [] {
  std::array<uint8_t, 256> t{};
  auto add = [&t](std::string_view chars, uint8_t cls) {
    for (unsigned char c : chars) {
      t[c] |= cls;
    }
  };
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum) t[c] |= kTokenChar | kHostChar;
    if (c > 0x20 && c < 0x7f) t[c] |= kTargetChar | kValueChar;
    if (c >= 0x80) t[c] |= kValueChar;
  }
  add("!#$%&'*+-.^_`|~", kTokenChar);
  add(" \t", kValueChar);
  add("-._~%!$&'()*+,;=:[]", kHostChar);
  return t;
}();

inline bool is(unsigned char c, CharClass cls) {
  return (kClasses[c] & cls) != 0;
}
inline bool is_token_char(char c) {
  return is(static_cast<unsigned char>(c), kTokenChar);
}
inline bool is_value_char(char c) {
  return is(static_cast<unsigned char>(c), kValueChar);
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

inline char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Case-insensitive equality; `lower` must already be lower case.
inline bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (to_lower(s[i]) != lower[i]) return false;
  }
  return true;
}

inline bool all_of(std::string_view s, CharClass cls) {
  // No early exit: a table load and an AND per byte, one branch at the end.
  uint8_t common = cls;
  for (unsigned char c : s) {
    common &= kClasses[c];
  }
  return common != 0;
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
  while (p < end && is(static_cast<unsigned char>(*p), kTargetChar)) {
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

}  // namespace httpkit::http::ascii
