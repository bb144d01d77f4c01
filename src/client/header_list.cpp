#include "httpkit/client.hpp"

namespace httpkit {

HeaderList& HeaderList::operator=(const HeaderList& other) {
  if (this == &other) return *this;
  bytes_ = other.bytes_;
  views_ = other.views_;
  rebase(other.bytes_.data());
  return *this;
}

HeaderList& HeaderList::operator=(HeaderList&& other) noexcept {
  if (this == &other) return *this;
  const char* old_base = other.bytes_.data();
  bytes_ = std::move(other.bytes_);
  views_ = std::move(other.views_);
  rebase(old_base);  // a short string moves by copy: its views must follow
  other.bytes_.clear();
  other.views_.clear();
  return *this;
}

void HeaderList::rebase(const char* old_base) {
  const char* base = bytes_.data();
  if (base == old_base) return;
  for (HeaderView& v : views_) {
    v.name = {base + (v.name.data() - old_base), v.name.size()};
    v.value = {base + (v.value.data() - old_base), v.value.size()};
  }
}

void HeaderList::add(std::string_view name, std::string_view value) {
  const char* old_base = bytes_.data();
  const std::size_t name_at = bytes_.size();
  bytes_.append(name);
  bytes_.append(value);
  rebase(old_base);
  const char* base = bytes_.data();
  views_.push_back({{base + name_at, name.size()}, {base + name_at + name.size(), value.size()}});
}

void HeaderList::clear() {
  bytes_.clear();
  views_.clear();
}

std::optional<std::string_view> HeaderList::get(std::string_view name) const {
  for (const HeaderView& v : views_) {
    if (iequals(v.name, name)) return v.value;
  }
  return std::nullopt;
}

std::vector<std::string_view> HeaderList::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const HeaderView& v : views_) {
    if (iequals(v.name, name)) out.push_back(v.value);
  }
  return out;
}

}  // namespace httpkit
