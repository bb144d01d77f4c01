#include "client/url.hpp"

#include <gtest/gtest.h>

#include "client/redirect.hpp"

namespace httpkit::client {
namespace {

Url must_parse(std::string_view s) {
  UrlResult r = parse_url(s);
  EXPECT_TRUE(r.url) << s << ": " << r.error;
  return r.url.value_or(Url{});
}

TEST(Url, ParsesTheParts) {
  Url u = must_parse("HTTP://User:p%40ss@Example.COM:8080/a/b?x=1&y=2#frag");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.path, "/a/b");
  EXPECT_EQ(u.query, "x=1&y=2");
  EXPECT_TRUE(u.has_userinfo);
  EXPECT_EQ(u.user, "User");
  EXPECT_EQ(u.password, "p@ss");
  EXPECT_EQ(u.authority(), "example.com:8080");
  EXPECT_EQ(u.str(), "http://example.com:8080/a/b?x=1&y=2");
}

TEST(Url, DefaultsAndIpv6) {
  Url u = must_parse("https://[::1]/");
  EXPECT_TRUE(u.ipv6_literal);
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.authority(), "[::1]");
  Url v = must_parse("http://h");
  EXPECT_EQ(v.path, "/");
  EXPECT_EQ(v.target(), "/");
  Url w = must_parse("http://[::1]:8080?q");
  EXPECT_EQ(w.authority(), "[::1]:8080");
  EXPECT_EQ(w.target(), "/?q");
}

TEST(Url, EncodesWhatCannotGoRaw) {
  Url u = must_parse("http://h/a b/é?q=a b");
  EXPECT_EQ(u.path, "/a%20b/%C3%A9");
  EXPECT_EQ(u.query, "q=a%20b");
}

TEST(Url, RejectsWithAReason) {
  EXPECT_FALSE(parse_url("example.com/x").url);
  EXPECT_NE(parse_url("ftp://h/").error.find("unsupported scheme"), std::string::npos);
  EXPECT_FALSE(parse_url("http://").url);
  EXPECT_FALSE(parse_url("http://h:0/").url);
  EXPECT_FALSE(parse_url("http://h:65536/").url);
  EXPECT_FALSE(parse_url("http://h:x/").url);
  EXPECT_FALSE(parse_url("http://[::1/").url);
  EXPECT_FALSE(parse_url("http://[zz]/").url);
  EXPECT_FALSE(parse_url("http://bad host/").url);
  EXPECT_FALSE(parse_url("http:/h/").url);
}

TEST(Url, ResolvesReferences) {
  Url base = must_parse("http://a/b/c/d;p?q");
  // RFC 3986 §5.4.1 normal examples.
  EXPECT_EQ(resolve_reference(base, "g").url->str(), "http://a/b/c/g");
  EXPECT_EQ(resolve_reference(base, "./g").url->str(), "http://a/b/c/g");
  EXPECT_EQ(resolve_reference(base, "g/").url->str(), "http://a/b/c/g/");
  EXPECT_EQ(resolve_reference(base, "/g").url->str(), "http://a/g");
  EXPECT_EQ(resolve_reference(base, "//g").url->str(), "http://g/");
  EXPECT_EQ(resolve_reference(base, "?y").url->str(), "http://a/b/c/d;p?y");
  EXPECT_EQ(resolve_reference(base, "g?y").url->str(), "http://a/b/c/g?y");
  EXPECT_EQ(resolve_reference(base, "..").url->str(), "http://a/b/");
  EXPECT_EQ(resolve_reference(base, "../g").url->str(), "http://a/b/g");
  EXPECT_EQ(resolve_reference(base, "../../g").url->str(), "http://a/g");
  EXPECT_EQ(resolve_reference(base, "../../../g").url->str(), "http://a/g");
  EXPECT_EQ(resolve_reference(base, "https://x:1/y").url->str(), "https://x:1/y");
}

TEST(Url, FormEncoding) {
  std::string out;
  append_form_encoded(out, "a b&c=d/é*-._~");
  EXPECT_EQ(out, "a+b%26c%3Dd%2F%C3%A9*-._%7E");
}

TEST(Redirect, MethodRules) {
  Url here = must_parse("http://a/x");
  for (int status : {301, 302, 303}) {
    auto s = next_hop(status, "/y", "POST", here, true, 0, 10);
    EXPECT_EQ(s.action, RedirectStep::Action::follow);
    EXPECT_EQ(s.method, "GET") << status;
    EXPECT_FALSE(s.send_body);
    EXPECT_EQ(next_hop(status, "/y", "HEAD", here, true, 0, 10).method, "HEAD");
  }
  for (int status : {307, 308}) {
    auto s = next_hop(status, "/y", "PUT", here, true, 0, 10);
    EXPECT_EQ(s.method, "PUT");
    EXPECT_TRUE(s.send_body);
  }
  EXPECT_EQ(next_hop(304, "/y", "GET", here, true, 0, 10).action, RedirectStep::Action::none);
  EXPECT_EQ(next_hop(302, std::nullopt, "GET", here, true, 0, 10).action,
            RedirectStep::Action::none);
  EXPECT_EQ(next_hop(302, "/y", "GET", here, false, 0, 10).action, RedirectStep::Action::none);
  EXPECT_EQ(next_hop(302, "/y", "GET", here, true, 10, 10).action, RedirectStep::Action::too_many);
  EXPECT_EQ(next_hop(302, "ftp://x/", "GET", here, true, 0, 10).action,
            RedirectStep::Action::bad_location);
}

TEST(Redirect, CrossOrigin) {
  Url here = must_parse("http://a/x");
  EXPECT_FALSE(next_hop(302, "/y", "GET", here, true, 0, 10).cross_origin);
  EXPECT_TRUE(next_hop(302, "http://b/y", "GET", here, true, 0, 10).cross_origin);
  EXPECT_TRUE(next_hop(302, "https://a/y", "GET", here, true, 0, 10).cross_origin);
  EXPECT_TRUE(next_hop(302, "http://a:81/y", "GET", here, true, 0, 10).cross_origin);
}

}  // namespace
}  // namespace httpkit::client
