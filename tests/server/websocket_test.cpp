// WebSocket channels over real sockets: handshake, echo, close handshake,
// failures with their close codes, timeouts, and pub/sub across loops.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <chrono>
#include <mutex>
#include <thread>

#include "httpkit/channel.hpp"
#include "httpkit/topic.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"
#include "ws/frame.hpp"

namespace httpkit::test {
namespace {

using namespace std::chrono_literals;

const char* kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

std::string client_frame(ws::Opcode op, std::string_view payload, bool fin = true) {
  std::string out;
  ws::OutgoingFrame f;
  f.opcode = op;
  f.fin = fin;
  f.mask = ws::MaskKey{1, 2, 3, 4};
  ws::append_frame(out, f, payload);
  return out;
}

struct Frame {
  int opcode = -1;
  std::string payload;
  uint16_t close_code() const {
    return payload.size() >= 2 ? uint16_t((uint8_t(payload[0]) << 8) | uint8_t(payload[1])) : 0;
  }
};

// Reads one unmasked server frame through RawClient's buffered reads.
Frame read_frame(RawClient& c) {
  Frame f;
  std::string h = c.read_exact(2);
  if (h.size() < 2) return f;
  f.opcode = uint8_t(h[0]) & 0x0f;
  uint64_t len = uint8_t(h[1]) & 0x7f;
  if (len == 126) {
    std::string e = c.read_exact(2);
    len = (uint8_t(e[0]) << 8) | uint8_t(e[1]);
  } else if (len == 127) {
    std::string e = c.read_exact(8);
    len = 0;
    for (char ch : e) len = (len << 8) | uint8_t(ch);
  }
  f.payload = c.read_exact(len);
  return f;
}

std::shared_ptr<ChannelHandlers> echo() {
  auto h = std::make_shared<ChannelHandlers>();
  h->on_receive = [](const ChannelPtr& ch, std::string_view m, bool binary) {
    binary ? ch->send_binary(std::string(m)) : ch->send(std::string(m));
  };
  return h;
}

RawResponse upgrade(RawClient& c) {
  c.send(kUpgrade);
  return c.read_response(/*head_request=*/true);
}

TEST(WebSocket, HandshakeEchoAndCloseHandshake) {
  auto handlers = echo();
  std::atomic<int> closes{0};
  std::atomic<CloseStatus> status{CloseStatus::unknown};
  handlers->on_close = [&](const ChannelPtr& ch, CloseStatus s) {
    EXPECT_TRUE(ch->is_websocket());
    status = s;
    ++closes;
  };
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  RawResponse r = upgrade(c);
  ASSERT_EQ(r.status, 101);
  EXPECT_EQ(r.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  c.send(client_frame(ws::Opcode::text, "hello") + client_frame(ws::Opcode::binary, "\x01\x02"));
  Frame a = read_frame(c), b = read_frame(c);
  EXPECT_EQ(a.opcode, 1);
  EXPECT_EQ(a.payload, "hello");
  EXPECT_EQ(b.opcode, 2);
  // Fragmented, with a ping in between: reassembled, ping answered first.
  c.send(client_frame(ws::Opcode::text, "frag", false) + client_frame(ws::Opcode::ping, "p") +
         client_frame(ws::Opcode::continuation, "ment"));
  Frame pong = read_frame(c);
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(pong.payload, "p");
  EXPECT_EQ(read_frame(c).payload, "fragment");
  std::string close_payload = "\x0f\xa0" "bye";  // 4000
  c.send(client_frame(ws::Opcode::close, close_payload));
  Frame echo_close = read_frame(c);
  EXPECT_EQ(echo_close.opcode, 8);
  EXPECT_EQ(echo_close.close_code(), 4000);
  EXPECT_TRUE(c.closed_by_peer());
  for (int i = 0; i < 100 && closes == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(closes.load(), 1);
  EXPECT_EQ(status.load(), CloseStatus::unknown);  // 4000 is an application code
}

struct Failure {
  const char* name;
  std::string bytes;
  uint16_t code;
};

class WebSocketFailure : public ::testing::TestWithParam<Failure> {};

TEST_P(WebSocketFailure, ClosesWithTheRfcCode) {
  auto handlers = echo();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  c.send(GetParam().bytes);
  Frame f = read_frame(c);
  EXPECT_EQ(f.opcode, 8);
  EXPECT_EQ(f.close_code(), GetParam().code);
  EXPECT_TRUE(c.closed_by_peer());
}

std::string unmasked(std::string_view payload) {
  std::string out;
  ws::OutgoingFrame f;
  f.opcode = ws::Opcode::text;
  ws::append_frame(out, f, payload);
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Server, WebSocketFailure,
    ::testing::Values(
        Failure{"unmasked", unmasked("x"), 1002},
        Failure{"reserved_opcode", std::string("\x83\x80\x01\x02\x03\x04", 6), 1002},
        Failure{"rsv2", std::string("\xa1\x80\x01\x02\x03\x04", 6), 1002},
        Failure{"fragmented_ping", client_frame(ws::Opcode::ping, "x", false), 1002},
        Failure{"big_ping", client_frame(ws::Opcode::ping, std::string(126, 'p')), 1002},
        Failure{"bad_utf8", client_frame(ws::Opcode::text, "\xc3\x28"), 1007},
        Failure{"utf8_split_across_fragments",
                client_frame(ws::Opcode::text, "ok\xe2\x82", false) +
                    client_frame(ws::Opcode::continuation, "\x28"),
                1007},
        Failure{"continuation_first", client_frame(ws::Opcode::continuation, "x"), 1002},
        Failure{"too_big", std::string("\x82\xff\x00\x00\x00\x00\x01\x00\x00\x00\x01\x02\x03\x04",
                                       14),
                1009}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(WebSocket, BadHandshakesGet400Or426) {
  auto handlers = echo();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  {
    RawClient c(server.port());
    c.send("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 426);
    EXPECT_EQ(r.get("sec-websocket-version"), "13");
  }
  {
    RawClient c(server.port());
    c.send("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 400);
  }
}

TEST(WebSocket, ServerCloseWaitsForThePeersCloseFrame) {
  std::promise<ChannelPtr> opened;
  auto handlers = echo();
  handlers->on_open = [&](const ChannelPtr& ch) { opened.set_value(ch); };
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  ChannelPtr ch = opened.get_future().get();
  EXPECT_TRUE(ch->close(1001, "going"));
  Frame f = read_frame(c);
  EXPECT_EQ(f.close_code(), 1001);
  EXPECT_EQ(f.payload.substr(2), "going");
  EXPECT_FALSE(ch->open());
  EXPECT_FALSE(ch->send("late"));
  c.send(client_frame(ws::Opcode::close, "\x03\xe9"));
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(WebSocket, PingsFindDeadPeers) {
  ServerOptions o = test_options();
  o.ws_ping_interval = 100ms;
  o.ws_pong_timeout = 100ms;
  auto handlers = echo();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); }, o);
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  Frame ping = read_frame(c);
  EXPECT_EQ(ping.opcode, 9);
  c.send(client_frame(ws::Opcode::pong, ""));  // alive: the next ping comes
  EXPECT_EQ(read_frame(c).opcode, 9);
  // No answer this time: the server hangs up.
  EXPECT_TRUE(c.closed_by_peer(2000));
}

TEST(WebSocket, IdleTimeoutClosesWith1001) {
  ServerOptions o = test_options();
  o.ws_idle_timeout = 150ms;
  auto handlers = echo();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); }, o);
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  Frame f = read_frame(c);
  EXPECT_EQ(f.close_code(), 1001);
}

TEST(Topic, PublishReachesEverySubscriberOnEveryLoop) {
  Topic topic;
  auto handlers = std::make_shared<ChannelHandlers>();
  handlers->on_open = [&](const ChannelPtr& ch) { topic.subscribe(ch); };
  ServerOptions o = test_options();
  o.threads = 3;
  TestServer server([&](const Request& r) { return as_channel(r, handlers); }, o);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<RawClient>(server.port()));
    ASSERT_EQ(upgrade(*clients.back()).status, 101);
  }
  for (int i = 0; i < 200 && topic.size() < 12; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(topic.size(), 12u);
  std::thread([&] { topic.publish("news"); }).join();
  for (auto& c : clients) EXPECT_EQ(read_frame(*c).payload, "news");
  clients.resize(6);  // half leave
  std::this_thread::sleep_for(50ms);
  topic.publish("more");
  for (auto& c : clients) EXPECT_EQ(read_frame(*c).payload, "more");
  for (int i = 0; i < 100 && topic.size() != 6; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(topic.size(), 6u);
}

}  // namespace
}  // namespace httpkit::test
