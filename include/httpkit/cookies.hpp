// Cookies (RFC 6265bis): reading the Cookie header, writing Set-Cookie.
//
//   auto session = httpkit::request_cookie(req, "session");
//   httpkit::SetCookie c{.name = "session", .value = token};
//   c.max_age = std::chrono::hours(24);
//   c.same_site = httpkit::SameSite::lax;
//   c.http_only = c.secure = true;
//   response.header("Set-Cookie", c.to_string());
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "httpkit/request.hpp"

namespace httpkit {

struct Cookie {
  std::string_view name;
  std::string_view value;  // without the optional surrounding quotes
};

// The pairs of a Cookie header value ("a=1; b=2"), in order. Pieces
// without '=' or with an empty name are skipped, as browsers do.
std::vector<Cookie> parse_cookies(std::string_view header_value);

// The first cookie called `name` among the request's Cookie headers.
std::optional<std::string_view> request_cookie(const Request& request, std::string_view name);

enum class SameSite { unset, strict, lax, none };

struct SetCookie {
  std::string name{};
  std::string value{};
  std::optional<std::chrono::seconds> max_age{};  // 0 or less: delete now
  std::optional<std::chrono::system_clock::time_point> expires{};
  std::string domain{};
  std::string path{};
  bool secure = false;
  bool http_only = false;
  bool partitioned = false;  // CHIPS; needs secure
  SameSite same_site = SameSite::unset;

  // The header value. Throws std::invalid_argument when the result would
  // be refused by browsers or could split the header: a name that is not
  // a token, a value or attribute with a control character, space, ';',
  // ',', '"' or '\\' (the value may be wrapped in quotes), SameSite=None
  // or Partitioned without Secure.
  std::string to_string() const;
};

}  // namespace httpkit
