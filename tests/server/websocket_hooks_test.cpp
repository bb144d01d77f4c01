// The WebSocket hooks of ChannelHandlers (on_pong, on_close with the peer's
// code and reason, on_handshake_error) and websocket_handshake_check.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <string>

#include "httpkit/channel.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"
#include "ws/frame.hpp"

namespace httpkit::test {
namespace {

using namespace std::chrono_literals;

const char* kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

std::string client_frame(ws::Opcode op, std::string_view payload) {
  std::string out;
  ws::OutgoingFrame f;
  f.opcode = op;
  f.mask = ws::MaskKey{9, 8, 7, 6};
  ws::append_frame(out, f, payload);
  return out;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string p;
  p += char(code >> 8);
  p += char(code & 0xff);
  p += reason;
  return p;
}

template <typename T>
T await(std::future<T>& f) {
  EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
  return f.get();
}

TEST(WebSocketHooks, OnPongSeesThePeersPong) {
  std::promise<std::string> pong;
  auto h = std::make_shared<ChannelHandlers>();
  h->on_pong = [&](const ChannelPtr&, std::string_view payload) {
    pong.set_value(std::string(payload));
  };
  TestServer server([h](const Request& r) { return as_channel(r, h); });
  RawClient c(server.port());
  c.send(kUpgrade);
  ASSERT_EQ(c.read_response(true).status, 101);
  c.send(client_frame(ws::Opcode::pong, "heartbeat-7"));
  auto f = pong.get_future();
  EXPECT_EQ(await(f), "heartbeat-7");
}

TEST(WebSocketHooks, OnCloseGetsThePeersCodeAndReason) {
  std::promise<CloseInfo> closed;
  auto h = std::make_shared<ChannelHandlers>();
  h->on_close = [&](const ChannelPtr& ch, const CloseInfo& info) {
    EXPECT_FALSE(ch->open());
    closed.set_value(info);
  };
  TestServer server([h](const Request& r) { return as_channel(r, h); });
  RawClient c(server.port());
  c.send(kUpgrade);
  ASSERT_EQ(c.read_response(true).status, 101);
  c.send(client_frame(ws::Opcode::close, close_payload(4001, "moving on")));
  auto f = closed.get_future();
  const CloseInfo info = await(f);
  EXPECT_EQ(info.code, 4001);
  EXPECT_EQ(info.reason, "moving on");
  EXPECT_EQ(info.status, CloseStatus::unknown);  // 4001 is an application's code
  const std::string echo = c.read_exact(4);      // the close echoed with the same code
  ASSERT_EQ(echo.size(), 4u);
  EXPECT_EQ(uint8_t(echo[0]), 0x88);
  EXPECT_EQ((uint8_t(echo[2]) << 8) | uint8_t(echo[3]), 4001);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(WebSocketHooks, OnCloseWithoutACloseFrameIs1006AndCloseStatusHandlersStillFit) {
  std::promise<CloseStatus> closed;
  std::promise<uint16_t> code;
  auto h = std::make_shared<ChannelHandlers>();
  h->on_open = [&](const ChannelPtr&) {};
  // A handler written for the old signature.
  std::function<void(const ChannelPtr&, CloseStatus)> old_style =
      [&](const ChannelPtr&, CloseStatus s) { closed.set_value(s); };
  h->on_close = [&, old_style](const ChannelPtr& ch, const CloseInfo& info) {
    code.set_value(info.code);
    old_style(ch, info);
  };
  TestServer server([h](const Request& r) { return as_channel(r, h); });
  {
    RawClient c(server.port());
    c.send(kUpgrade);
    ASSERT_EQ(c.read_response(true).status, 101);
  }  // the client drops the connection
  auto f = closed.get_future();
  EXPECT_EQ(await(f), CloseStatus::abnormal);
  auto g = code.get_future();
  EXPECT_EQ(await(g), 1006);
}

TEST(WebSocketHooks, OnCloseReportsOnceWhenTheServerClosedFirst) {
  std::mutex m;
  std::vector<CloseInfo> closes;
  std::promise<void> done;
  auto h = std::make_shared<ChannelHandlers>();
  h->on_open = [](const ChannelPtr& ch) { ch->close(1001, "bye"); };
  h->on_close = [&](const ChannelPtr&, const CloseInfo& info) {
    std::lock_guard lock(m);
    closes.push_back(info);
    if (closes.size() == 1) done.set_value();
  };
  TestServer server([h](const Request& r) { return as_channel(r, h); });
  RawClient c(server.port());
  c.send(kUpgrade);
  ASSERT_EQ(c.read_response(true).status, 101);
  const std::string frame = c.read_exact(7);  // 0x88, 5, code, "bye"
  ASSERT_EQ(frame.size(), 7u);
  c.send(client_frame(ws::Opcode::close, close_payload(1001, "ok")));
  auto f = done.get_future();
  EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(c.closed_by_peer());
  std::this_thread::sleep_for(20ms);
  std::lock_guard lock(m);
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].code, 1001);
  EXPECT_EQ(closes[0].reason, "ok");
  EXPECT_EQ(closes[0].status, CloseStatus::going_away);
}

TEST(WebSocketHooks, OnHandshakeErrorAndTheRefusal) {
  std::mutex m;
  std::vector<std::string> errors;
  auto h = std::make_shared<ChannelHandlers>();
  h->on_handshake_error = [&](const Request& r, std::string_view reason) {
    std::lock_guard lock(m);
    errors.push_back(std::string(r.path()) + ": " + std::string(reason));
  };
  TestServer server([h](const Request& r) { return as_channel(r, h); });
  RawClient c(server.port());
  c.send(
      "GET /v8 HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  RawResponse v = c.read_response();
  EXPECT_EQ(v.status, 426);
  EXPECT_EQ(v.get("sec-websocket-version"), "13");
  RawClient d(server.port());
  d.send(
      "GET /nokey HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(d.read_response().status, 400);
  std::lock_guard lock(m);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].rfind("/v8: unsupported Sec-WebSocket-Version", 0), 0u) << errors[0];
  EXPECT_EQ(errors[1].rfind("/nokey: missing or invalid Sec-WebSocket-Key", 0), 0u) << errors[1];
}

TEST(WebSocketHooks, HandshakeCheckSaysWhetherAndWhy) {
  TestServer server([](const Request& r) {
    const HandshakeCheck check = websocket_handshake_check(r);
    return Response::text(std::to_string(check.status) + (check ? " ok" : " ") +
                          std::string(check.reason));
  });
  const auto ask = [&](const std::string& request) {
    RawClient c(server.port());
    c.send(request);
    return c.read_response().body;
  };
  EXPECT_EQ(ask(kUpgrade), "101 ok");
  EXPECT_EQ(ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n"), "400 missing Upgrade: websocket");
  EXPECT_EQ(ask("POST /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                "Content-Length: 0\r\n\r\n"),
            "400 a WebSocket upgrade must be a GET");
  EXPECT_EQ(ask("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"),
            "400 missing or invalid Sec-WebSocket-Key");
}

}  // namespace
}  // namespace httpkit::test
