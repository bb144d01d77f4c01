#include "http/content_coding.hpp"

#include "http/text.hpp"
#include "httpkit/header_view.hpp"

namespace httpkit::http {
namespace {

// A qvalue (RFC 9110 §12.4.2) in thousandths; -1 when malformed.
int parse_qvalue(std::string_view v) {
  if (v.empty() || v.size() > 5) return -1;
  if (v[0] == '1') {
    for (char c : v.substr(std::min<std::size_t>(v.size(), 2)))
      if (c != '0') return -1;
    return v.size() == 1 || v[1] == '.' ? 1000 : -1;
  }
  if (v[0] != '0') return -1;
  if (v.size() == 1) return 0;
  if (v[1] != '.') return -1;
  int q = 0, scale = 100;
  for (char c : v.substr(2)) {
    if (!text::is_digit(c)) return -1;
    q += (c - '0') * scale;
    scale /= 10;
  }
  return q;
}

}  // namespace

std::string_view to_string(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::gzip:
      return "gzip";
    case ContentCoding::deflate:
      return "deflate";
    case ContentCoding::br:
      return "br";
    case ContentCoding::zstd:
      return "zstd";
    case ContentCoding::identity:
      break;
  }
  return "identity";
}

std::optional<ContentCoding> coding_named(std::string_view name) {
  for (int c = 0; c < 5; ++c)
    if (iequals(name, to_string(ContentCoding(c)))) return ContentCoding(c);
  if (iequals(name, "x-gzip")) return ContentCoding::gzip;
  return std::nullopt;
}

ContentEncoding parse_content_encoding(std::string_view value, ContentEncoding so_far) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view item = text::trim_ows(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (item.empty() || so_far.kind == ContentEncoding::Kind::unknown) continue;
    const std::optional<ContentCoding> coding = coding_named(item);
    if (!coding) {
      so_far.kind = ContentEncoding::Kind::unknown;  // whatever else is listed
    } else if (*coding != ContentCoding::identity) {
      so_far.kind = so_far.kind == ContentEncoding::Kind::none ? ContentEncoding::Kind::one
                                                               : ContentEncoding::Kind::stacked;
      so_far.coding = *coding;
    }
  }
  return so_far;
}

CodingChoice choose_coding(std::string_view accept_encoding,
                           std::span<const ContentCoding> offered) {
  // The rating of each of our codings (identity at index 0); -1 unrated.
  int rating[5] = {-1, -1, -1, -1, -1};
  int star = -1;
  bool any = false;
  while (!accept_encoding.empty()) {
    const std::size_t comma = accept_encoding.find(',');
    std::string_view item = text::trim_ows(accept_encoding.substr(0, comma));
    accept_encoding =
        comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    if (item.empty()) continue;
    int q = 1000;
    const std::size_t semi = item.find(';');
    if (semi != std::string_view::npos) {
      std::string_view param = text::trim_ows(item.substr(semi + 1));
      item = text::trim_ows(item.substr(0, semi));
      if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
      q = parse_qvalue(text::trim_ows(param.substr(2)));
      if (q < 0) continue;  // a malformed entry is ignored, not fatal
    }
    any = true;
    if (item == "*") {
      star = q;
      continue;
    }
    if (const std::optional<ContentCoding> c = coding_named(item)) rating[int(*c)] = q;
  }
  CodingChoice choice;
  if (!any) return choice;
  // Identity is acceptable unless excluded ("identity;q=0", or "*;q=0"
  // without naming it); it competes with the codings only when named.
  choice.identity_allowed = rating[0] >= 0 ? rating[0] > 0 : star != 0;
  int best = 0;
  for (ContentCoding c : offered) {
    if (c == ContentCoding::identity) continue;
    const int q = rating[int(c)] >= 0 ? rating[int(c)] : star;
    if (q > best) {
      best = q;
      choice.coding = c;
    }
  }
  if (rating[0] > best) choice.coding = ContentCoding::identity;
  return choice;
}

}  // namespace httpkit::http
