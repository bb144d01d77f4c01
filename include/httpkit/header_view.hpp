// A header field as it lies in the request bytes: two views, no copies.
#pragma once

#include <cstddef>
#include <string_view>

namespace httpkit {

struct HeaderView {
  std::string_view name;   // as sent (case preserved)
  std::string_view value;  // surrounding whitespace stripped
};

// ASCII case-insensitive comparison, the way HTTP compares field names.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i], y = b[i];
    if (x != y && (x | 0x20) != (y | 0x20)) return false;
    if (x != y && ((x | 0x20) < 'a' || (x | 0x20) > 'z')) return false;
  }
  return true;
}

}  // namespace httpkit
