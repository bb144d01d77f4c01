// The WebSocket client against httpkit's own server (as_channel).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

#include "httpkit/channel.hpp"
#include "httpkit/client.hpp"
#include "server/test_server.hpp"

namespace httpkit {
namespace {

using namespace std::chrono_literals;

Response echo_channel(const Request& req) {
  static const auto handlers = [] {
    auto h = std::make_shared<ChannelHandlers>();
    h->on_receive = [](const ChannelPtr& ch, std::string_view msg, bool binary) {
      if (msg == "bye") {
        ch->close(4001, "as asked");
        return;
      }
      if (binary) {
        ch->send_binary(std::string(msg));
      } else {
        ch->send(std::string(msg));
      }
    };
    return std::shared_ptr<const ChannelHandlers>(h);
  }();
  return as_channel(req, handlers);
}

struct Recorder {
  std::mutex mutex;
  std::vector<std::pair<std::string, bool>> messages;
  std::promise<void> opened, two_messages;
  std::promise<std::pair<uint16_t, std::string>> closed;
  std::atomic<bool> errored{false};

  WebSocketHandlers handlers() {
    WebSocketHandlers h;
    h.on_open = [this](WebSocket&) { opened.set_value(); };
    h.on_receive = [this](WebSocket&, std::string_view m, bool binary) {
      std::lock_guard lock(mutex);
      messages.emplace_back(std::string(m), binary);
      if (messages.size() == 2) two_messages.set_value();
    };
    h.on_error = [this](const ClientError&) { errored = true; };
    h.on_close = [this](WebSocket&, uint16_t code, std::string_view reason) {
      closed.set_value({code, std::string(reason)});
    };
    return h;
  }
};

TEST(WebSocketClient, EchoWithDeflateAgainstOwnServer) {
  test::TestServer server(echo_channel);
  Client client;
  Recorder rec;
  auto ws = client.websocket({.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/"},
                             rec.handlers());
  ASSERT_EQ(rec.opened.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(ws->is_open());
  EXPECT_TRUE(ws->deflate());
  std::string big(200000, 'z');
  EXPECT_TRUE(ws->send("hello"));
  EXPECT_TRUE(ws->send(big, /*binary=*/true));
  ASSERT_EQ(rec.two_messages.get_future().wait_for(5s), std::future_status::ready);
  {
    std::lock_guard lock(rec.mutex);
    EXPECT_EQ(rec.messages[0].first, "hello");
    EXPECT_FALSE(rec.messages[0].second);
    EXPECT_TRUE(rec.messages[1].first == big);
    EXPECT_TRUE(rec.messages[1].second);
  }
  ws->close(1000, "done");
  auto closed = rec.closed.get_future();
  ASSERT_EQ(closed.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(closed.get().first, 1000);
  EXPECT_FALSE(ws->send("late"));
}

TEST(WebSocketClient, ServerCloseCodeReachesOnClose) {
  test::TestServer server(echo_channel);
  Client client;
  Recorder rec;
  auto ws = client.websocket(
      {.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/", .permessage_deflate = false},
      rec.handlers());
  ASSERT_EQ(rec.opened.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(ws->deflate());
  ws->send("bye");
  auto closed = rec.closed.get_future();
  ASSERT_EQ(closed.wait_for(5s), std::future_status::ready);
  auto [code, reason] = closed.get();
  EXPECT_EQ(code, 4001);
  EXPECT_EQ(reason, "as asked");
}

TEST(WebSocketClient, HandshakeRefusedIsAnError) {
  test::TestServer server([](const Request&) { return Response::text("no websocket here"); });
  Client client;
  std::promise<ClientError> error;
  std::promise<uint16_t> closed;
  WebSocketHandlers h;
  h.on_error = [&](const ClientError& e) { error.set_value(e); };
  h.on_close = [&](WebSocket&, uint16_t code, std::string_view) { closed.set_value(code); };
  client.websocket({.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/"}, h);
  auto e = error.get_future();
  ASSERT_EQ(e.wait_for(5s), std::future_status::ready);
  ClientError err = e.get();
  EXPECT_EQ(err.kind, ErrorKind::protocol);
  EXPECT_NE(err.message.find("HTTP status 200"), std::string::npos) << err.message;
  EXPECT_EQ(closed.get_future().get(), 1006);
}

}  // namespace
}  // namespace httpkit
