// The epoll backend: readiness from epoll_wait, bytes by plain syscalls.
// The only file that knows epoll.
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "io/backend.hpp"
#include "io/event_loop.hpp"

namespace httpkit::io {
namespace {

uint32_t to_epoll(uint32_t events) {
  uint32_t e = EPOLLET;
  if (events & kReadable) e |= EPOLLIN;
  if (events & kWritable) e |= EPOLLOUT;
  // The kernel refuses EPOLLRDHUP beside EPOLLEXCLUSIVE (a listener has
  // no peer to hang up anyway).
  e |= (events & kExclusive) ? EPOLLEXCLUSIVE : EPOLLRDHUP;
  return e;
}

uint32_t from_epoll(uint32_t e) {
  uint32_t events = 0;
  if (e & EPOLLIN) events |= kReadable;
  if (e & EPOLLOUT) events |= kWritable;
  if (e & EPOLLRDHUP) events |= kPeerClosed;
  // A hang-up ends both directions: as good as failed for a writer.
  if (e & EPOLLHUP) events |= kPeerClosed | kFailed;
  if (e & EPOLLERR) events |= kFailed;
  return events;
}

IoResult from_syscall(ssize_t n) {
  if (n >= 0) return {IoStatus::done, std::size_t(n), 0};
  if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::again, 0, 0};
  return {IoStatus::failed, 0, errno};
}

}  // namespace

struct Backend::State {
  int epoll_fd = -1;
  std::vector<epoll_event> events;
  std::unique_ptr<char[]> read_buffer{new char[kReadBufferSize]};
};

Backend::Backend() : state_(std::make_unique<State>()) {
  state_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (state_->epoll_fd < 0)
    throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

Backend::~Backend() {
  close(state_->epoll_fd);
}

bool Backend::watch(int fd, uint32_t events, uint64_t token) {
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.u64 = token;
  return epoll_ctl(state_->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool Backend::rewatch(int fd, uint32_t events, uint64_t token) {
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.u64 = token;
  return epoll_ctl(state_->epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Backend::unwatch(int fd) {
  epoll_ctl(state_->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
}

void Backend::release(int) {}

int Backend::wait(std::span<ReadyEvent> out, int timeout_ms) {
  auto& events = state_->events;
  if (events.size() < out.size()) events.resize(out.size());
  int n = epoll_wait(state_->epoll_fd, events.data(), int(out.size()), timeout_ms);
  for (int i = 0; i < n; ++i)
    out[i] = {events[i].data.u64, from_epoll(events[i].events)};
  return n < 0 ? 0 : n;  // EINTR: nothing ready
}

IoResult Backend::receive(int fd, std::span<char>& bytes) {
  IoResult r = receive_into(fd, state_->read_buffer.get(), kReadBufferSize);
  bytes = {state_->read_buffer.get(), r.bytes};
  return r;
}

IoResult Backend::receive_into(int fd, char* buffer, std::size_t size) {
  ssize_t n;
  do
    n = recv(fd, buffer, size, 0);
  while (n < 0 && errno == EINTR);
  if (n == 0 && size > 0) return {IoStatus::closed, 0, 0};
  return from_syscall(n);
}

IoResult Backend::send(int fd, const iovec* iov, int count) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = std::size_t(count);
  ssize_t n;
  do
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return from_syscall(n);
}

IoResult Backend::send_file(int fd, int file_fd, off_t& offset, std::size_t count) {
  ssize_t n;
  do
    n = sendfile(fd, file_fd, &offset, std::min<std::size_t>(count, std::size_t(1) << 30));
  while (n < 0 && errno == EINTR);
  // Zero bytes of a non-empty range: the file shrank under us.
  if (n == 0 && count > 0) return {IoStatus::failed, 0, EIO};
  return from_syscall(n);
}

void Backend::submit() {}

}  // namespace httpkit::io
