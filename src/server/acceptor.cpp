#include "server/acceptor.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "io/container_of.hpp"
#include "server/loop_server.hpp"
#include "server/server_log.hpp"

namespace httpkit::server {
namespace {

constexpr uint64_t kRetryMs = 100;

}  // namespace

ListenSocket::~ListenSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Acceptor::Acceptor(io::EventLoop& loop, LoopServer& server, std::shared_ptr<ListenSocket> socket,
                   bool layered, bool shared)
    : loop_(loop),
      server_(server),
      socket_(std::move(socket)),
      listen_fd_(socket_->fd()),
      layered_(layered) {
  retry_.self = this;
  retry_.node.fire = &Acceptor::on_retry;
  const uint32_t events = io::kReadable | (shared ? io::kExclusive : 0u);
  loop_.add(listen_fd_, events, loop_.register_kind(&Acceptor::on_listener_event, this));
}

Acceptor::~Acceptor() {
  close();
}

void Acceptor::on_listener_event(void* self, int, uint32_t) {
  static_cast<Acceptor*>(self)->accept_all();
}

void Acceptor::on_retry(io::TimerNode* node) {
  io::container_of<&RetryTimer::node>(node).self->accept_all();
}

// Leaves the rest in the backlog. A close on this loop resumes at once; the
// timer covers closes on the process's other loops and descriptors freed
// elsewhere.
void Acceptor::pause() {
  paused_ = true;
  loop_.timers().arm(retry_.node, loop_.now_ms(), kRetryMs);
}

void Acceptor::accept_all() {
  if (listen_fd_ < 0) return;
  paused_ = false;
  for (;;) {
    if (!server_.has_room()) {
      // Once per time the limit is reached, not per retry.
      if (!at_limit_) log_event(server_.options(), server_events::connection_limit);
      at_limit_ = true;
      return pause();
    }
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause();
      return;  // EAGAIN: the backlog is empty
    }
    at_limit_ = false;
    server_.adopt(fd, layered_);
  }
}

void Acceptor::close() {
  if (listen_fd_ < 0) return;
  loop_.remove(listen_fd_);
  socket_.reset();
  listen_fd_ = -1;
  paused_ = false;
  loop_.timers().cancel(retry_.node);
}

}  // namespace httpkit::server
