// Request bodies that are not in memory: a file sent as it is read, and a
// stream pulled chunk by chunk (Content-Length when its size is given,
// chunked otherwise), with the socket's backpressure reaching the producer.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "httpkit/client.hpp"
#include "raw_server.hpp"
#include "server/test_server.hpp"

namespace httpkit {
namespace {

using namespace std::chrono_literals;
using test::RawServer;
using test::TestServer;

std::string base(uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

uint64_t fnv1a(std::string_view bytes, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : bytes)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

// The byte at `i` of the test bodies.
char pattern(uint64_t i) {
  return char('a' + (i * 7 + i / 4096) % 26);
}

// Answers "<method> <length> <hash> <framing>" for the body it got, or
// redirects /r/<status> to /sum.
Response summing(const Request& req) {
  std::string_view p = req.path();
  if (p.starts_with("/r/")) {
    Response r(std::stoi(std::string(p.substr(3))), "");
    r.header("Location", "/sum");
    return r;
  }
  const char* framing = req.header("transfer-encoding") ? "chunked"
                        : req.header("content-length")  ? "length"
                                                        : "none";
  return Response::text(std::string(req.method()) + " " + std::to_string(req.body().size()) + " " +
                        std::to_string(fnv1a(req.body())) + " " + framing);
}

ServerOptions big_bodies() {
  ServerOptions o = test::test_options();
  o.max_body = 64u << 20;
  return o;
}

struct TempFile {
  explicit TempFile(uint64_t size) {
    char name[] = "/tmp/httpkit-body-XXXXXX";
    int fd = mkstemp(name);
    path = name;
    std::string block(1 << 16, '\0');
    for (uint64_t at = 0; at < size;) {
      const std::size_t n = std::size_t(std::min<uint64_t>(block.size(), size - at));
      for (std::size_t i = 0; i < n; ++i)
        block[i] = pattern(at + i);
      hash = fnv1a(std::string_view(block.data(), n), hash);
      EXPECT_EQ(write(fd, block.data(), n), ssize_t(n));
      at += n;
    }
    close(fd);
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
  uint64_t hash = 1469598103934665603ull;
};

// A producer of `total` pattern bytes in pieces of at most `piece`.
struct Producer {
  uint64_t total = 0;
  std::size_t piece = 1000;
  bool cheap = false;  // one byte value per chunk: fast enough for hundreds of MiB under ASan
  std::shared_ptr<std::atomic<uint64_t>> given = std::make_shared<std::atomic<uint64_t>>(0);
  BodyPull pull() const {
    return [total = total, piece = piece, cheap = cheap, given = given](std::span<char> buffer) {
      const uint64_t at = given->load();
      const std::size_t n = std::size_t(std::min<uint64_t>({buffer.size(), piece, total - at}));
      if (cheap) {
        std::memset(buffer.data(), pattern(at), n);
      } else {
        for (std::size_t i = 0; i < n; ++i)
          buffer[i] = pattern(at + i);
      }
      given->store(at + n);
      return n;
    };
  }
};

uint64_t pattern_hash(uint64_t size) {
  uint64_t h = 1469598103934665603ull;
  for (uint64_t i = 0; i < size; ++i)
    h = (h ^ uint8_t(pattern(i))) * 1099511628211ull;
  return h;
}

TEST(ClientBody, FileIsSentWithItsLength) {
  TestServer server(summing, big_bodies());
  Client client;
  TempFile file(24u << 20);
  ClientResponse r = client.put(base(server.port()) + "/sum", {.body_file = file.path}).get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.body,
            "PUT " + std::to_string(24u << 20) + " " + std::to_string(file.hash) + " length");

  TempFile empty(0);
  ClientResponse e = client.post(base(server.port()) + "/sum", {.body_file = empty.path}).get();
  EXPECT_EQ(e.body, "POST 0 " + std::to_string(empty.hash) + " length");
}

TEST(ClientBody, FileGoesAgainOn307ButNotAfter303) {
  TestServer server(summing, big_bodies());
  Client client;
  TempFile file(300000);
  const std::string b = base(server.port());
  ClientResponse kept = client.post(b + "/r/307", {.body_file = file.path}).get();
  ASSERT_TRUE(kept.ok()) << kept.error.message;
  EXPECT_EQ(kept.body, "POST 300000 " + std::to_string(file.hash) + " length");
  ClientResponse dropped = client.post(b + "/r/303", {.body_file = file.path}).get();
  EXPECT_EQ(dropped.body.substr(0, 6), "GET 0 ");
}

TEST(ClientBody, StreamOfUnknownLengthGoesChunked) {
  TestServer server(summing, big_bodies());
  Client client;
  Producer p{.total = 5'000'123, .piece = 7000};
  ClientResponse r = client.post(base(server.port()) + "/sum", {.body_stream = p.pull()}).get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.body, "POST 5000123 " + std::to_string(pattern_hash(5'000'123)) + " chunked");

  Producer none{.total = 0};
  ClientResponse e = client.post(base(server.port()) + "/sum", {.body_stream = none.pull()}).get();
  EXPECT_EQ(e.body.substr(0, 7), "POST 0 ");
}

TEST(ClientBody, StreamOfKnownLengthGoesWithContentLength) {
  TestServer server(summing, big_bodies());
  Client client;
  Producer p{.total = 1'000'000, .piece = 65536};
  ClientResponse r =
      client.put(base(server.port()) + "/sum", {.body_stream = p.pull(), .body_length = 1'000'000})
          .get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.body, "PUT 1000000 " + std::to_string(pattern_hash(1'000'000)) + " length");
}

TEST(ClientBody, ChunkFramingOnTheWire) {
  std::string got;
  RawServer raw([&](int fd, int) {
    char buf[4096];
    while (got.find("\r\n0\r\n\r\n") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return;
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      got.append(buf, std::size_t(n));
    }
    test::write_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  Client client;
  int calls = 0;
  BodyPull pull = [&calls](std::span<char> buffer) -> std::size_t {
    static constexpr std::string_view kPieces[] = {"hello", " world, ", "0123456789abcdef!"};
    if (calls == 3) return 0;
    std::string_view piece = kPieces[calls++];
    std::memcpy(buffer.data(), piece.data(), piece.size());
    return piece.size();
  };
  ClientResponse r = client.post(base(raw.port()) + "/", {.body_stream = pull}).get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(got.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("Content-Length"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4),
            "5\r\nhello\r\n8\r\n world, \r\n11\r\n0123456789abcdef!\r\n0\r\n\r\n");
}

TEST(ClientBody, SlowServerHoldsTheProducerBack) {
  std::atomic<bool> read_now{false};
  std::atomic<uint64_t> received{0};
  RawServer raw([&](int fd, int) {
    int small = 64 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    for (int i = 0; i < 2000 && !read_now; ++i)  // at most 10 s, should the test fail early
      std::this_thread::sleep_for(5ms);
    char buf[1 << 16];
    std::string tail;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return;
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      received += uint64_t(n);
      tail = (tail + std::string(buf, std::size_t(n)));
      if (tail.size() > 16) tail.erase(0, tail.size() - 16);
      if (tail.ends_with("\r\n0\r\n\r\n")) break;
    }
    test::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  Client client;
  constexpr uint64_t kTotal = 256ull << 20;
  Producer p{.total = kTotal, .piece = 65536, .cheap = true};
  auto future = client.post(base(raw.port()) + "/", {.body_stream = p.pull()});
  std::this_thread::sleep_for(500ms);
  // Only what the socket buffers hold has been asked for.
  const uint64_t before = p.given->load();
  EXPECT_GT(before, 0u);
  EXPECT_LT(before, 48ull << 20) << "the producer ran ahead of the socket";
  read_now = true;
  ASSERT_EQ(future.wait_for(60s), std::future_status::ready);
  ClientResponse r = future.get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(p.given->load(), kTotal);
  EXPECT_GT(received.load(), kTotal);  // the body plus its chunk framing
}

TEST(ClientBody, ProducerFailuresAreInvalidRequests) {
  TestServer server(summing, big_bodies());
  Client client;
  const std::string url = base(server.port()) + "/sum";
  BodyPull throws = [](std::span<char>) -> std::size_t { throw std::runtime_error("disk gone"); };
  ClientResponse t = client.post(url, {.body_stream = throws}).get();
  EXPECT_EQ(t.error.kind, ErrorKind::invalid_request);
  EXPECT_NE(t.error.message.find("disk gone"), std::string::npos) << t.error.message;

  Producer shorter{.total = 10};
  ClientResponse s = client.post(url, {.body_stream = shorter.pull(), .body_length = 20}).get();
  EXPECT_EQ(s.error.kind, ErrorKind::invalid_request);
  EXPECT_NE(s.error.message.find("ended after 10 of body_length 20"), std::string::npos)
      << s.error.message;
  Producer longer{.total = 30};
  ClientResponse l = client.post(url, {.body_stream = longer.pull(), .body_length = 20}).get();
  EXPECT_EQ(l.error.kind, ErrorKind::invalid_request);

  ClientResponse missing = client.post(url, {.body_file = "/nonexistent/file"}).get();
  EXPECT_EQ(missing.error.kind, ErrorKind::invalid_request);
  EXPECT_NE(missing.error.message.find("/nonexistent/file"), std::string::npos);
  ClientResponse dir = client.post(url, {.body_file = "/tmp"}).get();
  EXPECT_EQ(dir.error.kind, ErrorKind::invalid_request);
  ClientResponse both = client.post(url, {.body = "x", .body_file = "/etc/hostname"}).get();
  EXPECT_EQ(both.error.kind, ErrorKind::invalid_request);
}

TEST(ClientBody, StreamAlreadySentIsNotReplayedOn307) {
  TestServer server(summing, big_bodies());
  Client client;
  Producer p{.total = 1000};
  ClientResponse r = client.post(base(server.port()) + "/r/307", {.body_stream = p.pull()}).get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.status, 307);  // the answer itself: the bytes cannot be produced again
  EXPECT_EQ(r.redirects, 0);
  // 302 drops the body anyway, so it is followed.
  Producer q{.total = 1000};
  ClientResponse g = client.post(base(server.port()) + "/r/302", {.body_stream = q.pull()}).get();
  EXPECT_EQ(g.body.substr(0, 6), "GET 0 ");
}

}  // namespace
}  // namespace httpkit
