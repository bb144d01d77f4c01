#include "server/connection_table.hpp"

#include <sys/mman.h>

#include <new>

namespace httpkit::server {

ConnectionTable::ConnectionTable(std::size_t capacity) : capacity_(capacity) {
  // Anonymous pages read as zero and are backed on first write; a default
  // ServerConnection is all zeroes but for fd = -1, which no one reads before
  // accept() fills the slot.
  void* memory = mmap(nullptr, capacity * sizeof(ServerConnection), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  slots_ = static_cast<ServerConnection*>(memory);
}

ConnectionTable::~ConnectionTable() {
  if (layers_) {
    for (std::size_t fd = 0; fd < capacity_; ++fd)
      delete layers_[fd];
    munmap(layers_, capacity_ * sizeof(io::StreamLayer*));
  }
  munmap(slots_, capacity_ * sizeof(ServerConnection));
}

void ConnectionTable::reserve_layers() {
  if (layers_) return;
  void* memory = mmap(nullptr, capacity_ * sizeof(io::StreamLayer*), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  layers_ = static_cast<io::StreamLayer**>(memory);
}

void ConnectionTable::set_layer(int fd, std::unique_ptr<io::StreamLayer> layer) {
  if (!layers_) return;
  delete layers_[fd];
  layers_[fd] = layer.release();
}

}  // namespace httpkit::server
