#include "httpkit/cookies.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/app/fake_request.hpp"

namespace httpkit {
namespace {

TEST(Cookies, ParsesPairsInOrder) {
  const auto c = parse_cookies(" a=1; b = two ;c=\"quoted\"; bare; =nameless; d=");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].name, "a");
  EXPECT_EQ(c[0].value, "1");
  EXPECT_EQ(c[1].name, "b");
  EXPECT_EQ(c[1].value, "two");
  EXPECT_EQ(c[2].value, "quoted");
  EXPECT_EQ(c[3].name, "d");
  EXPECT_EQ(c[3].value, "");
}

TEST(Cookies, RequestCookieLooksAtEveryCookieHeader) {
  test::FakeRequest req("GET", "/", {{"Cookie", "a=1"}, {"cookie", "session=abc; b=2"}});
  EXPECT_EQ(request_cookie(*req, "session"), "abc");
  EXPECT_EQ(request_cookie(*req, "a"), "1");
  EXPECT_FALSE(request_cookie(*req, "Session").has_value());  // names are case-sensitive
}

TEST(Cookies, SetCookieWithEveryAttribute) {
  SetCookie c{.name = "id", .value = "a3fWa"};
  c.max_age = std::chrono::seconds(2592000);
  c.expires = std::chrono::system_clock::from_time_t(1445412480);  // 2015-10-21 07:28:00
  c.domain = "example.com";
  c.path = "/docs";
  c.secure = c.http_only = c.partitioned = true;
  c.same_site = SameSite::none;
  EXPECT_EQ(c.to_string(),
            "id=a3fWa; Max-Age=2592000; Expires=Wed, 21 Oct 2015 07:28:00 GMT; "
            "Domain=example.com; Path=/docs; Secure; HttpOnly; SameSite=None; Partitioned");
  SetCookie gone{.name = "id", .value = ""};
  gone.max_age = std::chrono::seconds(-5);
  gone.same_site = SameSite::strict;
  EXPECT_EQ(gone.to_string(), "id=; Max-Age=0; SameSite=Strict");
  SetCookie lax{.name = "q", .value = "\"x\""};
  lax.same_site = SameSite::lax;
  EXPECT_EQ(lax.to_string(), "q=\"x\"; SameSite=Lax");
}

TEST(Cookies, RefusesWhatWouldSplitOrBeRejected) {
  EXPECT_THROW((SetCookie{.name = "a b", .value = "1"}.to_string()), std::invalid_argument);
  EXPECT_THROW((SetCookie{.name = "a", .value = "1;x=2"}.to_string()), std::invalid_argument);
  EXPECT_THROW((SetCookie{.name = "a", .value = "1\r\nX: y"}.to_string()), std::invalid_argument);
  EXPECT_THROW((SetCookie{.name = "a", .value = "a,b"}.to_string()), std::invalid_argument);
  SetCookie path{.name = "a", .value = "1"};
  path.path = "/x;Domain=evil";
  EXPECT_THROW(path.to_string(), std::invalid_argument);
  SetCookie none{.name = "a", .value = "1"};
  none.same_site = SameSite::none;
  EXPECT_THROW(none.to_string(), std::invalid_argument);
  SetCookie part{.name = "a", .value = "1"};
  part.partitioned = true;
  EXPECT_THROW(part.to_string(), std::invalid_argument);
}

}  // namespace
}  // namespace httpkit
