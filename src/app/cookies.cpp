#include "httpkit/cookies.hpp"

#include <stdexcept>

#include "http/response_writer.hpp"
#include "http/text.hpp"

namespace httpkit {
namespace {

using http::text::trim_ows;

// cookie-octet (RFC 6265 §4.1.1): visible ASCII but DQUOTE, ',', ';', '\\'.
bool is_cookie_octet(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

bool valid_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  for (char c : v)
    if (!is_cookie_octet(c)) return false;
  return true;
}

// An attribute value: no control characters and no ';'.
bool valid_attribute(std::string_view v) {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ';') return false;
  }
  return true;
}

}  // namespace

std::vector<Cookie> parse_cookies(std::string_view header_value) {
  std::vector<Cookie> cookies;
  while (!header_value.empty()) {
    const std::size_t semi = header_value.find(';');
    const std::string_view piece = trim_ows(header_value.substr(0, semi));
    header_value =
        semi == std::string_view::npos ? std::string_view{} : header_value.substr(semi + 1);
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = trim_ows(piece.substr(0, eq));
    std::string_view value = trim_ows(piece.substr(eq + 1));
    if (name.empty()) continue;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    cookies.push_back({name, value});
  }
  return cookies;
}

std::optional<std::string_view> request_cookie(const Request& request, std::string_view name) {
  for (const HeaderView& h : request.headers()) {
    if (!iequals(h.name, "cookie")) continue;
    for (const Cookie& c : parse_cookies(h.value))
      if (c.name == name) return c.value;
  }
  return std::nullopt;
}

std::string SetCookie::to_string() const {
  if (name.empty() || !http::text::is_token(name))
    throw std::invalid_argument("cookie name is not a token: " + name);
  if (!valid_value(value)) throw std::invalid_argument("cookie value has a forbidden character");
  if (!valid_attribute(domain) || !valid_attribute(path))
    throw std::invalid_argument("cookie Domain or Path has a control character or ';'");
  if (same_site == SameSite::none && !secure)
    throw std::invalid_argument("SameSite=None needs Secure");
  if (partitioned && !secure) throw std::invalid_argument("Partitioned needs Secure");

  std::string out = name + "=" + value;
  if (max_age) out += "; Max-Age=" + std::to_string(max_age->count() < 0 ? 0 : max_age->count());
  if (expires) {
    char date[29];
    http::HttpDate::format(std::chrono::system_clock::to_time_t(*expires), date);
    out += "; Expires=";
    out.append(date, 29);
  }
  if (!domain.empty()) out += "; Domain=" + domain;
  if (!path.empty()) out += "; Path=" + path;
  if (secure) out += "; Secure";
  if (http_only) out += "; HttpOnly";
  switch (same_site) {
    case SameSite::strict:
      out += "; SameSite=Strict";
      break;
    case SameSite::lax:
      out += "; SameSite=Lax";
      break;
    case SameSite::none:
      out += "; SameSite=None";
      break;
    case SameSite::unset:
      break;
  }
  if (partitioned) out += "; Partitioned";
  return out;
}

}  // namespace httpkit
