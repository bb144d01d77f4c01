// Query strings and URL-encoded forms: percent-decoding and name/value pairs
// (application/x-www-form-urlencoded, as Ring's params middleware reads it).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace httpkit {

// Decodes %XX escapes (either hex case). A malformed or truncated escape
// ("%zz", "%4", "%") is kept as it was sent. With `plus_is_space`, '+'
// decodes to a space, as in forms and query strings.
std::string url_decode(std::string_view s, bool plus_is_space);

struct Param {
  std::string name;
  std::string value;
};

// Decoded pairs in the order they came, repeated names included.
class Params {
 public:
  using const_iterator = std::vector<Param>::const_iterator;

  // Splits on '&', then at the first '='; both sides are decoded with '+' as
  // space. Empty pieces are skipped; a piece without '=' has the value "".
  static Params parse(std::string_view query_or_form);

  // The first value for `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  // Every value for `name`, in order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  std::size_t size() const { return params_.size(); }
  bool empty() const { return params_.empty(); }
  const_iterator begin() const { return params_.begin(); }
  const_iterator end() const { return params_.end(); }

 private:
  std::vector<Param> params_;
};

}  // namespace httpkit
