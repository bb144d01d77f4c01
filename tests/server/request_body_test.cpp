// Streamed request bodies: the body plan's limits, receive_body's
// callbacks for both framings, pipelining behind a streamed request,
// pause/resume as real backpressure, aborts, deadlines and 100-continue.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "httpkit/request_body.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

using namespace std::chrono_literals;

// What a streaming handler saw, readable from the test's thread.
struct Seen {
  std::mutex mutex;
  std::string body;
  std::size_t pieces = 0;
  std::optional<BodyAbort> aborted;
  std::promise<BodyAbort> abort_promise;
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> pause_next{false};
  RequestBodyPtr handle;  // kept by a test that resumes from outside

  // The server may have read the bytes from the socket a moment before
  // on_data ran on its loop: wait (bounded) rather than race it.
  bool wait_bytes(uint64_t n, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (bytes.load() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return bytes.load() >= n;
  }

  void abort(BodyAbort why) {
    std::lock_guard lock(mutex);
    aborted = why;
    abort_promise.set_value(why);
  }
};

// Echoes the streamed body with the number of pieces it came in.
Handler echo_stream(std::shared_ptr<Seen> seen) {
  return [seen](const Request& req) {
    return receive_body(
        req, {.on_data =
                  [seen](const RequestBodyPtr& body, std::string_view bytes) {
                    {
                      std::lock_guard lock(seen->mutex);
                      seen->body.append(bytes);
                      seen->pieces++;
                      seen->handle = body;
                    }
                    seen->bytes += bytes.size();
                    if (seen->pause_next.exchange(false)) body->pause();
                  },
              .on_end =
                  [seen](const RequestBodyPtr& body) {
                    std::lock_guard lock(seen->mutex);
                    body->respond(Response::text(seen->body));
                  },
              .on_abort = [seen](const RequestBodyPtr&, BodyAbort why) { seen->abort(why); }});
  };
}

ServerOptions streaming_options(std::size_t max_body = 8u << 20) {
  ServerOptions o = test_options();
  o.body_plan = [max_body](const Request& head) {
    return BodyPlan{.max_body = max_body, .stream = head.path() == "/stream"};
  };
  return o;
}

std::string post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

TEST(BodyPlan, LimitGives413ForContentLengthAtHeadTime) {
  ServerOptions o = test_options();
  o.body_plan = [](const Request& head) {
    return BodyPlan{.max_body =
                        head.path() == "/small" ? std::optional<std::size_t>(10) : std::nullopt};
  };
  TestServer server([](const Request& r) { return Response::text(std::string(r.body())); }, o);
  {
    RawClient c(server.port());
    c.send(post("/small", "0123456789"));
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "0123456789");
    // Only the head is sent: the 413 comes before the body.
    c.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 413);
    EXPECT_TRUE(c.closed_by_peer());
  }
  RawClient other(server.port());  // other paths keep the server's limit
  other.send(post("/big", std::string(1000, 'x')));
  EXPECT_EQ(other.read_response().status, 200);
}

