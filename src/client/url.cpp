#include "client/url.hpp"

#include <arpa/inet.h>

#include "http/text.hpp"

namespace httpkit::client {
namespace {

using http::text::is_alnum;
using http::text::is_alpha;
using http::text::to_lower;

constexpr char kHex[] = "0123456789ABCDEF";

void append_percent(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

// Path and query bytes that may not appear raw in a request target.
bool needs_encoding(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return true;
  switch (c) {
    case '"':
    case '<':
    case '>':
    case '\\':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
      return true;
    default:
      return false;
  }
}

std::string encode_target_part(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (needs_encoding(c)) {
      append_percent(out, c);
    } else {
      out.push_back(char(c));
    }
  }
  return out;
}

using http::text::hex_value;

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(char(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The scheme before ':' if `s` starts with one (RFC 3986 §3.1), else empty.
std::string_view scheme_of(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return {};
  for (std::size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') return s.substr(0, i);
    if (!is_alnum(c) && c != '+' && c != '-' && c != '.') return {};
  }
  return {};
}

UrlResult fail(std::string why) {
  return {std::nullopt, std::move(why)};
}

bool valid_reg_name(std::string_view host) {
  for (char c : host) {
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return !host.empty();
}

// Splits "path?query#fragment" into path and query; the fragment is dropped.
void split_path_query(std::string_view rest, std::string_view& path, std::string_view& query,
                      bool& has_query) {
  std::size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  std::size_t q = rest.find('?');
  has_query = q != std::string_view::npos;
  path = rest.substr(0, q);
  query = has_query ? rest.substr(q + 1) : std::string_view{};
}

}  // namespace

std::string Url::authority() const {
  std::string out = ipv6_literal ? "[" + host + "]" : host;
  if (!default_port()) {
    out.push_back(':');
    out += std::to_string(port);
  }
  return out;
}

std::string Url::target() const {
  return query.empty() ? path : path + "?" + query;
}

std::string Url::str() const {
  return scheme + "://" + authority() + target();
}

bool Url::same_origin(const Url& other) const {
  return scheme == other.scheme && host == other.host && port == other.port;
}

UrlResult parse_url(std::string_view text) {
  // Surrounding whitespace is a common copy-paste accident; inner
  // whitespace is encoded below.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);

  std::string_view scheme = scheme_of(text);
  if (scheme.empty()) return fail("no scheme (expected http:// or https://)");
  Url url;
  for (char c : scheme)
    url.scheme.push_back(to_lower(c));
  if (url.scheme != "http" && url.scheme != "https" && url.scheme != "ws" && url.scheme != "wss")
    return fail("unsupported scheme '" + url.scheme + "'");
  std::string_view rest = text.substr(scheme.size() + 1);
  if (rest.substr(0, 2) != "//") return fail("missing '//' after the scheme");
  rest.remove_prefix(2);

  std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::size_t colon = userinfo.find(':');
    url.has_userinfo = true;
    url.user = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) url.password = percent_decode(userinfo.substr(colon + 1));
  }

  std::string_view host, port;
  if (!authority.empty() && authority[0] == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return fail("junk after the IPv6 address");
    if (!after.empty()) port = after.substr(1);
    in6_addr probe;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &probe) != 1)
      return fail("invalid IPv6 address '" + std::string(host) + "'");
    url.ipv6_literal = true;
  } else {
    std::size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (!valid_reg_name(host))
      return fail(host.empty() ? "no host" : "invalid host name '" + std::string(host) + "'");
  }
  for (char c : host)
    url.host.push_back(to_lower(c));

  url.port = url.tls() ? 443 : 80;
  if (!port.empty()) {
    uint64_t value = 0;
    if (http::text::parse_decimal(port, value) != http::text::Decimal::ok || value == 0 ||
        value > 65535)
      return fail("invalid port '" + std::string(port) + "'");
    url.port = uint16_t(value);
  }

  std::string_view path, query;
  bool has_query = false;
  split_path_query(rest, path, query, has_query);
  url.path = path.empty() ? "/" : encode_target_part(path);
  url.query = encode_target_part(query);
  return {std::move(url), {}};
}

std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      std::size_t slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      std::size_t next = in.find('/', 1);
      out.append(in.substr(0, next));
      in = next == std::string_view::npos ? std::string_view{} : in.substr(next);
    }
  }
  return out;
}

UrlResult resolve_reference(const Url& base, std::string_view ref) {
  ref = http::text::trim_ows(ref);
  if (!scheme_of(ref).empty()) return parse_url(ref);
  if (ref.starts_with("//")) return parse_url(base.scheme + ":" + std::string(ref));

  std::string_view path, query;
  bool has_query = false;
  split_path_query(ref, path, query, has_query);
  Url url = base;
  url.has_userinfo = false;
  url.user.clear();
  url.password.clear();
  if (path.empty()) {
    if (has_query) url.query = encode_target_part(query);
    return {std::move(url), {}};
  }
  std::string merged;
  if (path[0] == '/') {
    merged = std::string(path);
  } else {
    std::size_t slash = base.path.rfind('/');
    merged = base.path.substr(0, slash == std::string::npos ? 0 : slash + 1) + std::string(path);
  }
  url.path = encode_target_part(remove_dot_segments(merged));
  if (url.path.empty() || url.path[0] != '/') url.path.insert(0, "/");
  url.query = encode_target_part(query);
  return {std::move(url), {}};
}

void append_form_encoded(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (is_alnum(char(c)) || c == '*' || c == '-' || c == '.' || c == '_') {
      out.push_back(char(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      append_percent(out, c);
    }
  }
}

}  // namespace httpkit::client
