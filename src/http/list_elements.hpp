// Walks a comma-separated field value (RFC 9110 §5.6.1): elements are
// trimmed of whitespace and empty elements are skipped, as recipients must.
// Shared by the request and response framing rules.
#pragma once

#include <string_view>

#include "http/char_class.hpp"

namespace httpkit::http {

class ListElements {
 public:
  explicit ListElements(std::string_view list) : rest_(list) {}

  bool next(std::string_view& element) {
    while (!rest_.empty()) {
      const std::size_t comma = rest_.find(',');
      element = ascii::trim_ows(rest_.substr(0, comma));
      rest_ = comma == std::string_view::npos ? std::string_view{} : rest_.substr(comma + 1);
      if (!element.empty()) return true;
    }
    return false;
  }

 private:
  std::string_view rest_;
};

}  // namespace httpkit::http
