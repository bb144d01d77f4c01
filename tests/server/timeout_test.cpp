// Every wait a peer controls ends: header, body, idle and write deadlines,
// each with the meaning the README gives it. A deadline fires within its
// timeout (plus a margin for a loaded machine) of the moment it runs from,
// never before, and what must not extend it does not.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Distinct, so that a lower bound also tells which deadline fired.
constexpr auto kHeader = 300ms;
constexpr auto kBody = 400ms;
constexpr auto kIdle = 500ms;
constexpr auto kWrite = 400ms;
// The server's clock reads whole milliseconds of the same monotonic clock.
constexpr auto kSlack = 5ms;
// Scheduling delays under ASan on a loaded machine (over half a second
// seen with two suites running at once). The bugs caught here are late by
// a whole trickle (eight header timeouts, 2.4 s) or never fire at all.
constexpr auto kMargin = 1000ms;
// How long a trickle goes on if the server lets it.
constexpr auto kTrickle = 8 * kHeader;

ServerOptions quick_timeouts() {
  ServerOptions o = test_options();
  o.header_timeout = kHeader;
  o.body_timeout = kBody;
  o.idle_timeout = kIdle;
  o.write_timeout = kWrite;
  return o;
}

Response ok(const Request&) {
  return Response::text("ok");
}

// A response whose megabytes of body the test keeps (not copied).
Response borrowed(std::string_view body) {
  Response r;
  r.body = body;
  return r;
}

// When `done` first held, polling until `timeout`; nullopt if it never did.
std::optional<Clock::time_point> when(const std::function<bool()>& done, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return Clock::now();
    if (Clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(1ms);
  }
}

// Sends `piece` every `interval` for `duration` on its own thread, so the
// test can wait for the server's answer meanwhile.
class Trickle {
 public:
  Trickle(RawClient& c, std::string piece, Clock::duration interval, Clock::duration duration)
      : thread_([this, &c, piece = std::move(piece), interval, duration] {
          const auto start = Clock::now();
          std::unique_lock lock(mutex_);
          for (auto next = start + interval; next <= start + duration; next += interval) {
            if (stop_requested_.wait_until(lock, next, [this] { return stopped_; })) return;
            c.send(piece);  // fails quietly once the server has closed
          }
        }) {}
  ~Trickle() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    stop_requested_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopped_ = false;
  std::thread thread_;  // last: it starts running in the constructor
};

TEST(Timeouts, SlowlorisHeadersGet408) {
  TestServer server(ok, quick_timeouts());
  const auto connecting = Clock::now();
  RawClient c(server.port());
  const auto first_byte = Clock::now();
  c.send("GET / HTTP/1.1\r\n");
  // A header line every 100 ms for eight timeouts: a deadline that each
  // line extended would not fire before the trickle ends.
  Trickle trickle(c, "X: y\r\n", 100ms, kTrickle);
  RawResponse r = c.read_response();
  const auto answered = Clock::now();
  trickle.stop();
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(c.closed_by_peer());
  // A new connection's deadline runs from its accept, which follows the connect.
  EXPECT_GE(answered - connecting, kHeader - kSlack);
  EXPECT_LE(answered - first_byte, kHeader + kMargin);
}

TEST(Timeouts, APipelinedHeadGetsItsOwnHeaderDeadline) {
  TestServer server(ok, quick_timeouts());
  RawClient c(server.port());
  c.send("GET /1 HTTP/1.1\r\nHost: t\r\n");
  std::this_thread::sleep_for(kHeader / 4);  // part of the first head's deadline passes
  const auto second_head = Clock::now();
  c.send("\r\nGET /2 HTTP/1.1\r\n");  // ends the first request and begins the second
  Trickle trickle(c, "X: y\r\n", 100ms, kTrickle);
  EXPECT_EQ(c.read_response().status, 200);
  RawResponse r = c.read_response();
  const auto answered = Clock::now();
  trickle.stop();
  EXPECT_EQ(r.status, 408);
  // The second head's deadline runs from its own first byte, not the first head's.
  EXPECT_GE(answered - second_head, kHeader - kSlack);
  EXPECT_LE(answered - second_head, kHeader + kMargin);
}

TEST(Timeouts, ABodyThatKeepsArrivingIsNotCutOff) {
  TestServer server([](const Request& r) { return Response::text(std::string(r.body())); },
                    quick_timeouts());
  RawClient c(server.port());
  const std::string body(13, 'x');  // a byte every 100 ms: 1.3 s, over three body timeouts
  c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 13\r\n\r\n");
  const auto start = Clock::now();
  for (std::size_t i = 0; i < body.size(); ++i) {
    std::this_thread::sleep_until(start + (i + 1) * 100ms);
    c.send(body.substr(i, 1));
  }
  ASSERT_GT(Clock::now() - start, 3 * kBody);
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
}

