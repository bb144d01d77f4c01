// Streamed output over real sockets: output filters on HTTP channels,
// StreamBody pulled with backpressure, and HEAD's Content-Length.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "../tls/tls_test_peer.hpp"
#include "httpkit/channel.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

using namespace std::chrono_literals;

// Upper-cases each piece inside brackets and marks flushes and the end, so
// the body shows every call the server made.
class MarkingFilter final : public BodyFilter {
 public:
  explicit MarkingFilter(std::atomic<int>* calls) : calls_(calls) {}
  bool process(std::string_view in, bool flush, bool last, std::string& out) override {
    calls_->fetch_add(1);
    if (!in.empty()) {
      out += '[';
      for (char c : in)
        out += char(std::toupper(static_cast<unsigned char>(c)));
      out += ']';
    }
    if (last) {
      out += "<end>";
    } else if (flush) {
      out += '|';
    }
    return true;
  }

 private:
  std::atomic<int>* calls_;
};

struct Recorder {
  std::promise<ChannelPtr> opened;
  std::atomic<int> setups{0};
  std::atomic<int> calls{0};
  std::atomic<int> seen_status{0};
  std::atomic<bool> promised{false};

  OutputFilter setup() {
    return [this](OutputHead& head) -> std::unique_ptr<BodyFilter> {
      setups.fetch_add(1);
      seen_status = head.status;
      std::erase_if(head.headers, [](const Header& h) { return h.name == "X-Drop"; });
      head.headers.push_back({"X-Filtered", "yes"});
      return std::make_unique<MarkingFilter>(&calls);
    };
  }
  Handler channel_handler() {
    auto h = std::make_shared<ChannelHandlers>();
    h->on_open = [this](const ChannelPtr& ch) {
      if (!promised.exchange(true)) opened.set_value(ch);
    };
    return [this, h](const Request& r) {
      Response res = as_channel(r, h);
      res.output_filters.push_back(setup());
      return res;
    };
  }
  ChannelPtr wait() {
    auto f = opened.get_future();
    return f.wait_for(5s) == std::future_status::ready ? f.get() : nullptr;
  }
};

