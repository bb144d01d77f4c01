// Connections indexed by file descriptor. One table per process: every
// loop's descriptors are distinct, and each slot is touched only by the
// loop that accepted it. The array is reserved once, as big as the
// descriptor limit, and the kernel backs a page only when a slot on it is
// first used, so an unused slot costs no memory.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "io/stream.hpp"
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

  // The layers (TLS) under connections, by fd. A server without layers
  // never reserves the array; one with them pays a pointer per open
  // connection (the array's pages are backed as they are touched).
  void reserve_layers();
  io::StreamLayer* layer(int fd) const { return layers_ ? layers_[fd] : nullptr; }
  void set_layer(int fd, std::unique_ptr<io::StreamLayer> layer);
  std::unique_ptr<io::StreamLayer> take_layer(int fd) {
    if (!layers_) return nullptr;
    return std::unique_ptr<io::StreamLayer>(std::exchange(layers_[fd], nullptr));
  }

 private:
  ServerConnection* slots_ = nullptr;
  io::StreamLayer** layers_ = nullptr;  // each owned: set_layer deletes what it replaces
  std::size_t capacity_ = 0;
};

}  // namespace httpkit::server
