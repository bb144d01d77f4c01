// From an embedded member back to the object that holds it: how a fired
// timer finds its connection without a pointer of its own (which would
// cost every idle connection 8 bytes).
//
//   ServerConnection& c = io::container_of<&ServerConnection::timer>(node);
#pragma once

#include <cstddef>

namespace httpkit::io {

template <class>
struct member_of;
template <class Holder, class Member>
struct member_of<Member Holder::*> {
  using holder = Holder;
};

template <auto Field, class Member>
auto& container_of(Member* member) {
  using Holder = typename member_of<decltype(Field)>::holder;
  // Measured once on a real object: offsetof is only defined for
  // standard-layout types, and a holder with a unique_ptr need not be one.
  static const std::ptrdiff_t offset = [] {
    const Holder probe{};
    return reinterpret_cast<const char*>(&(probe.*Field)) - reinterpret_cast<const char*>(&probe);
  }();
  return *reinterpret_cast<Holder*>(reinterpret_cast<char*>(member) - offset);
}

}  // namespace httpkit::io
