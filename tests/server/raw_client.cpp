#include "raw_client.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace httpkit::test {

RawClient::RawClient(uint16_t port, int timeout_ms, int receive_buffer) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // Before connect(): the window scale is agreed in the handshake.
  if (receive_buffer > 0)
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd_);
    fd_ = -1;
    return;
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

void RawClient::reset() {
  if (fd_ < 0) return;
  const linger abort_on_close{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  close(fd_);
  fd_ = -1;
}

void RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close first; the reads tell
    bytes.remove_prefix(std::size_t(n));
  }
}

bool RawClient::fill() {
  char chunk[65536];
  ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer_.append(chunk, std::size_t(n));
  return true;
}

std::string RawClient::take_line() {
  for (;;) {
    auto eol = buffer_.find("\r\n");
    if (eol != std::string::npos) {
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 2);
      return line;
    }
    if (!fill()) throw std::runtime_error("connection ended inside a line");
  }
}

RawResponse RawClient::read_head() {
  RawResponse r;
  std::string status_line = take_line();
  r.head = status_line + "\r\n";
  if (status_line.size() < 12 || status_line.compare(0, 9, "HTTP/1.1 ") != 0)
    throw std::runtime_error("bad status line: " + status_line);
  r.status = std::stoi(status_line.substr(9, 3));
  for (;;) {
    std::string line = take_line();
    r.head += line + "\r\n";
    if (line.empty()) break;
    auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& ch : name)
      ch = char(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.erase(0, 1);
    r.headers.emplace(name, value);
  }
  return r;
}

RawResponse RawClient::read_response(bool head_request) {
  RawResponse r = read_head();
  if (head_request || r.status < 200 || r.status == 204 || r.status == 304) return r;
  if (r.has("content-length")) {
    std::size_t length = std::stoul(r.get("content-length"));
    while (buffer_.size() < length)
      if (!fill()) throw std::runtime_error("connection ended inside a body");
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else if (r.get("transfer-encoding") == "chunked") {
    for (;;) {
      std::size_t size = std::stoul(take_line(), nullptr, 16);
      if (size == 0) {
        while (!take_line().empty()) {
        }
        break;
      }
      while (buffer_.size() < size + 2)
        if (!fill()) throw std::runtime_error("connection ended inside a chunk");
      r.body += buffer_.substr(0, size);
      buffer_.erase(0, size + 2);
    }
  } else {
    while (fill()) {
    }
    r.body = std::move(buffer_);
    buffer_.clear();
  }
  return r;
}

std::string RawClient::read_exact(std::size_t n) {
  while (buffer_.size() < n)
    if (!fill()) break;
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, out.size());
  return out;
}

std::string RawClient::read_some(std::size_t max) {
  if (buffer_.empty() && !fill()) return {};
  std::string out = buffer_.substr(0, max);
  buffer_.erase(0, out.size());
  while (out.size() < max) {
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, std::min(sizeof chunk, max - out.size()), MSG_DONTWAIT);
    if (n <= 0) break;
    out.append(chunk, std::size_t(n));
  }
  return out;
}

bool RawClient::closed_by_peer(int timeout_ms) {
  if (!buffer_.empty()) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  char c;
  ssize_t n = recv(fd_, &c, 1, MSG_PEEK);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

namespace {

bool same_address(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_family == b.sin_family && a.sin_port == b.sin_port &&
         a.sin_addr.s_addr == b.sin_addr.s_addr;
}

// True if `fd` is a TCP/IPv4 socket from `local` to `peer`.
bool connects(int fd, const sockaddr_in& local, const sockaddr_in& peer) {
  sockaddr_in a{}, b{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || len != sizeof a) return false;
  len = sizeof b;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&b), &len) != 0 || len != sizeof b) return false;
  return same_address(a, local) && same_address(b, peer);
}

}  // namespace

// The tests run the server in this process, so its end of the connection
// is one of our descriptors: the socket whose addresses mirror ours.
int RawClient::server_end() {
  sockaddr_in mine{}, theirs{};
  socklen_t len = sizeof mine;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&mine), &len) != 0) return -1;
  len = sizeof theirs;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&theirs), &len) != 0) return -1;
  // Checked again each time: the server may have closed it and the number moved on.
  if (server_fd_ >= 0 && connects(server_fd_, theirs, mine)) return server_fd_;
  server_fd_ = -1;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::atoi(entry->d_name);
    if (fd != fd_ && fd != dirfd(dir) && connects(fd, theirs, mine)) {
      server_fd_ = fd;
      break;
    }
  }
  closedir(dir);
  return server_fd_;
}

bool RawClient::wait_until_server_read(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    // Acknowledged bytes are in the server's receive queue or already
    // read; only then does an empty queue mean the server read them.
    int unacknowledged = -1, unread = -1;
    int server = server_end();
    if (server >= 0 && ioctl(fd_, SIOCOUTQ, &unacknowledged) == 0 && unacknowledged == 0 &&
        ioctl(server, SIOCINQ, &unread) == 0 && unread == 0)
      return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::size_t RawClient::set_server_send_buffer(int bytes, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int server;
  while ((server = server_end()) < 0) {  // not accepted yet
    if (std::chrono::steady_clock::now() > deadline) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (setsockopt(server, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) return 0;
  int size = 0;
  socklen_t len = sizeof size;
  getsockopt(server, SOL_SOCKET, SO_SNDBUF, &size, &len);
  return std::size_t(size);
}

std::size_t RawClient::receive_buffer() const {
  int size = 0;
  socklen_t len = sizeof size;
  getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, &len);
  return std::size_t(size);
}

std::size_t max_send_buffer() {
  std::size_t min = 0, initial = 0, max = 0;
  std::ifstream("/proc/sys/net/ipv4/tcp_wmem") >> min >> initial >> max;
  return max;  // 0 if it cannot be read
}

}  // namespace httpkit::test
