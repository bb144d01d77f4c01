// HTTP channels: long-polling, streaming, SSE, backpressure, from any thread.
#include "httpkit/channel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

using namespace std::chrono_literals;

// Collects the channels handlers open, so a test can answer them later.
struct ChannelBox {
  std::mutex mutex;
  std::vector<ChannelPtr> channels;
  std::vector<CloseStatus> closes;
  std::promise<ChannelPtr> first;
  bool promised = false;

  std::shared_ptr<ChannelHandlers> handlers() {
    auto h = std::make_shared<ChannelHandlers>();
    h->on_open = [this](const ChannelPtr& ch) {
      std::lock_guard lock(mutex);
      channels.push_back(ch);
      if (!promised) {
        promised = true;
        first.set_value(ch);
      }
    };
    h->on_close = [this](const ChannelPtr&, CloseStatus s) {
      std::lock_guard lock(mutex);
      closes.push_back(s);
    };
    return h;
  }
  ChannelPtr wait_first() {
    auto f = first.get_future();
    if (f.wait_for(5s) != std::future_status::ready) return nullptr;
    return f.get();
  }
  std::size_t close_count() {
    std::lock_guard lock(mutex);
    return closes.size();
  }
};

TEST(Channel, LongPollIsAnsweredFromAnotherThreadAndPipelinedRequestsWait) {
  ChannelBox box;
  auto handlers = box.handlers();
  TestServer server([&](const Request& r) {
    if (r.path() == "/poll") return as_channel(r, handlers);
    return Response::text("after");
  });
  RawClient c(server.port());
  c.send("GET /poll HTTP/1.1\r\nHost: t\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = box.wait_first();
  ASSERT_TRUE(ch);
  EXPECT_TRUE(ch->open());
  EXPECT_FALSE(ch->is_websocket());
  std::thread([ch] {
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(ch->send("the answer"));
  }).join();
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "the answer");
  EXPECT_EQ(r.get("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(c.read_response().body, "after");  // the pipelined request was held, then served
  EXPECT_FALSE(ch->open());
  EXPECT_FALSE(ch->send("too late"));  // a closed channel refuses, never crashes
  EXPECT_FALSE(ch->close());
}

TEST(Channel, StreamingIsChunkedAndCloseEndsTheBody) {
  ChannelBox box;
  auto handlers = box.handlers();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = box.wait_first();
  ASSERT_TRUE(ch);
  Response head;
  head.status = 201;
  head.header("Content-Type", "text/plain");
  head.body = std::string("first;");
  ASSERT_TRUE(ch->send_response(head, false));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(ch->send("part" + std::to_string(i) + ";", false));
  ch->close();
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.get("transfer-encoding"), "chunked");
  EXPECT_EQ(r.body, "first;part0;part1;part2;part3;part4;");
  // The connection is kept alive for the next request.
  c.send("GET /again HTTP/1.1\r\nHost: t\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(c.closed_by_peer(100));
}

TEST(Channel, Http10StreamIsDelimitedByTheClose) {
  ChannelBox box;
  auto handlers = box.handlers();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  c.send("GET / HTTP/1.0\r\n\r\n");
  ChannelPtr ch = box.wait_first();
  ASSERT_TRUE(ch);
  ch->send("a", false);
  ch->send("b", false);
  ch->send("c", true);
  RawResponse r = c.read_response();
  EXPECT_FALSE(r.has("content-length"));
  EXPECT_EQ(r.body, "abc");
}

TEST(Channel, SendsFromManyThreadsAllArriveWhole) {
  ChannelBox box;
  auto handlers = box.handlers();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = box.wait_first();
  ASSERT_TRUE(ch);
  ch->send_response(Response(200, ""), false);
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([ch, t] {
      for (int i = 0; i < 200; ++i)
        ch->send(std::string(10, char('a' + t)), false);
    });
  for (auto& s : senders)
    s.join();
  ch->close();
  RawResponse r = c.read_response();
  ASSERT_EQ(r.body.size(), 4u * 200 * 10);
  for (std::size_t i = 0; i < r.body.size(); i += 10)
    EXPECT_EQ(r.body.substr(i, 10), std::string(10, r.body[i]));  // never interleaved
}

TEST(Channel, ClientDisconnectIsReportedAsClientClose) {
  ChannelBox box;
  auto handlers = box.handlers();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  {
    RawClient c(server.port());
    c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(box.wait_first());
  }
  for (int i = 0; i < 100 && box.close_count() == 0; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(box.close_count(), 1u);
  EXPECT_EQ(box.closes[0], CloseStatus::client_close);
  EXPECT_FALSE(box.channels[0]->open());
}

ServerOptions small_queue(ServerOptions::Overflow policy) {
  ServerOptions o = test_options();
  o.channel_max_queued = 256 * 1024;
  o.channel_low_water = 64 * 1024;
  o.channel_overflow = policy;
  return o;
}

TEST(Channel, ASlowReaderHitsTheCapAndTheDropPolicyRefusesMessages) {
  ChannelBox box;
  auto handlers = box.handlers();
  std::atomic<int> drains{0};
  handlers->on_drain = [&](const ChannelPtr&) { ++drains; };
  TestServer server([&](const Request& r) { return as_channel(r, handlers); },
                    small_queue(ServerOptions::Overflow::drop));
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = box.wait_first();
  ASSERT_TRUE(ch);
  ch->send_response(Response(200, ""), false);
  const std::string chunk(64 * 1024, 'x');
  int accepted = 0;
  for (int i = 0; i < 400; ++i)
    accepted += ch->send(chunk, false);  // ~25 MiB offered
  EXPECT_LT(accepted, 400);
  EXPECT_GT(ch->dropped_messages(), 0u);
  // The kernel's socket buffers take what the loop writes until they are
  // full (nobody reads); then the queue stays above the low-water mark.
  for (int i = 0; i < 2000 && ch->queued_bytes() < 128 * 1024; ++i) {
    accepted += ch->send(chunk, false);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_GE(ch->queued_bytes(), 128u * 1024);
  // The cap holds for the payload; the response head and the chunk
  // framing of the queued messages are counted on top, once written.
  EXPECT_LE(ch->queued_bytes(), 256u * 1024 + 1024);
  EXPECT_TRUE(ch->open());  // drop keeps the connection

  // The reader catches up while the channel is open: the queue drains
  // below the low-water mark and on_drain fires.
  const int drains_before = drains.load();
  std::string head;
  while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
    std::string byte = c.read_exact(1);
    ASSERT_EQ(byte.size(), 1u);
    head += byte;
  }
  EXPECT_NE(head.find("chunked"), std::string::npos);
  const std::string chunk_head = "10000\r\n";  // 64 KiB in hex
  for (int i = 0; i < accepted; ++i) {
    std::string wire = c.read_exact(chunk_head.size() + chunk.size() + 2);
    ASSERT_EQ(wire.size(), chunk_head.size() + chunk.size() + 2) << "chunk " << i;
    ASSERT_EQ(wire.compare(0, chunk_head.size(), chunk_head), 0) << "chunk " << i;
  }
  for (int i = 0; i < 200 && (drains.load() == drains_before || ch->queued_bytes() != 0); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_GT(drains.load(), drains_before);
  EXPECT_EQ(ch->queued_bytes(), 0u);
  ch->close();
  EXPECT_EQ(c.read_exact(5), "0\r\n\r\n");  // every accepted message arrived, and no more
}

TEST(Channel, TheClosePolicyClosesASlowReader) {
  ChannelBox box;
  auto handlers = box.handlers();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); },
                    small_queue(ServerOptions::Overflow::close));
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = box.wait_first();
  ASSERT_TRUE(ch);
  ch->send_response(Response(200, ""), false);
  const std::string chunk(64 * 1024, 'x');
  bool refused = false;
  for (int i = 0; i < 400 && !refused; ++i)
    refused = !ch->send(chunk, false);
  EXPECT_TRUE(refused);
  for (int i = 0; i < 100 && ch->open(); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ch->open());
  EXPECT_EQ(server.server().connection_count(), 0u);
}

TEST(Channel, ScheduledTasksRunOnTheLoopAndCanBeCancelled) {
  ChannelBox box;
  auto handlers = box.handlers();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = box.wait_first();
  ASSERT_TRUE(ch);
  std::atomic<bool> cancelled_ran{false};
  ScheduledTask never = ch->schedule(30ms, [&] { cancelled_ran = true; });
  never.cancel();
  ch->schedule(50ms, [ch] { ch->send("timed out", true); });
  RawResponse r = c.read_response();
  EXPECT_EQ(r.body, "timed out");
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(cancelled_ran);
}

TEST(Channel, ProcessWideScheduleTask) {
  std::promise<void> ran;
  auto start = std::chrono::steady_clock::now();
  schedule_task(40ms, [&] { ran.set_value(); });
  std::atomic<bool> cancelled_ran{false};
  schedule_task(20ms, [&] { cancelled_ran = true; }).cancel();
  ASSERT_EQ(ran.get_future().wait_for(2s), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(cancelled_ran);
}

TEST(EventStreamFormat, LinesFieldsAndMultiLineData) {
  EXPECT_EQ(EventStream::format("hello", "", ""), "data: hello\n\n");
  EXPECT_EQ(EventStream::format("a\nb\r\nc", "tick", "7"),
            "event: tick\nid: 7\ndata: a\ndata: b\ndata: c\n\n");
  EXPECT_EQ(EventStream::format("x", "bad\nevent", ""), "event: bad event\ndata: x\n\n");
}

TEST(EventStream, StreamsEventsAndHeartbeats) {
  ChannelBox box;
  auto handlers = box.handlers();
  std::shared_ptr<EventStream> stream;
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  c.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = box.wait_first();
  ASSERT_TRUE(ch);
  stream = std::make_shared<EventStream>(ch, 30ms);
  stream->send("one", "greeting", "1");
  RawResponse head = c.read_head();
  EXPECT_EQ(head.get("content-type"), "text/event-stream; charset=utf-8");
  // Wait for a heartbeat to arrive instead of sleeping for one: a loaded
  // loop may fire its timer late. Each event is one chunk, so the events
  // can be looked for on the wire.
  std::string wire;
  auto read_until = [&](std::string_view seen) {
    while (wire.find(seen) == std::string::npos) {
      std::string got = c.read_some(4096);
      if (got.empty()) return false;  // the connection ended, or 5 s passed
      wire += got;
    }
    return true;
  };
  ASSERT_TRUE(read_until(": heartbeat\n\n")) << wire;
  stream->send("two");
  stream->close();
  ASSERT_TRUE(read_until("\r\n0\r\n\r\n")) << wire;  // the last chunk
  EXPECT_NE(wire.find("event: greeting\nid: 1\ndata: one\n\n"), std::string::npos);
  EXPECT_NE(wire.find("data: two\n\n"), std::string::npos);
}

}  // namespace
}  // namespace httpkit::test
