#include "httpkit/params.hpp"

#include "http/text.hpp"

namespace httpkit {

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string decoded(s.size(), '\0');
  decoded.resize(http::text::percent_decode(s, decoded.data(), plus_is_space));
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
