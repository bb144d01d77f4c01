// Absolute URLs as the client needs them (RFC 3986), and the reference
// resolution a redirect's Location needs (RFC 3986 §5.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpkit::client {

struct Url {
  std::string scheme;  // lower case: http, https, ws, wss
  std::string user;    // userinfo, percent-decoded
  std::string password;
  bool has_userinfo = false;
  std::string host;   // lower case; an IPv6 literal without brackets
  uint16_t port = 0;  // explicit or the scheme's default
  bool ipv6_literal = false;
  std::string path;   // "/" at least; percent-encoded as needed
  std::string query;  // without '?'; empty when none

  bool tls() const { return scheme == "https" || scheme == "wss"; }
  bool default_port() const { return port == (tls() ? 443 : 80); }
  // host[:port] as a Host header says it (brackets for IPv6, port if not default).
  std::string authority() const;
  // path[?query]: the origin-form request target.
  std::string target() const;
  // scheme://authority/path?query, without userinfo.
  std::string str() const;
  // Same scheme, host and port (RFC 6454 origin).
  bool same_origin(const Url& other) const;
};

struct UrlResult {
  std::optional<Url> url;
  std::string error;  // when !url: why, in a few words
};

// Parses an absolute http(s)/ws(s) URL. Spaces and bytes outside the URI
// character set in the path and query are percent-encoded, as browsers and
// curl do; the host must be ASCII (no IDN).
UrlResult parse_url(std::string_view text);

// Resolves `reference` (a Location value: absolute, //authority, /path,
// relative path or ?query) against `base`.
UrlResult resolve_reference(const Url& base, std::string_view reference);

// Removes "." and ".." segments (RFC 3986 §5.2.4).
std::string remove_dot_segments(std::string_view path);

// application/x-www-form-urlencoded (WHATWG): alnum and *-._ kept, space as
// '+', everything else %XX.
void append_form_encoded(std::string& out, std::string_view s);

}  // namespace httpkit::client
