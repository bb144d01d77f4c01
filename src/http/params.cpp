#include "httpkit/params.hpp"

#include "http/text.hpp"

namespace httpkit {
namespace {

using http::text::hex_value;

}  // namespace

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string decoded;
  decoded.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      const int high = hex_value(s[i + 1]);
      const int low = hex_value(s[i + 2]);
      if (high >= 0 && low >= 0) {
        decoded.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    decoded.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return decoded;
}

Params Params::parse(std::string_view query_or_form) {
  Params params;
  std::string_view rest = query_or_form;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view piece = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      params.params_.push_back({url_decode(piece, true), std::string{}});
    } else {
      params.params_.push_back(
          {url_decode(piece.substr(0, eq), true), url_decode(piece.substr(eq + 1), true)});
    }
  }
  return params;
}

std::optional<std::string_view> Params::get(std::string_view name) const {
  for (const Param& p : params_) {
    if (p.name == name) return std::string_view{p.value};
  }
  return std::nullopt;
}

std::vector<std::string_view> Params::get_all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const Param& p : params_) {
    if (p.name == name) values.emplace_back(p.value);
  }
  return values;
}

}  // namespace httpkit
