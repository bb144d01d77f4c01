// The WebSocket client against httpkit's own server (as_channel).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

#include "httpkit/client.hpp"
#include "server/test_server.hpp"
#include "ws_echo_channel.hpp"

namespace httpkit {
namespace {

using namespace std::chrono_literals;

struct Recorder {
  std::mutex mutex;
  std::vector<std::pair<std::string, bool>> messages;
  std::promise<void> opened, two_messages;
  std::promise<std::pair<CloseStatus, std::string>> closed;
  uint16_t close_code = 0;
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
    h.on_close = [this](WebSocket& ws, CloseStatus status, std::string_view reason) {
      close_code = ws.close_code();
      closed.set_value({status, std::string(reason)});
    };
    return h;
  }
};

TEST(WebSocketClient, EchoWithDeflateAgainstOwnServer) {
  test::TestServer server(test::echo_channel);
  Client client;
  Recorder rec;
  auto ws = client.websocket({.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/"},
                             rec.handlers());
  ASSERT_EQ(rec.opened.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(ws->open());
  EXPECT_TRUE(ws->deflate());
  std::string big(200000, 'z');
  EXPECT_TRUE(ws->send("hello"));
  EXPECT_TRUE(ws->send_binary(big));
  ASSERT_EQ(rec.two_messages.get_future().wait_for(5s), std::future_status::ready);
  {
    std::lock_guard lock(rec.mutex);
    EXPECT_EQ(rec.messages[0].first, "hello");
    EXPECT_FALSE(rec.messages[0].second);
    EXPECT_TRUE(rec.messages[1].first == big);
    EXPECT_TRUE(rec.messages[1].second);
  }
  EXPECT_TRUE(ws->close(1000, "done"));
  EXPECT_FALSE(ws->close(1000, "again"));
  EXPECT_FALSE(ws->open());
  auto closed = rec.closed.get_future();
  ASSERT_EQ(closed.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(closed.get().first, CloseStatus::normal);
  EXPECT_EQ(rec.close_code, 1000);
  EXPECT_FALSE(ws->send("late"));
}

TEST(WebSocketClient, ServerCloseCodeReachesOnClose) {
  test::TestServer server(test::echo_channel);
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
  auto [status, reason] = closed.get();
  EXPECT_EQ(status, CloseStatus::unknown);  // an application's code
  EXPECT_EQ(rec.close_code, 4001);
  EXPECT_EQ(reason, "as asked");
}

TEST(WebSocketClient, HandshakeRefusedIsAnError) {
  test::TestServer server([](const Request&) { return Response::text("no websocket here"); });
  Client client;
  std::promise<ClientError> error;
  std::promise<CloseStatus> closed;
  WebSocketHandlers h;
  h.on_error = [&](const ClientError& e) { error.set_value(e); };
  h.on_close = [&](WebSocket&, CloseStatus status, std::string_view) { closed.set_value(status); };
  client.websocket({.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/"}, h);
  auto e = error.get_future();
  ASSERT_EQ(e.wait_for(5s), std::future_status::ready);
  ClientError err = e.get();
  EXPECT_EQ(err.kind, ErrorKind::protocol);
  EXPECT_NE(err.message.find("HTTP status 200"), std::string::npos) << err.message;
  EXPECT_EQ(closed.get_future().get(), CloseStatus::abnormal);
}

}  // namespace
}  // namespace httpkit
