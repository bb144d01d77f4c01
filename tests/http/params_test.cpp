#include "httpkit/params.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace httpkit {
namespace {

TEST(UrlDecode, PercentEscapesInEitherCase) {
  EXPECT_EQ(url_decode("a%20b", false), "a b");
  EXPECT_EQ(url_decode("%2f%2F", false), "//");
  EXPECT_EQ(url_decode("%e2%82%AC", false), "\xe2\x82\xac");
  EXPECT_EQ(url_decode("%00", false), std::string(1, '\0'));
  EXPECT_EQ(url_decode("%25", false), "%");
  EXPECT_EQ(url_decode("%2525", false), "%25");  // decoded once only
  EXPECT_EQ(url_decode("", false), "");
}

TEST(UrlDecode, PlusIsASpaceOnlyWhenAsked) {
  EXPECT_EQ(url_decode("a+b", true), "a b");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_decode("%2B", true), "+");
}

TEST(UrlDecode, MalformedEscapesAreKept) {
  EXPECT_EQ(url_decode("%zz", false), "%zz");
  EXPECT_EQ(url_decode("%4", false), "%4");
  EXPECT_EQ(url_decode("%", false), "%");
  EXPECT_EQ(url_decode("100%", true), "100%");
  EXPECT_EQ(url_decode("%g1%41", false), "%g1A");
  EXPECT_EQ(url_decode("%%41", false), "%A");
  EXPECT_EQ(url_decode("%+1", true), "% 1");
}

std::vector<std::pair<std::string, std::string>> pairs(const Params& params) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Param& p : params) {
    out.emplace_back(p.name, p.value);
  }
  return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(Params, SplitsDecodesAndKeepsOrder) {
  const Params p = Params::parse("b=2&a=1&b=3");
  EXPECT_EQ(pairs(p), (Pairs{{"b", "2"}, {"a", "1"}, {"b", "3"}}));
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(p.get("b"), "2");
  EXPECT_EQ(p.get_all("b"), (std::vector<std::string_view>{"2", "3"}));
  EXPECT_EQ(p.get("a"), "1");
  EXPECT_FALSE(p.get("c").has_value());
  EXPECT_TRUE(p.get_all("c").empty());
  EXPECT_TRUE(p.contains("a"));
  EXPECT_FALSE(p.contains("A"));  // names are case-sensitive
}

TEST(Params, DecodesNamesAndValues) {
  const Params p = Params::parse("first+name=J%C3%B6rg+M&q=a%26b%3Dc&x%5B%5D=1");
  EXPECT_EQ(pairs(p), (Pairs{{"first name", "J\xc3\xb6rg M"}, {"q", "a&b=c"}, {"x[]", "1"}}));
}

TEST(Params, EmptyPiecesAndMissingValues) {
  EXPECT_EQ(pairs(Params::parse("")), Pairs{});
  EXPECT_EQ(pairs(Params::parse("&&")), Pairs{});
  EXPECT_EQ(pairs(Params::parse("&a&&b=&")), (Pairs{{"a", ""}, {"b", ""}}));
  EXPECT_EQ(pairs(Params::parse("a==b")), (Pairs{{"a", "=b"}}));  // split at the first '='
  EXPECT_EQ(pairs(Params::parse("=v")), (Pairs{{"", "v"}}));
  EXPECT_TRUE(Params::parse("flag").contains("flag"));
  EXPECT_EQ(Params::parse("flag").get("flag"), "");
  EXPECT_TRUE(Params{}.empty());
}

TEST(Params, MalformedEscapesPassThrough) {
  EXPECT_EQ(pairs(Params::parse("p=100%&q=%zz")), (Pairs{{"p", "100%"}, {"q", "%zz"}}));
}

}  // namespace
}  // namespace httpkit
