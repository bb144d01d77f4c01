// The client against in-process servers: httpkit's own, and scripted raw
// sockets for the failures a well-behaved server never shows.
#include "httpkit/client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "client/client_core.hpp"
#include "io/event_loop.hpp"
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

// Echoes what it got: method, path, query, selected headers and the body.
Response echo(const Request& req) {
  std::string out = std::string(req.method()) + " " + std::string(req.target()) + "\n";
  for (auto name : {"authorization", "cookie", "content-type", "x-test", "host"}) {
    if (auto v = req.header(name)) out += std::string(name) + ": " + std::string(*v) + "\n";
  }
  out += "\n";
  out += std::string(req.body());
  return Response::text(out);
}

Response routes(const Request& req) {
  std::string_view p = req.path();
  if (p == "/big") return Response::text(std::string(10u << 20, 'x'));
  if (p.starts_with("/r/")) {
    int status = std::stoi(std::string(p.substr(3)));
    Response r(status, "");
    r.header("Location", "/echo");
    return r;
  }
  if (p == "/loop") {
    Response r(302, "");
    r.header("Location", "/loop");
    return r;
  }
  if (p == "/slow") {
    std::this_thread::sleep_for(500ms);
    return Response::text("slow");
  }
  if (p == "/latin1") {
    Response r(200, "caf\xe9");
    r.header("Content-Type", "text/plain; charset=ISO-8859-1");
    return r;
  }
  return echo(req);
}

ServerOptions threaded() {
  ServerOptions o = test::test_options();
  o.worker_threads = 4;  // /slow must not hold up the loop
  o.max_body = 64u << 20;
  return o;
}

TEST(Client, GetReturnsStatusHeadersBody) {
  TestServer server(routes, threaded());
  Client client;
  ClientResponse r = client.get(base(server.port()) + "/echo?a=1").get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("CONTENT-TYPE").value_or(""), "text/plain; charset=utf-8");
  EXPECT_EQ(r.body.substr(0, 14), "GET /echo?a=1\n");
  EXPECT_EQ(r.url, base(server.port()) + "/echo?a=1");
  EXPECT_EQ(r.opts.method, "GET");
  EXPECT_GT(r.timing.total.count(), 0);
  EXPECT_LE(r.timing.first_byte, r.timing.total);
  EXPECT_LE(r.timing.connect, r.timing.first_byte);
}

TEST(Client, ErrorStatusIsNotAnError) {
  TestServer server([](const Request&) { return Response::text("nope", 404); });
  Client client;
  ClientResponse r = client.get(base(server.port()) + "/").get();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "nope");
}

TEST(Client, ShorthandsAndBodies) {
  TestServer server(routes, threaded());
  Client client;
  const std::string url = base(server.port()) + "/echo";
  EXPECT_EQ(client.put(url, {.body = "abc"}).get().body.substr(0, 4), "PUT ");
  EXPECT_EQ(client.delete_(url).get().body.substr(0, 7), "DELETE ");
  EXPECT_EQ(client.patch(url).get().body.substr(0, 6), "PATCH ");
  EXPECT_EQ(client.options(url).get().body.substr(0, 8), "OPTIONS ");
  ClientResponse h = client.head(url).get();
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "");

  ClientResponse form = client.post(url, {.form_params = {{"a", "1 2"}, {"b", "&"}}}).get();
  EXPECT_NE(form.body.find("content-type: application/x-www-form-urlencoded"), std::string::npos);
  EXPECT_NE(form.body.find("\n\na=1+2&b=%26"), std::string::npos) << form.body;

  RequestOptions mp;
  mp.multipart = {MultipartPart::text("field", "value")};
  ClientResponse m = client.post(url, mp).get();
  EXPECT_NE(m.body.find("content-type: multipart/form-data; boundary=httpkit-"), std::string::npos);
  EXPECT_NE(m.body.find("name=\"field\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nvalue"),
            std::string::npos);

  ClientResponse auth = client.get(url, {.basic_auth = BasicAuth{"u", "p"}}).get();
  EXPECT_NE(auth.body.find("authorization: Basic dTpw"), std::string::npos);
  ClientResponse bearer = client.get(url, {.bearer_token = "t0k"}).get();
  EXPECT_NE(bearer.body.find("authorization: Bearer t0k"), std::string::npos);
}

