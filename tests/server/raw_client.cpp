#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace httpkit::test {

RawClient::RawClient(uint16_t port, int timeout_ms) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
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

RawResponse RawClient::read_response(bool head_request) {
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
    for (char& ch : name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers.emplace(name, value);
  }
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

bool RawClient::closed_by_peer(int timeout_ms) {
  if (!buffer_.empty()) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  char c;
  ssize_t n = recv(fd_, &c, 1, MSG_PEEK);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

}  // namespace httpkit::test
