// A blocking test client that speaks raw bytes, so tests control framing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace httpkit::test {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers, as received
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool has(const std::string& name) const { return headers.count(name) > 0; }
  std::string get(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawClient {
 public:
  explicit RawClient(uint16_t port, int timeout_ms = 5000);
  ~RawClient();
  RawClient(const RawClient&) = delete;

  void send(std::string_view bytes);
  // Reads one response (Content-Length or chunked); `head_request` for HEAD.
  RawResponse read_response(bool head_request = false);
  // Exactly n bytes (fewer only if the connection ends first).
  std::string read_exact(std::size_t n);
  // True if the server closed the connection (read returns 0) within the timeout.
  bool closed_by_peer(int timeout_ms = 2000);
  bool ok() const { return fd_ >= 0; }

 private:
  bool fill();
  std::string take_line();

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace httpkit::test