TEST(Client, KeepAliveReusesOneConnection) {
  TestServer server(routes, threaded());
  Client client;
  for (int i = 0; i < 20; ++i) {
    ClientResponse r = client.get(base(server.port()) + "/echo").get();
    ASSERT_TRUE(r.ok()) << r.error.message;
  }
  ClientStats s = client.stats();
  EXPECT_EQ(s.connections_opened, 1u);
  EXPECT_EQ(s.requests_reused, 19u);
  EXPECT_EQ(s.idle_connections, 1u);
}

TEST(Client, KeepaliveDisabledClosesEachTime) {
  TestServer server(routes, threaded());
  Client client;
  for (int i = 0; i < 3; ++i) {
    ClientResponse r = client.get(base(server.port()) + "/echo", {.keepalive = -1ms}).get();
    ASSERT_TRUE(r.ok());
  }
  EXPECT_EQ(client.stats().connections_opened, 3u);
}

TEST(Client, ConcurrentRequestsShareABoundedPool) {
  TestServer server(routes, threaded());
  Client client(ClientConfig{.max_connections = 8});
  std::vector<std::future<ClientResponse>> futures;
  for (int i = 0; i < 300; ++i)
    futures.push_back(client.get(base(server.port()) + "/echo?i=" + std::to_string(i)));
  for (int i = 0; i < 300; ++i) {
    ClientResponse r = futures[std::size_t(i)].get();
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.body.substr(0, 12 + std::to_string(i).size()), "GET /echo?i=" + std::to_string(i));
  }
  EXPECT_LE(client.stats().connections_opened, 8u);
}

TEST(Client, BackToBackRequestsQueueOnOneConnection) {
  TestServer server(routes, threaded());
  Client client(ClientConfig{.max_connections = 1});
  std::vector<std::future<ClientResponse>> futures;
  for (int i = 0; i < 50; ++i)
    futures.push_back(client.get(base(server.port()) + "/echo"));
  for (auto& f : futures)
    ASSERT_TRUE(f.get().ok());
  EXPECT_EQ(client.stats().connections_opened, 1u);
  EXPECT_EQ(client.stats().requests_reused, 49u);
}

TEST(Client, RedirectRules) {
  TestServer server(routes, threaded());
  Client client;
  const std::string b = base(server.port());
  for (int status : {301, 302, 303}) {
    ClientResponse r = client.post(b + "/r/" + std::to_string(status), {.body = "data"}).get();
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.body.substr(0, 10), "GET /echo\n") << status;
    EXPECT_EQ(r.redirects, 1);
    EXPECT_EQ(r.url, b + "/echo");
  }
  for (int status : {307, 308}) {
    ClientResponse r = client.post(b + "/r/" + std::to_string(status), {.body = "data"}).get();
    EXPECT_EQ(r.body.substr(0, 11), "POST /echo\n") << status;
    EXPECT_EQ(r.body.substr(r.body.size() - 4), "data");
  }
  ClientResponse off = client.get(b + "/r/302", {.follow_redirects = false}).get();
  EXPECT_EQ(off.status, 302);
  EXPECT_EQ(off.header("location").value_or(""), "/echo");

  ClientResponse loop = client.get(b + "/loop").get();
  EXPECT_EQ(loop.error.kind, ErrorKind::too_many_redirects);
  ClientResponse few = client.get(b + "/loop", {.max_redirects = 2}).get();
  EXPECT_EQ(few.error.kind, ErrorKind::too_many_redirects);
  EXPECT_NE(few.error.message.find("2 redirects"), std::string::npos);
}

TEST(Client, CrossOriginRedirectDropsCredentials) {
  TestServer target(routes, threaded());
  const std::string to = base(target.port()) + "/echo";
  TestServer origin([to](const Request&) {
    Response r(302, "");
    r.header("Location", to);
    return r;
  });
  Client client;
  RequestOptions o;
  o.headers = {{"Cookie", "c=1"}, {"X-Test", "kept"}};
  o.basic_auth = BasicAuth{"u", "p"};
  ClientResponse r = client.get(base(origin.port()) + "/", o).get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.body.find("authorization"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("cookie"), std::string::npos);
  EXPECT_NE(r.body.find("x-test: kept"), std::string::npos);
  // Same origin keeps them.
  ClientResponse same = client.get(base(target.port()) + "/r/302", o).get();
  EXPECT_NE(same.body.find("authorization: Basic"), std::string::npos);
  EXPECT_NE(same.body.find("cookie: c=1"), std::string::npos);
}