TEST(BodyPlan, LimitGives413ForChunkedWhenTheCountPassesIt) {
  ServerOptions o = test_options();
  o.body_plan = [](const Request&) { return BodyPlan{.max_body = 10}; };
  TestServer server([](const Request& r) { return Response::text(std::string(r.body())); }, o);
  RawClient c(server.port());
  c.send(
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n");
  RawResponse ok = c.read_response();
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "abcdefghij");
  c.send(
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\nabcde\r\n6\r\nfghijk\r\n0\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 413);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(BodyPlan, StreamedChunkedOverTheLimitGives413AndAborts) {
  auto seen = std::make_shared<Seen>();
  TestServer server(echo_stream(seen), streaming_options(10));
  RawClient c(server.port());
  c.send("POST /stream HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nabcdefgh\r\n");
  ASSERT_TRUE(c.wait_until_server_read());
  c.send("8\r\nabcdefgh\r\n0\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 413);
  auto aborted = seen->abort_promise.get_future();
  ASSERT_EQ(aborted.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(aborted.get(), BodyAbort::too_large);
}

TEST(RequestBodyStream, ContentLengthBodyArrivesInPiecesAsSent) {
  auto seen = std::make_shared<Seen>();
  TestServer server(echo_stream(seen), streaming_options());
  RawClient c(server.port());
  c.send("POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 12\r\n\r\nhello ");
  ASSERT_TRUE(seen->wait_bytes(6));  // handed over before the rest came
  EXPECT_EQ(seen->bytes.load(), 6u);
  c.send("world!");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world!");
  EXPECT_GE(seen->pieces, 2u);
  // The connection stays usable.
  c.send("GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 200);
}

TEST(RequestBodyStream, ChunkedFramingIsRemoved) {
  auto seen = std::make_shared<Seen>();
  TestServer server(echo_stream(seen), streaming_options());
  RawClient c(server.port());
  c.send(
      "POST /stream HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n");
  ASSERT_TRUE(c.wait_until_server_read());
  c.send("4\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "abcdefg");
}

TEST(RequestBodyStream, BadChunkedFramingGives400AndAborts) {
  auto seen = std::make_shared<Seen>();
  TestServer server(echo_stream(seen), streaming_options());
  RawClient c(server.port());
  c.send("POST /stream HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  EXPECT_EQ(c.read_response().status, 400);
  auto aborted = seen->abort_promise.get_future();
  ASSERT_EQ(aborted.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(aborted.get(), BodyAbort::bad_framing);
}

TEST(RequestBodyStream, PipelinedRequestsBehindAStreamedOneAreAnsweredInOrder) {
  auto seen = std::make_shared<Seen>();
  TestServer server(
      [h = echo_stream(seen)](const Request& req) {
        if (req.path() == "/stream") return h(req);
        return Response::text("plain " + std::string(req.body()));
      },
      streaming_options());
  RawClient c(server.port());
  c.send(post("/stream", "streamed body") + post("/after", "xyz") +
         "GET /last HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse a = c.read_response();
  RawResponse b = c.read_response();
  RawResponse d = c.read_response();
  EXPECT_EQ(a.body, "streamed body");
  EXPECT_EQ(b.body, "plain xyz");
  EXPECT_EQ(d.body, "plain ");
}

// A client socket whose sends are counted from its own thread.
class CountingSender {
 public:
  CountingSender(uint16_t port, std::string head, std::size_t body_size) : body_size_(body_size) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int small = 64 * 1024;
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect");
    thread_ = std::thread([this, head = std::move(head)] {
      ::send(fd_, head.data(), head.size(), MSG_NOSIGNAL);
      std::string piece(64 * 1024, 'p');
      while (sent_ < body_size_) {
        const std::size_t n = std::min(piece.size(), body_size_ - sent_);
        const ssize_t w = ::send(fd_, piece.data(), n, MSG_NOSIGNAL);
        if (w <= 0) break;
        sent_ += std::size_t(w);
      }
    });
  }
  ~CountingSender() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  std::size_t sent() const { return sent_.load(); }
  std::string read_all() {
    thread_.join();
    thread_ = std::thread([] {});
    std::string in;
    char buf[4096];
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
      const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) break;
      in.append(buf, std::size_t(r));
      if (in.find("\r\n\r\n") != std::string::npos &&
          in.find("Content-Length") != std::string::npos)
        break;
    }
    return in;
  }

 private:
  int fd_ = -1;
  std::size_t body_size_;
  std::atomic<std::size_t> sent_{0};
  std::thread thread_;
};

TEST(RequestBodyStream, PauseStopsReadingSoTheClientsSendBlocks) {
  auto received = std::make_shared<std::atomic<uint64_t>>(0);
  auto handle = std::make_shared<std::promise<RequestBodyPtr>>();
  ServerOptions o = streaming_options(1u << 30);
  o.body_timeout = 300ms;  // a paused body must outlive it
  TestServer server(
      [received, handle](const Request& req) {
        return receive_body(
            req, {.on_data =
                      [received, handle](const RequestBodyPtr& body, std::string_view bytes) {
                        if (*received == 0) {
                          body->pause();
                          handle->set_value(body);
                        }
                        *received += bytes.size();
                      },
                  .on_end =
                      [received](const RequestBodyPtr& body) {
                        body->respond(Response::text(std::to_string(*received)));
                      }});
      },
      o);
  constexpr std::size_t kSize = 64u << 20;
  CountingSender sender(
      server.port(),
      "POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(kSize) + "\r\n\r\n",
      kSize);
  auto paused = handle->get_future();
  ASSERT_EQ(paused.wait_for(5s), std::future_status::ready);
  std::this_thread::sleep_for(200ms);
  const uint64_t at_pause = *received;
  const std::size_t sent_at_pause = sender.sent();
  std::this_thread::sleep_for(700ms);  // longer than body_timeout
  EXPECT_EQ(*received, at_pause) << "the server read on while paused";
  // The client's send blocks: while nothing is read, it can only fill the
  // kernel's buffers, which may still grow a little as they autotune.
  EXPECT_LT(sender.sent() - sent_at_pause, std::size_t(16u << 20))
      << "the client's send did not block";
  EXPECT_LT(sender.sent(), kSize);
  paused.get()->resume();
  const std::string answer = sender.read_all();
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find(std::to_string(kSize)), std::string::npos) << answer;
}

TEST(RequestBodyStream, PeerClosingMidBodyAborts) {
  auto seen = std::make_shared<Seen>();
  TestServer server(echo_stream(seen), streaming_options());
  {
    RawClient c(server.port());
    c.send("POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly part");
    ASSERT_TRUE(c.wait_until_server_read());
  }
  auto aborted = seen->abort_promise.get_future();
  ASSERT_EQ(aborted.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(aborted.get(), BodyAbort::peer_closed);
}

TEST(RequestBodyStream, BodyTimeoutGives408AndAborts) {
  auto seen = std::make_shared<Seen>();
  ServerOptions o = streaming_options();
  o.body_timeout = 200ms;
  TestServer server(echo_stream(seen), o);
  RawClient c(server.port());
  c.send("POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly part");
  EXPECT_EQ(c.read_response().status, 408);
  auto aborted = seen->abort_promise.get_future();
  ASSERT_EQ(aborted.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(aborted.get(), BodyAbort::timeout);
}

TEST(RequestBodyStream, ExpectContinueIsAnsweredWhenTheHandlerTakesTheBody) {
  auto seen = std::make_shared<Seen>();
  TestServer server(
      [h = echo_stream(seen)](const Request& req) {
        if (req.header("x-refuse")) return Response::text("no", 403);
        return h(req);
      },
      streaming_options());
  {
    RawClient c(server.port());
    c.send("POST /stream HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    EXPECT_EQ(c.read_head().status, 100);
    c.send("body");
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "body");
  }
  RawClient refused(server.port());
  refused.send(
      "POST /stream HTTP/1.1\r\nHost: t\r\nX-Refuse: 1\r\nExpect: 100-continue\r\n"
      "Content-Length: 4\r\n\r\n");
  RawResponse r = refused.read_response();
  EXPECT_EQ(r.status, 403);  // no 100 before it
  EXPECT_TRUE(refused.closed_by_peer());
}

TEST(RequestBodyStream, AnsweringBeforeTheEndClosesAfterTheAnswer) {
  TestServer server(
      [](const Request& req) {
        return receive_body(req, {.on_data = [](const RequestBodyPtr& body, std::string_view) {
                              body->respond(Response::text("enough", 422));
                            }});
      },
      streaming_options());
  RawClient c(server.port());
  c.send("POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nfirst bytes");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body, "enough");
  EXPECT_TRUE(c.closed_by_peer(5000));
}

TEST(RequestBodyStream, WorkerThreadsRunTheHandlerAndTheLoopTheCallbacks) {
  auto seen = std::make_shared<Seen>();
  ServerOptions o = streaming_options();
  o.worker_threads = 2;
  TestServer server(echo_stream(seen), o);
  RawClient c(server.port());
  c.send(post("/stream", "through the pool") + "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "through the pool");
  // A GET without a body is not streamed: receive_body runs the callbacks
  // over the (empty) buffered body at once.
  RawResponse g = c.read_response();
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.body, "through the pool");  // seen->body was not reset: same text
}

TEST(RequestBodyStream, ReceiveBodyOnABufferedBodyDeliversItWhole) {
  auto seen = std::make_shared<Seen>();
  TestServer server(echo_stream(seen));  // no body plan
  RawClient c(server.port());
  c.send(post("/stream", "buffered"));
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "buffered");
  EXPECT_EQ(seen->pieces, 1u);
}

TEST(RequestFields, ServerNameStartTimeAndWebSocket) {
  struct Fields {
    std::string name;
    std::chrono::system_clock::time_point start;
    bool websocket = false;
  };
  auto fields = std::make_shared<Fields>();
  ServerOptions o = test_options();
  o.worker_threads = 1;  // the handler sees a detached() request
  TestServer server(
      [fields](const Request& req) {
        fields->name = std::string(req.server_name());
        fields->start = req.start_time();
        fields->websocket = req.is_websocket();
        return Response::text("ok");
      },
      o);
  RawClient c(server.port());
  const auto before = std::chrono::system_clock::now();
  c.send("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
  ASSERT_EQ(c.read_response().status, 200);
  EXPECT_EQ(fields->name, "example.com");
  EXPECT_GE(fields->start, before - 1s);
  EXPECT_LE(fields->start, std::chrono::system_clock::now());
  EXPECT_FALSE(fields->websocket);

  c.send("GET / HTTP/1.1\r\nHost: [::1]:99\r\n\r\n");
  ASSERT_EQ(c.read_response().status, 200);
  EXPECT_EQ(fields->name, "[::1]");

  c.send("GET / HTTP/1.1\r\nHost:\r\n\r\n");  // an empty Host: our address
  ASSERT_EQ(c.read_response().status, 200);
  EXPECT_EQ(fields->name, "127.0.0.1");

  RawClient ws(server.port());
  ws.send(
      "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_EQ(ws.read_response().status, 200);
  EXPECT_TRUE(fields->websocket);
}

}  // namespace
}  // namespace httpkit::test
