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
  std::string head;                                 // status line and headers, as received
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool has(const std::string& name) const { return headers.count(name) > 0; }
  std::string get(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// send() may run on one thread while another reads: a test can trickle
// bytes and wait for the answer at the same time.
class RawClient {
 public:
  // `receive_buffer` > 0 sets SO_RCVBUF before connecting (the kernel
  // doubles it and stops tuning it), so a response can outgrow the buffers.
  explicit RawClient(uint16_t port, int timeout_ms = 5000, int receive_buffer = 0);
  ~RawClient();
  RawClient(const RawClient&) = delete;

  void send(std::string_view bytes);
  // Reads one response (Content-Length or chunked); `head_request` for HEAD.
  RawResponse read_response(bool head_request = false);
  // Reads the status line and headers only; the body is left to read.
  RawResponse read_head();
  // Exactly n bytes (fewer only if the connection ends first).
  std::string read_exact(std::size_t n);
  // Waits for bytes, then returns at most `max` of them without waiting
  // for more; empty once the connection ends (or on the timeout).
  std::string read_some(std::size_t max);
  // True if the server closed the connection (read returns 0) within the timeout.
  bool closed_by_peer(int timeout_ms = 2000);
  // Waits until the server, running in this process, has read every byte
  // sent so far: this client's bytes are acknowledged and the server's end
  // of the connection holds none unread. False on timeout.
  bool wait_until_server_read(int timeout_ms = 5000);
  // Sets SO_SNDBUF on the server's end of this connection (found the same
  // way): with a small one, every read this client makes frees room that
  // wakes the server. Returns the size the kernel chose; 0 on timeout.
  std::size_t set_server_send_buffer(int bytes, int timeout_ms = 5000);
  // This socket's receive buffer as the kernel sizes it.
  std::size_t receive_buffer() const;
  bool ok() const { return fd_ >= 0; }
  // Closes with a reset (SO_LINGER 0), as a client that gives up does.
  void reset();

 private:
  bool fill();
  std::string take_line();
  int server_end();

  int fd_ = -1;
  int server_fd_ = -1;  // the server's descriptor for this connection, once found
  std::string buffer_;
};

// The most the kernel lets a TCP socket's send buffer grow to (tcp_wmem's
// maximum). A response larger than this plus the client's receive buffer
// cannot leave the server in one write.
std::size_t max_send_buffer();

}  // namespace httpkit::test