TEST(Timeouts, StalledBodyGet408) {
  TestServer server(ok, quick_timeouts());
  RawClient c(server.port());
  c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  std::this_thread::sleep_for(kBody / 4);
  const auto last_byte = Clock::now();
  c.send("de");  // progress: the body deadline starts again here
  RawResponse r = c.read_response();
  const auto answered = Clock::now();
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_GE(answered - last_byte, kBody - kSlack);
  EXPECT_LE(answered - last_byte, kBody + kMargin);
}

TEST(Timeouts, IdleKeepAliveIsClosed) {
  TestServer server(ok, quick_timeouts());
  RawClient c(server.port());
  const auto sent = Clock::now();
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 200);
  const auto answered = Clock::now();
  EXPECT_TRUE(c.closed_by_peer(2000));
  const auto closed = Clock::now();
  EXPECT_GE(closed - sent, kIdle - kSlack);
  EXPECT_LE(closed - answered, kIdle + kMargin);
}

TEST(Timeouts, SilentNewConnectionIsClosed) {
  TestServer server(ok, quick_timeouts());
  const auto connecting = Clock::now();
  RawClient c(server.port());
  EXPECT_TRUE(c.closed_by_peer(2000));
  const auto closed = Clock::now();
  // Its first request is due within the header deadline, which runs from the accept.
  EXPECT_GE(closed - connecting, kHeader - kSlack);
  EXPECT_LE(closed - connecting, kHeader + kMargin);
}

TEST(Timeouts, AReaderThatNeverReadsIsCutOff) {
  // Larger than the kernels can buffer: the server keeps output of its own
  // and the write deadline runs.
  const std::string body(2 * max_send_buffer() + (1 << 20), 'x');
  TestServer server([&](const Request&) { return borrowed(body); }, quick_timeouts());
  RawClient c(server.port(), 5000, 64 << 10);
  ASSERT_GT(max_send_buffer(), 0u);
  ASSERT_GT(body.size(), max_send_buffer() + c.receive_buffer());
  ASSERT_TRUE(when([&] { return server.server().connection_count() == 1; }, 5s))
      << "the server never accepted the connection";
  const auto sent = Clock::now();
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  // Never read: the last progress is the writes that filled the buffers.
  auto cut = when([&] { return server.server().connection_count() == 0; }, kWrite + 2 * kMargin);
  ASSERT_TRUE(cut) << "never cut off";
  EXPECT_GE(*cut - sent, kWrite - kSlack);
  EXPECT_LE(*cut - sent, kWrite + kMargin);
}

TEST(Timeouts, ASlowReaderIsCutOffOnlyOnceItStopsReading) {
  // Progress is the server's: a write the socket took. Small buffers on
  // both ends make each of the reader's reads free room that wakes the
  // server (with tcp_wmem's 4 MiB a reader would have to take a third of
  // that before the server saw any progress).
  constexpr int kBuffers = 64 << 10;
  constexpr std::size_t kChunk = 64 << 10;
  constexpr auto kTick = 20ms;
  constexpr auto kSlowFor = 4 * kWrite;
  const std::size_t slow_at_most = kChunk * std::size_t(kSlowFor / kTick);
  // Outgrows what the slow phase reads and both kernels buffer (each
  // doubles the size asked), so the server holds output of its own and
  // its write deadline runs the whole time.
  const std::string body(slow_at_most + 4 * kBuffers + (1 << 20), 'x');
  TestServer server([&](const Request&) { return borrowed(body); }, quick_timeouts());
  RawClient c(server.port(), 5000, kBuffers);
  const std::size_t server_buffer = c.set_server_send_buffer(kBuffers);
  ASSERT_GT(server_buffer, 0u);
  ASSERT_LE(server_buffer + c.receive_buffer(), 4u * kBuffers);
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse head = c.read_head();
  ASSERT_EQ(head.status, 200);
  ASSERT_EQ(head.get("content-length"), std::to_string(body.size()));

  // Reading on, however slowly, is progress: the connection stays.
  std::size_t received = 0;
  const auto start = Clock::now();
  for (auto tick = start; tick < start + kSlowFor; tick += kTick) {
    std::string got = c.read_some(kChunk);
    ASSERT_FALSE(got.empty()) << "cut off after " << received << " bytes";
    received += got.size();
    ASSERT_EQ(server.server().connection_count(), 1u)
        << "cut off while reading, after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()
        << " ms";
    std::this_thread::sleep_until(tick + kTick);
  }
  const auto stopped = Clock::now();
  ASSERT_LT(received + server_buffer + c.receive_buffer(), body.size());

  // Then it stops: cut off within the write timeout of its last read.
  auto cut = when([&] { return server.server().connection_count() == 0; }, kWrite + 2 * kMargin);
  ASSERT_TRUE(cut) << "never cut off";
  EXPECT_LE(*cut - stopped, kWrite + kMargin);
}

}  // namespace
}  // namespace httpkit::test
