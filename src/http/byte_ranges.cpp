#include "http/byte_ranges.hpp"

#include <algorithm>

#include "http/text.hpp"
#include "httpkit/header_view.hpp"

namespace httpkit::http {
namespace {

bool parse_number(std::string_view s, uint64_t& value) {
  return !s.empty() && text::parse_decimal(s, value) == text::Decimal::ok;
}

}  // namespace

RangeRequest parse_range(std::string_view header, uint64_t size, std::size_t max_ranges) {
  RangeRequest out;
  header = text::trim_ows(header);
  const std::size_t eq = header.find('=');
  if (eq == std::string_view::npos || !iequals(text::trim_ows(header.substr(0, eq)), "bytes"))
    return out;
  std::string_view specs = header.substr(eq + 1);
  std::vector<ByteRange> ranges;
  bool any_spec = false;
  while (!specs.empty()) {
    const std::size_t comma = specs.find(',');
    const std::string_view spec = text::trim_ows(specs.substr(0, comma));
    specs = comma == std::string_view::npos ? std::string_view{} : specs.substr(comma + 1);
    if (spec.empty()) continue;
    const std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return {};
    any_spec = true;
    if (ranges.size() == max_ranges) return {};  // too many: serve it whole
    uint64_t first = 0, last = 0;
    if (dash == 0) {  // suffix: the last N bytes
      if (!parse_number(spec.substr(1), last)) return {};
      if (last == 0 || size == 0) continue;  // unsatisfiable on its own
      const uint64_t n = std::min(last, size);
      ranges.push_back({size - n, n});
      continue;
    }
    if (!parse_number(spec.substr(0, dash), first)) return {};
    const std::string_view end = spec.substr(dash + 1);
    if (end.empty()) {
      last = size ? size - 1 : 0;
    } else {
      if (!parse_number(end, last) || last < first) return {};  // invalid: ignore Range
      last = std::min(last, size ? size - 1 : 0);
    }
    if (first >= size) continue;  // this one is unsatisfiable
    ranges.push_back({first, last - first + 1});
  }
  if (!any_spec) return {};
  if (ranges.empty()) {
    out.status = RangeStatus::unsatisfiable;
    return out;
  }
  // Merge overlapping or adjacent ranges (kept in the order asked when
  // they do not touch): many small overlapping ranges are an attack shape.
  std::vector<ByteRange> sorted = ranges;
  std::sort(sorted.begin(), sorted.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  bool touching = false;
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i].first <= sorted[i - 1].first + sorted[i - 1].length) touching = true;
  if (touching) {
    std::vector<ByteRange> merged;
    for (const ByteRange& r : sorted) {
      if (!merged.empty() && r.first <= merged.back().first + merged.back().length) {
        const uint64_t end =
            std::max(merged.back().first + merged.back().length, r.first + r.length);
        merged.back().length = end - merged.back().first;
      } else {
        merged.push_back(r);
      }
    }
    ranges = std::move(merged);
  }
  out.status = RangeStatus::satisfiable;
  out.ranges = std::move(ranges);
  return out;
}

}  // namespace httpkit::http
