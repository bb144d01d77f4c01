#include "io/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace httpkit::io {
namespace {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

Address resolve(const std::string& host, uint16_t port) {
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (host.empty() || host == "0.0.0.0" || inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    if (host.empty() || host == "0.0.0.0") v4->sin_addr.s_addr = htonl(INADDR_ANY);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof *v4;
    return a;
  }
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length = sizeof *v6;
    return a;
  }
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (getaddrinfo(h.c_str(), nullptr, &hints, &found) != 0 || !found)
    throw std::system_error(EINVAL, std::generic_category(), "cannot resolve " + host);
  std::memcpy(&a.storage, found->ai_addr, found->ai_addrlen);
  a.length = found->ai_addrlen;
  freeaddrinfo(found);
  if (a.storage.ss_family == AF_INET)
    v4->sin_port = htons(port);
  else
    v6->sin6_port = htons(port);
  return a;
}

int bound_socket(const std::string& host, uint16_t port, bool reuse_port) {
  Address a = resolve(host, port);
  int fd = socket(a.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a.storage), a.length) != 0) {
    int err = errno;
    close(fd);
    throw std::system_error(err, std::generic_category(),
                            "bind " + host + ":" + std::to_string(port));
  }
  return fd;
}

}  // namespace

int listen_tcp(const std::string& host, uint16_t port, bool reuse_port, int backlog) {
  int fd = bound_socket(host, port, reuse_port);
  if (listen(fd, backlog) != 0) {
    int err = errno;
    close(fd);
    throw std::system_error(err, std::generic_category(), "listen");
  }
  return fd;
}

int reserve_port(const std::string& host, uint16_t port) {
  return bound_socket(host, port, true);
}

uint16_t local_port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::size_t descriptor_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return std::size_t(rl.rlim_cur);
}

}  // namespace httpkit::io
