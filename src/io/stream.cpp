#include "io/stream.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace httpkit::io {

bool Stream::secure() const {
  return layer_ && layer_->secure();
}

IoResult Stream::receive(std::span<char>& bytes) {
  if (layer_) {
    Stream below(*loop_, fd_);
    return layer_->receive(below, bytes);
  }
  return loop_->backend().receive(fd_, bytes);
}

IoResult Stream::send(const iovec* iov, int count) {
  if (layer_) {
    Stream below(*loop_, fd_);
    return layer_->send(below, iov, count);
  }
  return loop_->backend().send(fd_, iov, count);
}

IoResult Stream::send(std::string_view bytes) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  return send(&iov, 1);
}

IoResult Stream::send(std::string_view head, std::string_view body) {
  iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                  {const_cast<char*>(body.data()), body.size()}};
  return send(iov, body.empty() ? 1 : 2);
}

IoResult Stream::send_file(int file_fd, off_t& offset, std::size_t count) {
  if (layer_) {
    Stream below(*loop_, fd_);
    return layer_->send_file(below, file_fd, offset, count);
  }
  return loop_->backend().send_file(fd_, file_fd, offset, count);
}

void Stream::shutdown() {
  if (!layer_) return;
  Stream below(*loop_, fd_);
  layer_->shutdown(below);
}

void Stream::close() {
  if (fd_ < 0) return;
  loop_->backend().release(fd_);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace httpkit::io