TEST(OutputFilter, EditsTheHeadAtTheFirstSendAndSeesEveryPieceFlushed) {
  Recorder rec;
  TestServer server(rec.channel_handler());
  RawClient c(server.port());
  c.send("GET /s HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = rec.wait();
  ASSERT_TRUE(ch);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(rec.setups.load(), 0);  // the head is not known before the first send

  Response head;
  head.status = 202;
  head.header("Content-Type", "text/plain").header("X-Drop", "1");
  head.body = std::string("a");
  ASSERT_TRUE(ch->send_response(head, false));
  RawResponse r = c.read_head();
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(rec.seen_status.load(), 202);
  EXPECT_EQ(r.get("x-filtered"), "yes");
  EXPECT_FALSE(r.has("x-drop"));
  EXPECT_EQ(r.get("transfer-encoding"), "chunked");
  // The first piece arrives, flushed, before anything else is sent.
  EXPECT_EQ(c.read_exact(9), "4\r\n[A]|\r\n");
  ASSERT_TRUE(ch->send("b", false));
  EXPECT_EQ(c.read_exact(9), "4\r\n[B]|\r\n");
  ch->close();
  EXPECT_EQ(c.read_exact(10 + 5), "5\r\n<end>\r\n0\r\n\r\n");
  EXPECT_EQ(rec.setups.load(), 1);
  EXPECT_EQ(rec.calls.load(), 3);
  // The connection goes on with the next request.
  c.send("GET /s HTTP/1.1\r\nHost: t\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(c.closed_by_peer(100));
}

TEST(OutputFilter, ASingleSendIsFilteredWholeAndGetsItsLength) {
  Recorder rec;
  TestServer server(rec.channel_handler());
  RawClient c(server.port());
  c.send("GET /s HTTP/1.1\r\nHost: t\r\n\r\n");
  ChannelPtr ch = rec.wait();
  ASSERT_TRUE(ch);
  ASSERT_TRUE(ch->send("abc"));  // close_after: the whole body at once
  RawResponse r = c.read_response();
  EXPECT_EQ(r.body, "[ABC]<end>");
  EXPECT_EQ(r.get("content-length"), "10");
  EXPECT_EQ(r.get("content-type"), "text/html; charset=utf-8");  // the default, seen by set-ups
  EXPECT_EQ(r.get("x-filtered"), "yes");
}

TEST(OutputFilter, AFailingFilterClosesTheConnection) {
  struct Failing final : BodyFilter {
    bool process(std::string_view, bool, bool, std::string&) override { return false; }
  };
  auto h = std::make_shared<ChannelHandlers>();
  h->on_open = [](const ChannelPtr& ch) { ch->send("x", false); };
  TestServer server([h](const Request& r) {
    Response res = as_channel(r, h);
    res.output_filters.push_back(
        [](OutputHead&) -> std::unique_ptr<BodyFilter> { return std::make_unique<Failing>(); });
    return res;
  });
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_head().status, 200);
  EXPECT_TRUE(c.closed_by_peer());
}

// A generator of `total` bytes in `piece`-byte pieces that counts what it made.
struct Counting {
  std::shared_ptr<std::atomic<uint64_t>> made = std::make_shared<std::atomic<uint64_t>>(0);
  StreamBody body(uint64_t total, std::size_t piece, bool with_length) const {
    StreamBody b;
    if (with_length) b.length = total;
    b.next = [made = made, total, piece]() -> std::optional<std::string> {
      const uint64_t at = made->load();
      if (at >= total) return std::nullopt;
      const std::size_t n = std::size_t(std::min<uint64_t>(piece, total - at));
      std::string s(n, char('a' + (at / piece) % 26));
      made->fetch_add(n);
      return s;
    };
    return b;
  }
};

std::string expected_body(uint64_t total, std::size_t piece) {
  std::string s;
  for (uint64_t at = 0; at < total; at += piece)
    s.append(std::size_t(std::min<uint64_t>(piece, total - at)), char('a' + (at / piece) % 26));
  return s;
}

TEST(StreamBody, IsChunkedOrSentWithItsLength) {
  Counting chunked, sized;
  TestServer server([&](const Request& r) {
    Response res;
    res.header("Content-Type", "text/plain");
    res.body =
        r.path() == "/sized" ? sized.body(100000, 3000, true) : chunked.body(100000, 3000, false);
    return res;
  });
  RawClient c(server.port());
  c.send("GET /chunked HTTP/1.1\r\nHost: t\r\n\r\nGET /sized HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse a = c.read_response();
  EXPECT_EQ(a.get("transfer-encoding"), "chunked");
  EXPECT_EQ(a.body, expected_body(100000, 3000));
  RawResponse b = c.read_response();  // the pipelined request waited for the stream's end
  EXPECT_EQ(b.get("content-length"), "100000");
  EXPECT_FALSE(b.has("transfer-encoding"));
  EXPECT_EQ(b.body, a.body);
}

TEST(StreamBody, FromAnIstream) {
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "line " + std::to_string(i) + "\n";
  TestServer server([&](const Request&) {
    Response res;
    res.body = stream_body(std::make_unique<std::istringstream>(text), text.size(), 4096);
    return res;
  });
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.get("content-length"), std::to_string(text.size()));
  EXPECT_EQ(r.body, text);
}

TEST(StreamBody, ASlowReaderSlowsTheGenerator) {
  constexpr uint64_t kTotal = 8u << 20;
  constexpr std::size_t kPiece = 16 * 1024;
  Counting gen;
  TestServer server([&](const Request&) {
    Response res;
    res.body = gen.body(kTotal, kPiece, false);
    return res;
  });
  RawClient c(server.port(), 5000, 16 * 1024);
  const std::size_t server_buffer = c.set_server_send_buffer(16 * 1024);
  ASSERT_GT(server_buffer, 0u);
  const std::size_t buffers = server_buffer + c.receive_buffer();
  // What the server may hold beyond the socket buffers: a pull's flush
  // threshold (64 KiB), a piece, and chunk framing.
  const uint64_t bound = buffers + 64 * 1024 + 2 * kPiece + 4096;
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  std::this_thread::sleep_for(300ms);  // the reader reads nothing yet
  EXPECT_LE(gen.made->load(), bound);
  EXPECT_LT(gen.made->load(), kTotal);

  RawResponse head = c.read_head();
  ASSERT_EQ(head.status, 200);
  // Read slowly; the generator never runs ahead of the reader by more
  // than the bound.
  uint64_t received = 0, lead = 0;
  std::string raw;
  while (raw.size() < kTotal) {
    std::string got = c.read_some(64 * 1024);
    if (got.empty()) break;
    raw += got;
    received = raw.size();
    const uint64_t made = gen.made->load();
    ASSERT_LE(made, received + bound) << "after " << received << " bytes";
    if (made > received) lead = std::max(lead, made - received);
    std::this_thread::sleep_for(1ms);
    if (raw.size() >= 5 && raw.compare(raw.size() - 5, 5, "0\r\n\r\n") == 0) break;
  }
  EXPECT_EQ(gen.made->load(), kTotal);
  EXPECT_GT(received, kTotal);  // all of it came, with its chunk framing
  std::printf(
      "generated ahead of the reader: %llu B at most (socket buffers %zu B, bound %llu B)\n",
      (unsigned long long)lead, buffers, (unsigned long long)bound);
}

TEST(StreamBody, AThrowingGeneratorEndsTheResponseAndIsLogged) {
  std::mutex m;
  std::vector<std::string> logged;
  ServerOptions o = test_options();
  o.logger = [&](LogLevel level, std::string_view text) {
    std::lock_guard lock(m);
    if (level == LogLevel::error) logged.emplace_back(text);
  };
  TestServer server(
      [](const Request&) {
        Response res;
        auto calls = std::make_shared<int>(0);
        res.body = StreamBody{[calls]() -> std::optional<std::string> {
                                if (++*calls > 2) throw std::runtime_error("disk on fire");
                                return std::string("piece;");
                              },
                              std::nullopt};
        return res;
      },
      o);
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse r = c.read_head();
  EXPECT_EQ(r.status, 200);
  std::string rest;
  for (std::string got; !(got = c.read_some(4096)).empty();)
    rest += got;
  EXPECT_EQ(rest.find("0\r\n\r\n"), std::string::npos);  // no clean end: the cut shows
  EXPECT_TRUE(c.closed_by_peer());
  std::lock_guard lock(m);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("disk on fire"), std::string::npos);
}

