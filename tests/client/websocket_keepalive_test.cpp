// The WebSocket client's pongs and keep-alive: on_pong for the answers to
// ping(), a ping after ping_interval of silence, and a dead peer (no pong
// within ping_timeout) closed as abnormal.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "httpkit/client.hpp"
#include "raw_server.hpp"
#include "server/test_server.hpp"
#include "ws/frame.hpp"
#include "ws/handshake.hpp"
#include "ws_echo_channel.hpp"

namespace httpkit {
namespace {

using namespace std::chrono_literals;

std::string ws_url(uint16_t port) {
  return "ws://127.0.0.1:" + std::to_string(port) + "/";
}

struct Pongs {
  std::mutex mutex;
  std::vector<std::string> payloads;
  std::promise<std::pair<CloseStatus, std::string>> closed;
  std::promise<void> opened;

  WebSocketHandlers handlers() {
    WebSocketHandlers h;
    h.on_open = [this](WebSocket&) { opened.set_value(); };
    h.on_pong = [this](WebSocket&, std::string_view payload) {
      std::lock_guard lock(mutex);
      payloads.emplace_back(payload);
    };
    h.on_close = [this](WebSocket&, CloseStatus status, std::string_view reason) {
      closed.set_value({status, std::string(reason)});
    };
    return h;
  }
  std::size_t count(std::string_view payload) {
    std::lock_guard lock(mutex);
    return std::size_t(std::count(payloads.begin(), payloads.end(), payload));
  }
};

// Ends a raw peer's loop when the test ends, early or not.
struct StopOnExit {
  std::atomic<bool>& stop;
  ~StopOnExit() { stop = true; }
};

// Answers the upgrade, then runs `then(fd)`: a peer that is alive at the
// TCP level but never answers a ping.
test::RawServer silent_peer(std::function<void(int)> then) {
  return test::RawServer([then](int fd, int) {
    std::string head = test::read_request(fd);
    const std::size_t at = head.find("Sec-WebSocket-Key: ");
    if (at == std::string::npos) return;
    const std::string key = head.substr(at + 19, head.find("\r\n", at) - at - 19);
    test::write_all(fd,
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                        ws::compute_accept_key(key) + "\r\n\r\n");
    then(fd);
  });
}

TEST(WebSocketKeepAlive, OnPongGetsTheAnswerToPing) {
  test::TestServer server(test::echo_channel);
  Pongs pongs;  // outlives the client, whose loop may still call it
  Client client;
  auto ws = client.websocket({.url = ws_url(server.port())}, pongs.handlers());
  ASSERT_EQ(pongs.opened.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(ws->ping("are you there"));
  for (int i = 0; i < 500 && pongs.count("are you there") == 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(pongs.count("are you there"), 1u);
  ws->close();
}

TEST(WebSocketKeepAlive, IdleConnectionIsPingedAndStaysOpen) {
  test::TestServer server(test::echo_channel);
  Pongs pongs;  // outlives the client, whose loop may still call it
  Client client;
  auto ws = client.websocket(
      {.url = ws_url(server.port()), .ping_interval = 100ms, .ping_timeout = 2000ms},
      pongs.handlers());
  ASSERT_EQ(pongs.opened.get_future().wait_for(5s), std::future_status::ready);
  std::this_thread::sleep_for(750ms);
  const std::size_t keepalives = pongs.count("httpkit-keepalive");
  EXPECT_GE(keepalives, 3u);  // about one per 100 ms of silence
  EXPECT_LE(keepalives, 8u);
  EXPECT_TRUE(ws->open());
  ws->close();
}

TEST(WebSocketKeepAlive, NoPongClosesTheConnection) {
  std::atomic<bool> stop{false};
  auto peer = silent_peer([&](int) {
    while (!stop)
      std::this_thread::sleep_for(10ms);  // reads nothing, answers nothing
  });
  StopOnExit stopper{stop};
  Pongs pongs;  // outlives the client, whose loop may still call it
  Client client;
  const auto started = std::chrono::steady_clock::now();
  auto ws = client.websocket({.url = ws_url(peer.port()),
                              .permessage_deflate = false,
                              .ping_interval = 100ms,
                              .ping_timeout = 200ms},
                             pongs.handlers());
  auto closed = pongs.closed.get_future();
  ASSERT_EQ(closed.wait_for(5s), std::future_status::ready);
  auto [status, reason] = closed.get();
  const auto took = std::chrono::steady_clock::now() - started;
  stop = true;
  EXPECT_EQ(status, CloseStatus::abnormal);
  EXPECT_NE(reason.find("no pong within 200 ms"), std::string::npos) << reason;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  EXPECT_FALSE(ws->open());
}

TEST(WebSocketKeepAlive, TrafficFromThePeerPostponesThePing) {
  std::atomic<bool> stop{false};
  std::atomic<int> pings_seen{0};
  auto peer = silent_peer([&](int fd) {
    // A message every 50 ms; pings are counted, never answered.
    std::string frame;
    ws::OutgoingFrame f;
    f.opcode = ws::Opcode::text;
    ws::append_frame(frame, f, "tick");
    char buf[512];
    while (!stop) {
      test::write_all(fd, frame);
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        for (ssize_t i = 0; i < n; ++i)
          pings_seen += (uint8_t(buf[i]) == 0x89);
      }
    }
  });
  StopOnExit stopper{stop};
  Pongs pongs;  // outlives the client, whose loop may still call it
  Client client;
  // The peer writes every 50 ms; an interval 8 times that leaves room for
  // a loaded host's scheduling.
  auto ws = client.websocket({.url = ws_url(peer.port()),
                              .permessage_deflate = false,
                              .ping_interval = 400ms,
                              .ping_timeout = 2000ms},
                             pongs.handlers());
  ASSERT_EQ(pongs.opened.get_future().wait_for(5s), std::future_status::ready);
  std::this_thread::sleep_for(1200ms);
  EXPECT_TRUE(ws->open());
  EXPECT_EQ(pings_seen.load(), 0);
  stop = true;
}

}  // namespace
}  // namespace httpkit
