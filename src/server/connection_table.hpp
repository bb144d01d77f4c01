// Connections indexed by file descriptor. One table per process: every
// loop's descriptors are distinct, and each slot is touched only by the
// loop that accepted it. The array is reserved once, as big as the
// descriptor limit, and the kernel backs a page only when a slot on it is
// first used, so an unused slot costs no memory.
#pragma once

#include <cstddef>

#include "server/server_connection.hpp"

namespace httpkit::server {

class ConnectionTable {
 public:
  explicit ConnectionTable(std::size_t capacity);
  ~ConnectionTable();
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  std::size_t capacity() const { return capacity_; }
  bool fits(int fd) const { return fd >= 0 && std::size_t(fd) < capacity_; }
  ServerConnection& at(int fd) { return slots_[fd]; }

 private:
  ServerConnection* slots_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace httpkit::server
