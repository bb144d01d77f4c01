#include "raw_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace httpkit::test {
namespace {

int bound_socket(uint16_t& port, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  if (backlog >= 0 && listen(fd, backlog) != 0) throw std::runtime_error("listen");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

}  // namespace

RawServer::RawServer(Script script, int backlog) : script_(std::move(script)) {
  listen_fd_ = bound_socket(port_, backlog);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RawServer::~RawServer() {
  stop();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& t : workers)
    t.join();
  close(listen_fd_);
}

void RawServer::stop() {
  stopping_ = true;
}

void RawServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int index = accepted_.fetch_add(1);
    std::lock_guard lock(mutex_);
    workers_.emplace_back([this, fd, index] {
      script_(fd, index);
      close(fd);
    });
  }
}

std::string read_request(int fd, int timeout_ms) {
  std::string data;
  char buf[4096];
  std::size_t need = std::string::npos;
  for (;;) {
    std::size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos && need == std::string::npos) {
      need = end + 4;
      std::string head = data.substr(0, end);
      for (auto& ch : head)
        ch = char(tolower(ch));
      std::size_t cl = head.find("content-length:");
      if (cl != std::string::npos) need += std::stoul(head.substr(cl + 15));
    }
    if (need != std::string::npos && data.size() >= need) return data.substr(0, need);
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return "";
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return "";
    data.append(buf, std::size_t(n));
  }
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(std::size_t(n));
  }
  return true;
}

void reset_close(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

uint16_t closed_port() {
  uint16_t port = 0;
  int fd = bound_socket(port, -1);
  close(fd);
  return port;
}

}  // namespace httpkit::test
