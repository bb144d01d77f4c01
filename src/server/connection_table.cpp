#include "server/connection_table.hpp"

#include <sys/mman.h>
#include <sys/resource.h>

#include <new>

namespace httpkit::server {

std::size_t descriptor_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return std::size_t(rl.rlim_cur);
}

ConnectionTable::ConnectionTable(std::size_t capacity) : capacity_(capacity) {
  // Anonymous pages read as zero and are backed on first write; a default
  // Connection is all zeroes but for fd = -1, which no one reads before
  // accept() fills the slot.
  void* memory = mmap(nullptr, capacity * sizeof(Connection), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  slots_ = static_cast<Connection*>(memory);
}

ConnectionTable::~ConnectionTable() { munmap(slots_, capacity_ * sizeof(Connection)); }

}  // namespace httpkit::server
