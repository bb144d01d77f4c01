// Every wait a peer controls ends: header, body, idle and write deadlines.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

using namespace std::chrono_literals;

ServerOptions quick_timeouts() {
  ServerOptions o = test_options();
  o.header_timeout = 300ms;
  o.body_timeout = 300ms;
  o.idle_timeout = 300ms;
  o.write_timeout = 300ms;
  return o;
}

Response ok(const Request&) { return Response::text("ok"); }

TEST(Timeouts, SlowlorisHeadersGet408) {
  TestServer server(ok, quick_timeouts());
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\n");
  auto start = std::chrono::steady_clock::now();
  // Trickling bytes must not extend the header deadline.
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(100ms);
    c.send("X: y\r\n");
  }
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Timeouts, StalledBodyGet408) {
  TestServer server(ok, quick_timeouts());
  RawClient c(server.port());
  c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(c.read_response().status, 408);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Timeouts, IdleKeepAliveIsClosed) {
  TestServer server(ok, quick_timeouts());
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_TRUE(c.closed_by_peer(2000));
}

TEST(Timeouts, SilentNewConnectionIsClosed) {
  TestServer server(ok, quick_timeouts());
  RawClient c(server.port());
  EXPECT_TRUE(c.closed_by_peer(2000));
}

TEST(Timeouts, AReaderThatNeverReadsIsCutOff) {
  ServerOptions o = quick_timeouts();
  TestServer server([](const Request&) { return Response::text(std::string(8 << 20, 'x')); }, o);
  RawClient c(server.port());
  int small = 4096;
  (void)small;
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  std::this_thread::sleep_for(1500ms);  // never read: the write deadline passes
  EXPECT_EQ(server.server().connection_count(), 0u);
}

}  // namespace
}  // namespace httpkit::test
