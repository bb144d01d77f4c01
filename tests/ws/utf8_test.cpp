#include "ws/utf8.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace httpkit::ws {
namespace {

// An independent reading of RFC 3629 §3-4: decode, then check the range.
bool reference_valid(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra;
    uint32_t cp;
    uint32_t min;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // truncated
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

bool valid_in_pieces(std::string_view s, const std::vector<std::size_t>& cuts) {
  Utf8Validator v;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    v.feed(s.substr(from, cut - from));
    from = cut;
  }
  v.feed(s.substr(from));
  return v.complete();
}

const std::vector<std::string> kSamples = {
    "",
    "Hello-µ@ßöäüàá-UTF-8!!",
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",  // κόσμε (Autobahn 6.2)
    "\xf0\x9f\x98\x80 emoji",
    "\xef\xbf\xbf",      // U+FFFF
    "\xf4\x8f\xbf\xbf",  // U+10FFFF, the last one
    "\xed\x9f\xbf",      // U+D7FF, just below the surrogates
    "\xee\x80\x80",      // U+E000, just above
    "\xc0\xaf",          // overlong '/'
    "\xc1\xbf",          // overlong
    "\xe0\x80\xaf",      // overlong 3-byte
    "\xe0\x9f\xbf",      // overlong U+07FF
    "\xf0\x80\x80\xaf",  // overlong 4-byte
    "\xf0\x8f\xbf\xbf",  // overlong U+FFFF
    "\xed\xa0\x80",      // U+D800, a surrogate
    "\xed\xbf\xbf",      // U+DFFF
    "\xf4\x90\x80\x80",  // U+110000
    "\xf5\x80\x80\x80",  // F5 lead
    "\xff",
    "\x80",          // stray continuation
    "a\xe2\x82",     // truncated at the end
    "\xe2\x82\xac",  // €
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
    "edited",
    "0123456789abcdef0123456789\xc3\xa9",   // ASCII fast path then a 2-byte
    "0123456789abcdef\x80xxxxxxxxxxxxxxx",  // bad byte after 16 ASCII
};

TEST(Utf8, SamplesAgreeWithReference) {
  for (const std::string& s : kSamples) {
    EXPECT_EQ(is_valid_utf8(s), reference_valid(s)) << testing::PrintToString(s);
  }
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));
  EXPECT_FALSE(is_valid_utf8("a\xe2\x82"));
}

TEST(Utf8, EverySplitPointGivesTheSameAnswer) {
  for (const std::string& s : kSamples) {
    const bool whole = is_valid_utf8(s);
    for (std::size_t i = 0; i <= s.size(); ++i) {
      EXPECT_EQ(valid_in_pieces(s, {i}), whole) << testing::PrintToString(s) << " cut " << i;
      for (std::size_t j = i; j <= s.size(); ++j) {
        EXPECT_EQ(valid_in_pieces(s, {i, j}), whole) << testing::PrintToString(s);
      }
    }
    // Byte by byte.
    std::vector<std::size_t> all;
    for (std::size_t i = 1; i < s.size(); ++i)
      all.push_back(i);
    EXPECT_EQ(valid_in_pieces(s, all), whole);
  }
}

TEST(Utf8, AllTwoAndThreeByteSequences) {
  std::string s(2, '\0');
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      s[0] = static_cast<char>(a), s[1] = static_cast<char>(b);
      ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a << " " << b;
    }
  }
  s.assign(3, '\0');
  for (int a = 0xE0; a < 0x100; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) {
        s[0] = static_cast<char>(a), s[1] = static_cast<char>(b), s[2] = static_cast<char>(c);
        ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8, FourByteSequencesAtTheBoundaries) {
  const int edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  std::string s(4, '\0');
  for (int a = 0xF0; a < 0x100; ++a) {
    for (int b : edges) {
      for (int c : edges) {
        for (int d : edges) {
          s = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
               static_cast<char>(d)};
          ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

TEST(Utf8, FailsAtTheFirstBadByteAndStaysFailed) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed("abc\xce"));
  EXPECT_FALSE(v.complete());
  EXPECT_FALSE(v.feed("\x41"));  // not a continuation
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.feed("plain"));
  v.reset();
  EXPECT_TRUE(v.feed("plain"));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8, PrefixLengthNeverCutsACodePoint) {
  EXPECT_EQ(utf8_prefix_length("abc", 10), 3u);
  EXPECT_EQ(utf8_prefix_length("abcdef", 4), 4u);
  const std::string euro = "\xe2\x82\xac\xe2\x82\xac";  // €€
  EXPECT_EQ(utf8_prefix_length(euro, 5), 3u);
  EXPECT_EQ(utf8_prefix_length(euro, 3), 3u);
  EXPECT_EQ(utf8_prefix_length(euro, 2), 0u);
  EXPECT_EQ(utf8_prefix_length(euro, 6), 6u);
}

}  // namespace
}  // namespace httpkit::ws
