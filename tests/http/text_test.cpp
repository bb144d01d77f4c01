#include "http/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace httpkit::http::text {
namespace {

TEST(Text, IequalsIgnoresCaseOnEitherSide) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("content-length", "CONTENT-LENGTH"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("host", "hosts"));
  EXPECT_FALSE(iequals("host", "post"));
  // Bytes that differ only in bit 0x20 but are no letters are different.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("\x0d", "\x2d"));
  // The public one and the internal one are the same function.
  EXPECT_EQ(&text::iequals, &httpkit::iequals);
}

TEST(Text, CharacterClasses) {
  EXPECT_TRUE(is_token("GET"));
  EXPECT_TRUE(is_token("x-custom_header!#$%&'*+.^`|~"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("a b"));
  EXPECT_FALSE(is_token("a:b"));
  EXPECT_FALSE(is_token("a\"b"));
  EXPECT_TRUE(is_digit('7'));
  EXPECT_FALSE(is_digit('a'));
  EXPECT_TRUE(is_alpha('Q'));
  EXPECT_FALSE(is_alpha('1'));
  EXPECT_TRUE(is_alnum('1') && is_alnum('z'));
  EXPECT_FALSE(is_alnum('-'));
  EXPECT_TRUE(is_value_char('\t') && is_value_char(' ') && is_value_char('\x80'));
  EXPECT_FALSE(is_value_char('\r') || is_value_char('\x7f'));
  EXPECT_EQ(hex_value('f'), 15);
  EXPECT_EQ(hex_value('A'), 10);
  EXPECT_EQ(hex_value('g'), -1);
  EXPECT_EQ(to_lower('X'), 'x');
  EXPECT_EQ(to_lower('@'), '@');
}

TEST(Text, SafeFieldValues) {
  EXPECT_TRUE(is_safe_field_value("text/plain; charset=utf-8\t\x80"));
  EXPECT_FALSE(is_safe_field_value("a\r\nX-Injected: 1"));
  EXPECT_FALSE(is_safe_field_value("a\nb"));
  EXPECT_FALSE(is_safe_field_value(std::string_view("a\0b", 3)));
}

TEST(Text, ListElementsAreTrimmedAndEmptyOnesSkipped) {
  ListElements list(" ,a, b\t,,\tc d ,");
  std::string_view e;
  ASSERT_TRUE(list.next(e));
  EXPECT_EQ(e, "a");
  ASSERT_TRUE(list.next(e));
  EXPECT_EQ(e, "b");
  ASSERT_TRUE(list.next(e));
  EXPECT_EQ(e, "c d");
  EXPECT_FALSE(list.next(e));

  EXPECT_TRUE(list_has("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(list_has("CLOSE", "close"));
  EXPECT_FALSE(list_has("closed, x", "close"));
  EXPECT_FALSE(list_has("", "close"));
}

TEST(Text, ParseDecimal) {
  uint64_t v = 0;
  EXPECT_EQ(parse_decimal("0", v), Decimal::ok);
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(parse_decimal("00042", v), Decimal::ok);
  EXPECT_EQ(v, 42u);
  EXPECT_EQ(parse_decimal("18446744073709551615", v), Decimal::ok);
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_EQ(parse_decimal("18446744073709551616", v), Decimal::overflows);
  EXPECT_EQ(parse_decimal("99999999999999999999999", v), Decimal::overflows);
  EXPECT_EQ(parse_decimal("", v), Decimal::empty);
  EXPECT_EQ(parse_decimal("+1", v), Decimal::not_digits);
  EXPECT_EQ(parse_decimal("1 ", v), Decimal::not_digits);
  EXPECT_EQ(parse_decimal("5, 5", v), Decimal::not_digits);
  EXPECT_EQ(parse_decimal("0x10", v), Decimal::not_digits);
}

TEST(Text, ScansStopWhereTheClassEnds) {
  // Longer than 16 bytes, so the SSE2 paths run where there are any.
  const std::string value = std::string(40, 'v') + "\tmore" + std::string(20, 'w') + "\r\n";
  const char* begin = value.data();
  const char* end = begin + value.size();
  EXPECT_EQ(skip_value_chars(begin, end) - begin, static_cast<long>(value.size() - 2));
  EXPECT_EQ(skip_value_chars_except_tab(begin, end) - begin, 40);

  const std::string target = "/" + std::string(30, 'p') + "?q=1 HTTP/1.1";
  EXPECT_EQ(target[static_cast<std::size_t>(
                skip_target_chars(target.data(), target.data() + target.size()) - target.data())],
            ' ');
  const std::string with_del = std::string(20, 'a') + "\x7f";
  EXPECT_EQ(skip_value_chars(with_del.data(), with_del.data() + with_del.size()) - with_del.data(),
            20);
}

}  // namespace
}  // namespace httpkit::http::text