TEST(StreamBody, AGeneratorBreakingItsLengthClosesTheConnection) {
  TestServer server([](const Request& r) {
    Response res;
    auto left = std::make_shared<int>(r.path() == "/short" ? 1 : 3);
    res.body = StreamBody{[left]() -> std::optional<std::string> {
                            if ((*left)-- <= 0) return std::nullopt;
                            return std::string(10, 'x');
                          },
                          20};
    return res;
  });
  for (const char* path : {"/short", "/long"}) {
    RawClient c(server.port());
    c.send(std::string("GET ") + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    RawResponse r = c.read_head();
    EXPECT_EQ(r.get("content-length"), "20") << path;
    std::string body;
    for (std::string got; !(got = c.read_some(4096)).empty();)
      body += got;
    EXPECT_LE(body.size(), 20u) << path;
    EXPECT_TRUE(c.closed_by_peer()) << path;
  }
}

TEST(StreamBody, HeadDoesNotCallTheGenerator) {
  Counting gen;
  TestServer server([&](const Request&) {
    Response res;
    res.body = gen.body(5000, 1000, true);
    return res;
  });
  RawClient c(server.port());
  c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse h = c.read_response(/*head_request=*/true);
  EXPECT_EQ(h.get("content-length"), "5000");
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(gen.made->load(), 0u);
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");  // the connection goes on
  RawResponse g = c.read_response();
  EXPECT_EQ(g.body.size(), 5000u);
}

TEST(StreamBody, GoesThroughTls) {
  static const test::TestCertificates certs;
  Counting gen;
  ServerOptions o = test_options();
  o.tls = ServerTlsOptions{};
  o.tls->cert_file = certs.cert;
  o.tls->key_file = certs.key;
  TestServer server(
      [&](const Request&) {
        Response res;
        res.body = gen.body(3u << 20, 50000, true);
        return res;
      },
      o);
  test::TlsClient c(server.server().tls_port(), certs.ca);
  ASSERT_TRUE(c.handshake());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const std::string response = c.response();
  const std::size_t end = response.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_NE(response.find("Content-Length: 3145728\r\n"), std::string::npos);
  EXPECT_TRUE(response.compare(end + 4, std::string::npos, expected_body(3u << 20, 50000)) == 0);
}

TEST(Head, AHandlersContentLengthIsKept) {
  TestServer server([](const Request& r) {
    Response res;
    res.header("Content-Type", "application/octet-stream");
    res.header("Content-Length", "123456");
    if (r.method() != "HEAD") res.body = std::string("short");
    return res;
  });
  RawClient c(server.port());
  c.send(
      "HEAD /big HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse h = c.read_response(/*head_request=*/true);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.get("content-length"), "123456");
  EXPECT_EQ(h.headers.count("content-length"), 1u);
  RawResponse g = c.read_response();  // a GET's length is the body's, whatever the handler says
  EXPECT_EQ(g.get("content-length"), "5");
  EXPECT_EQ(g.body, "short");
}

TEST(Head, WithoutOneTheBodysLengthIsReportedAndAnInvalidOneIgnored) {
  TestServer server([](const Request& r) {
    Response res = Response::text("twelve bytes");
    if (r.path() == "/bad") res.header("Content-Length", "12, 13");
    return res;
  });
  RawClient c(server.port());
  c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nHEAD /bad HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response(true).get("content-length"), "12");
  EXPECT_EQ(c.read_response(true).get("content-length"), "12");
}

TEST(Head, AFileBodyReportsTheFilesLength) {
  char path[] = "/tmp/httpkit-head-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string content(70000, 'f');
  ASSERT_EQ(write(fd, content.data(), content.size()), ssize_t(content.size()));
  close(fd);
  TestServer server([&](const Request&) { return Response::file(path); });
  RawClient c(server.port());
  c.send("HEAD /f HTTP/1.1\r\nHost: t\r\n\r\nGET /f HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse h = c.read_response(true);
  EXPECT_EQ(h.get("content-length"), "70000");
  RawResponse g = c.read_response();
  EXPECT_EQ(g.body.size(), 70000u);
  unlink(path);
}

TEST(Head, AChannelStreamSendsNoBodyNotEvenItsEnd) {
  auto h = std::make_shared<ChannelHandlers>();
  h->on_open = [](const ChannelPtr& ch) {
    Response head;
    head.header("Content-Type", "text/plain").header("Content-Length", "42");
    head.body = std::string("partial");
    ch->send_response(head, false);
    ch->send("more", false);
    ch->close();
  };
  TestServer server([h](const Request& r) {
    if (r.path() == "/next") return Response::text("next");
    return as_channel(r, h);
  });
  RawClient c(server.port());
  c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse head = c.read_response(true);
  EXPECT_EQ(head.get("content-length"), "42");  // the handler's, on HEAD
  RawResponse next = c.read_response();
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "next");
}

}  // namespace
}  // namespace httpkit::test
