// The stream seam: a layer under the server's connections (here a byte
// scrambler standing in for TLS) carries HTTP/1 requests, a file body
// (sent by the layer, not sendfile) and a WebSocket echo, with the HTTP/1
// and WebSocket code unchanged, and Request::scheme() reports the layer.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "httpkit/channel.hpp"
#include "io/socket.hpp"
#include "io/stream.hpp"
#include "server/loop_server.hpp"

namespace httpkit::server {
namespace {

constexpr char kKey = 0x5a;

std::string scrambled(std::string_view bytes) {
  std::string out(bytes);
  for (char& ch : out)
    ch ^= kKey;
  return out;
}

std::atomic<int> layers_shut_down{0};

class ScramblingLayer final : public io::StreamLayer {
 public:
  io::IoResult receive(io::Stream& below, std::span<char>& bytes) override {
    const io::IoResult r = below.receive(bytes);
    for (char& ch : bytes)
      ch ^= kKey;
    return r;
  }
  // One byte out for one byte in, so "bytes taken" means the same above
  // and below.
  io::IoResult send(io::Stream& below, const iovec* iov, int count) override {
    std::string out;
    for (int i = 0; i < count; ++i)
      out += scrambled({static_cast<const char*>(iov[i].iov_base), iov[i].iov_len});
    return below.send(out);
  }
  io::IoResult send_file(io::Stream& below, int file_fd, off_t& offset,
                         std::size_t count) override {
    char buffer[4096];
    const ssize_t n = pread(file_fd, buffer, std::min(count, sizeof buffer), offset);
    if (n <= 0) return {io::IoStatus::failed, 0, EIO};
    const io::IoResult r = below.send(scrambled({buffer, std::size_t(n)}));
    if (r.done()) offset += off_t(r.bytes);
    return r;
  }
  void shutdown(io::Stream&) override { ++layers_shut_down; }
  bool secure() const override { return true; }
  bool holds_input() const override { return false; }
};

// A blocking client that scrambles what it sends and unscrambles what it reads.
class ScramblingClient {
 public:
  explicit ScramblingClient(uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~ScramblingClient() { close(fd_); }
  void send(std::string_view plain) {
    const std::string wire = scrambled(plain);
    ASSERT_EQ(::send(fd_, wire.data(), wire.size(), MSG_NOSIGNAL), ssize_t(wire.size()));
  }
  // Reads until `marker` has arrived, and then `after` bytes more.
  std::string read_until(std::string_view marker, std::size_t after = 0) {
    for (;;) {
      const std::size_t at = received_.find(marker);
      if (at != std::string::npos && received_.size() >= at + marker.size() + after) {
        std::string out = received_.substr(0, at + marker.size() + after);
        received_.erase(0, out.size());
        return out;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 5000) != 1) return "timeout: " + received_;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return "closed: " + received_;
      received_ += scrambled({buffer, std::size_t(n)});
    }
  }

 private:
  int fd_;
  std::string received_;
};

class StreamLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int listen_fd = io::listen_tcp("127.0.0.1", 0, false);
    port_ = io::local_port_of(listen_fd);
    shared_.layer_factory = [] { return std::make_unique<ScramblingLayer>(); };
    loop_ = std::make_unique<LoopServer>(shared_, listen_fd);
    thread_ = std::thread([this] { loop_->run(); });
  }
  void TearDown() override {
    loop_->begin_stop();
    thread_.join();
  }

  static Response handle(const Request& req) {
    if (req.path() == "/ws") {
      static const auto echo = [] {
        auto h = std::make_shared<ChannelHandlers>();
        h->on_receive = [](const ChannelPtr& ch, std::string_view m, bool) {
          ch->send(std::string(m));
        };
        return h;
      }();
      return as_channel(req, echo);
    }
    if (req.path() == "/file") return Response::file(file_path());
    return Response::text(std::string(req.scheme()) + " " + std::string(req.body()));
  }
  static std::string file_path() {
    static const std::string path = [] {
      char name[] = "/tmp/httpkit-layer-XXXXXX";
      const int fd = mkstemp(name);
      const std::string text(10000, 'f');
      EXPECT_EQ(write(fd, text.data(), text.size()), ssize_t(text.size()));
      close(fd);
      return std::string(name);
    }();
    return path;
  }

  SharedState shared_{&StreamLayerTest::handle, ServerOptions{}, 1000};
  std::unique_ptr<LoopServer> loop_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(StreamLayerTest, RequestsPipelinedThroughTheLayerSayHttps) {
  ScramblingClient client(port_);
  client.send(
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string first = client.read_until("\r\n\r\n", 11);
  EXPECT_NE(first.find("HTTP/1.1 200 OK"), std::string::npos) << first;
  EXPECT_TRUE(first.ends_with("https hello")) << first;
  const std::string second = client.read_until("\r\n\r\n", 6);
  EXPECT_TRUE(second.ends_with("https ")) << second;
}

TEST_F(StreamLayerTest, FileBodiesGoThroughTheLayer) {
  ScramblingClient client(port_);
  client.send("GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string response = client.read_until("\r\n\r\n", 10000);
  EXPECT_NE(response.find("Content-Length: 10000\r\n"), std::string::npos) << response;
  EXPECT_TRUE(response.ends_with(std::string(10000, 'f')));
}

TEST_F(StreamLayerTest, WebSocketEchoesThroughTheLayerAndClosesWithTheLayersGoodbye) {
  const int before = layers_shut_down.load();
  {
    ScramblingClient client(port_);
    client.send(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    const std::string head = client.read_until("\r\n\r\n");
    ASSERT_NE(head.find("HTTP/1.1 101 Switching Protocols"), std::string::npos) << head;
    // A masked text frame "hi" (a zero mask key leaves the payload as is).
    client.send(std::string("\x81\x82\0\0\0\0hi", 8));
    EXPECT_EQ(client.read_until("hi"), std::string("\x81\x02hi", 4));
    // A close frame, code 1000: echoed, then the server hangs up.
    client.send(std::string("\x88\x82\0\0\0\0\x03\xe8", 8));
    EXPECT_EQ(client.read_until("\x03\xe8"), std::string("\x88\x02\x03\xe8", 4));
  }
  for (int i = 0; i < 500 && layers_shut_down.load() == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT(layers_shut_down.load(), before);
}

}  // namespace
}  // namespace httpkit::server
