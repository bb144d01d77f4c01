// A header field as it lies in the request bytes: two views, no copies.
#pragma once

#include <cstddef>
#include <string_view>

namespace httpkit {

struct HeaderView {
  std::string_view name;   // as sent (case preserved)
  std::string_view value;  // surrounding whitespace stripped
};

// ASCII case-insensitive comparison, the way HTTP compares field names and
// tokens: either side may be in any case; bytes outside A-Z/a-z must match
// exactly. The library's one definition (src/http/text.hpp uses it too).
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    const unsigned folded = x | 0x20u;
    if (folded != (y | 0x20u) || folded < 'a' || folded > 'z') return false;
  }
  return true;
}

}  // namespace httpkit