TEST(Client, MaxBody) {
  TestServer server(routes, threaded());
  Client client;
  ClientResponse r = client.get(base(server.port()) + "/big", {.max_body = 1000}).get();
  EXPECT_EQ(r.error.kind, ErrorKind::body_too_large);
  EXPECT_TRUE(r.body.empty());
  ClientResponse ok = client.get(base(server.port()) + "/big").get();
  EXPECT_EQ(ok.body.size(), 10u << 20);
}

TEST(Client, TextIsConvertedBytesAreNot) {
  TestServer server(routes, threaded());
  Client client;
  EXPECT_EQ(client.get(base(server.port()) + "/latin1").get().body, "caf\xc3\xa9");
  EXPECT_EQ(client.get(base(server.port()) + "/latin1", {.as = BodyAs::bytes}).get().body,
            "caf\xe9");
}

TEST(Client, StreamingWithBackpressure) {
  TestServer server(routes, threaded());
  Client client;
  std::atomic<std::size_t> received{0};
  std::atomic<int> pauses{0};
  std::atomic<int> status{0};
  std::atomic<bool> paused{false}, finished{false};
  std::promise<ClientResponse> done;
  RequestOptions o;
  o.url = base(server.port()) + "/big";
  o.as = BodyAs::stream;
  o.stream.on_headers = [&](const ClientResponse& head) { status = head.status; };
  o.stream.on_chunk = [&](std::string_view chunk) {
    EXPECT_LE(chunk.size(), 64u * 1024);
    EXPECT_FALSE(paused.load()) << "a chunk came while paused";
    received += chunk.size();
    if (received > (std::size_t(pauses) + 1) * (1u << 20)) {
      ++pauses;
      paused = true;
      return false;
    }
    return true;
  };
  RequestHandle handle = client.request(o, [&](ClientResponse r) { done.set_value(std::move(r)); });
  // Resumes each pause a little later, from another thread.
  std::thread resumer([&] {
    while (!finished) {
      std::this_thread::sleep_for(20ms);
      if (paused.exchange(false)) handle.resume();
    }
  });
  ClientResponse r = done.get_future().get();
  finished = true;
  resumer.join();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(status.load(), 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(received.load(), 10u << 20);
  EXPECT_GE(pauses.load(), 9);
}

TEST(Client, CancelEndsTheRequest) {
  TestServer server(routes, threaded());
  Client client;
  std::promise<ClientResponse> done;
  RequestHandle h = client.get(base(server.port()) + "/slow", {},
                               [&](ClientResponse r) { done.set_value(std::move(r)); });
  h.cancel();
  ClientResponse r = done.get_future().get();
  EXPECT_EQ(r.error.kind, ErrorKind::cancelled);
}

TEST(Client, BlockingFetchAndDefaultClient) {
  TestServer server(routes, threaded());
  ClientResponse r = fetch(base(server.port()) + "/echo");
  EXPECT_EQ(r.status, 200);
  Client client;
  EXPECT_EQ(client.fetch({.url = base(server.port()) + "/echo"}).status, 200);
}

TEST(Client, Ipv6Literal) {
  ServerOptions o = test::test_options();
  o.host = "::1";
  TestServer server(routes, o);
  Client client;
  ClientResponse r = client.get("http://[::1]:" + std::to_string(server.port()) + "/echo").get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_NE(r.body.find("host: [::1]:"), std::string::npos) << r.body;
}

TEST(Client, ResolvesNamesOffTheLoop) {
  TestServer server(routes, threaded());
  Client client;
  ClientResponse r =
      client.get("http://localhost:" + std::to_string(server.port()) + "/echo").get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_NE(r.body.find("host: localhost:"), std::string::npos);
  Client fixed(ClientConfig{.resolve = {{"service.test", "127.0.0.1"}}});
  EXPECT_EQ(
      fixed.get("http://service.test:" + std::to_string(server.port()) + "/echo").get().status,
      200);
}

// ------------------------------------------------------------------ errors

TEST(ClientErrors, InvalidRequest) {
  Client client;
  EXPECT_EQ(client.get("not a url").get().error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(client.get("ftp://h/").get().error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(client.get("http://h/", {.headers = {{"X", "a\nb"}}}).get().error.kind,
            ErrorKind::invalid_request);
  RequestOptions mp;
  mp.multipart = {MultipartPart::from_file("f", "/nonexistent")};
  EXPECT_EQ(client.post("http://h/", mp).get().error.kind, ErrorKind::invalid_request);
}

TEST(ClientErrors, Refused) {
  Client client;
  ClientResponse r = client.get(base(test::closed_port()) + "/").get();
  EXPECT_EQ(r.error.kind, ErrorKind::connect);
  EXPECT_EQ(r.error.sys_errno, ECONNREFUSED);
  EXPECT_NE(r.error.message.find("refused"), std::string::npos) << r.error.message;
}

TEST(ClientErrors, Dns) {
  Client client;
  ClientResponse r = client.get("http://no-such-host.invalid/").get();
  EXPECT_EQ(r.error.kind, ErrorKind::dns) << r.error.message;
  EXPECT_NE(r.error.message.find("no-such-host.invalid"), std::string::npos);
}

TEST(ClientErrors, ResetMidBody) {
  RawServer server([](int fd, int) {
    test::read_request(fd);
    test::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial");
    std::this_thread::sleep_for(50ms);
    test::reset_close(fd);
  });
  Client client;
  ClientResponse r = client.get(base(server.port()) + "/").get();
  EXPECT_EQ(r.error.kind, ErrorKind::reset) << r.error.message;
}

TEST(ClientErrors, ClosedMidBody) {
  RawServer server([](int fd, int) {
    test::read_request(fd);
    test::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
  });
  Client client;
  ClientResponse r = client.get(base(server.port()) + "/").get();
  EXPECT_EQ(r.error.kind, ErrorKind::reset);
  EXPECT_NE(r.error.message.find("93 body bytes still to come"), std::string::npos)
      << r.error.message;
}

TEST(ClientErrors, MalformedResponses) {
  const std::vector<std::string> answers = {
      "garbage\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nnotgz",
      "HTTP/2.0 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
  };
  for (const std::string& answer : answers) {
    RawServer server([&](int fd, int) {
      test::read_request(fd);
      test::write_all(fd, answer);
      std::this_thread::sleep_for(100ms);
    });
    Client client;
    ClientResponse r = client.get(base(server.port()) + "/").get();
    EXPECT_EQ(r.error.kind, ErrorKind::protocol) << answer << " -> " << r.error.message;
  }
}

TEST(ClientErrors, IdleTimeout) {
  RawServer server([](int fd, int) {
    test::read_request(fd);
    std::this_thread::sleep_for(1500ms);
  });
  Client client;
  ClientResponse r = client.get(base(server.port()) + "/", {.idle_timeout = 300ms}).get();
  EXPECT_EQ(r.error.kind, ErrorKind::timeout);
  EXPECT_EQ(r.error.timeout, TimeoutKind::idle);
  EXPECT_NE(r.error.message.find("waiting for the response head"), std::string::npos);
  EXPECT_LT(r.timing.total, 1000ms);
  // `timeout` overrides idle_timeout.
  ClientResponse o = client.get(base(server.port()) + "/", {.timeout = 200ms}).get();
  EXPECT_EQ(o.error.timeout, TimeoutKind::idle);
}

TEST(ClientErrors, TotalTimeout) {
  RawServer server([](int fd, int) {
    test::read_request(fd);
    test::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    for (int i = 0; i < 30 && test::write_all(fd, "x"); ++i)
      std::this_thread::sleep_for(50ms);
  });
  Client client;
  ClientResponse r =
      client.get(base(server.port()) + "/", {.idle_timeout = 1000ms, .total_timeout = 400ms}).get();
  EXPECT_EQ(r.error.kind, ErrorKind::timeout);
  EXPECT_EQ(r.error.timeout, TimeoutKind::total);
}

TEST(ClientErrors, ConnectTimeout) {
  // A listener that never accepts, its backlog filled: SYNs go unanswered.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 0), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int f = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(f, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(f);
  }
  std::this_thread::sleep_for(50ms);
  Client client;
  ClientResponse r = client.get(base(ntohs(a.sin_port)) + "/", {.connect_timeout = 300ms}).get();
  EXPECT_EQ(r.error.kind, ErrorKind::timeout) << r.error.message;
  EXPECT_EQ(r.error.timeout, TimeoutKind::connect);
  EXPECT_NE(r.error.message.find("in TCP connect"), std::string::npos) << r.error.message;
  for (int f : fillers)
    close(f);
  close(fd);
}

TEST(ClientErrors, PoolTimeout) {
  TestServer server(routes, threaded());
  Client client(ClientConfig{.max_connections = 1});
  auto slow = client.get(base(server.port()) + "/slow");
  std::this_thread::sleep_for(50ms);
  ClientResponse r = client.get(base(server.port()) + "/echo", {.connect_timeout = 100ms}).get();
  EXPECT_EQ(r.error.kind, ErrorKind::timeout);
  EXPECT_EQ(r.error.timeout, TimeoutKind::pool);
  EXPECT_TRUE(slow.get().ok());
}

TEST(ClientErrors, Overloaded) {
  TestServer server(routes, threaded());
  Client client(ClientConfig{.max_connections = 1, .max_pending = 1});
  auto a = client.get(base(server.port()) + "/slow");
  auto b = client.get(base(server.port()) + "/echo");
  auto c = client.get(base(server.port()) + "/echo");
  EXPECT_EQ(c.get().error.kind, ErrorKind::overloaded);
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());
}

// A kept-alive connection the server dropped: GET is retried once on a new
// connection, POST is not.
TEST(ClientErrors, StaleConnectionRetriedForIdempotentOnly) {
  for (const char* method : {"GET", "POST"}) {
    RawServer server([](int fd, int index) {
      if (!test::read_request(fd).empty())
        test::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      if (index == 0) {
        test::read_request(fd);  // the second request: dropped unanswered
        return;
      }
      while (!test::read_request(fd, 1000).empty())
        test::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    Client client;
    RequestOptions o;
    o.method = method;
    o.url = base(server.port()) + "/";
    ASSERT_TRUE(client.request(o).get().ok());
    ClientResponse second = client.request(o).get();
    if (std::string(method) == "GET") {
      EXPECT_TRUE(second.ok()) << second.error.message;
      EXPECT_EQ(client.stats().retries, 1u);
      EXPECT_EQ(client.stats().connections_opened, 2u);
    } else {
      EXPECT_EQ(second.error.kind, ErrorKind::reset) << second.error.message;
      EXPECT_EQ(client.stats().retries, 0u);
    }
  }
}

TEST(ClientErrors, ChunkedGzipFromARawServer) {
  RawServer server([](int fd, int) {
    std::string req = test::read_request(fd);
    // gzip of "hello world\n", sent in two chunks.
    const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb,
                                0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x28, 0xcf, 0x2f, 0xca, 0x49, 0xe1,
                                0x02, 0x00, 0x2d, 0x3b, 0x08, 0xaf, 0x0c, 0x00, 0x00, 0x00};
    std::string body(reinterpret_cast<const char*>(gz), sizeof gz);
    std::string out =
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
    out += "a\r\n" + body.substr(0, 10) + "\r\n";
    char size[16];
    snprintf(size, sizeof size, "%zx\r\n", body.size() - 10);
    out += size + body.substr(10) + "\r\n0\r\n\r\n";
    test::write_all(fd, out);
    std::this_thread::sleep_for(100ms);
  });
  Client client;
  ClientResponse r = client.get(base(server.port()) + "/").get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.body, "hello world\n");
}

// A callback that throws is reported through ClientConfig::logger, and the
// client goes on serving.
TEST(Client, ThrowingCallbackGoesToTheLogger) {
  TestServer server(routes, threaded());
  std::mutex mutex;
  std::vector<std::pair<LogLevel, std::string>> logged;
  ClientConfig config;
  config.logger = [&](LogLevel level, std::string_view message) {
    std::lock_guard lock(mutex);
    logged.emplace_back(level, std::string(message));
  };
  Client client(config);
  std::promise<void> called;
  client.get(base(server.port()) + "/echo", {}, [&](ClientResponse) {
    called.set_value();
    throw std::runtime_error("boom");
  });
  ASSERT_EQ(called.get_future().wait_for(5s), std::future_status::ready);
  ClientResponse r = client.get(base(server.port()) + "/echo").get();
  EXPECT_TRUE(r.ok()) << to_string(r.error);
  std::lock_guard lock(mutex);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].first, LogLevel::error);
  EXPECT_EQ(logged[0].second, "client: response callback threw: boom");
}

// The client on a loop the caller drives.
TEST(Client, RunsOnAnExternalLoop) {
  TestServer server(routes, threaded());
  io::EventLoop loop;
  std::unique_ptr<Client> client = client::ClientAccess::on_loop(loop);
  int done = 0;
  for (int i = 0; i < 5; ++i) {
    client->get(base(server.port()) + "/echo", {}, [&](ClientResponse r) {
      EXPECT_TRUE(r.ok()) << r.error.message;
      if (++done == 5) loop.stop();
    });
  }
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (done < 5 && std::chrono::steady_clock::now() < deadline)
    loop.run_once(50);
  EXPECT_EQ(done, 5);
  client.reset();
}

}  // namespace
}  // namespace httpkit
