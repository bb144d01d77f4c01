// The request/response cycle of the server, over real loopback sockets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "handler_gate.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

Response echo(const Request& r) {
  std::string text;
  text += std::string(r.method()) + " " + std::string(r.path()) + " ?" +
          std::string(r.query_string()) + " " + std::string(r.protocol()) + "\n";
  for (const auto& h : r.headers())
    text += std::string(h.name) + "=" + std::string(h.value) + "\n";
  text += "body=" + std::string(r.body());
  return Response::text(text);
}

TEST(Server, AnswersAGetWithFramingDateAndServer) {
  TestServer server(echo);
  RawClient c(server.port());
  c.send("GET /a/b?x=1 HTTP/1.1\r\nHost: t\r\nX-Two: 2\r\n\r\n");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.get("server"), "httpkit");
  EXPECT_EQ(r.get("date").size(), 29u);
  EXPECT_EQ(r.get("content-length"), std::to_string(r.body.size()));
  EXPECT_NE(r.body.find("GET /a/b ?x=1 HTTP/1.1"), std::string::npos);
  EXPECT_NE(r.body.find("X-Two=2"), std::string::npos);
  EXPECT_FALSE(r.has("connection"));
}

TEST(Server, KeepAliveServesManyRequestsOnOneConnection) {
  TestServer server(echo);
  RawClient c(server.port());
  for (int i = 0; i < 100; ++i) {
    c.send("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
    RawResponse r = c.read_response();
    ASSERT_EQ(r.status, 200);
    ASSERT_NE(r.body.find("GET /" + std::to_string(i) + " "), std::string::npos);
  }
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server(echo);
  RawClient c(server.port());
  std::string batch;
  for (int i = 0; i < 50; ++i)
    batch += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
  c.send(batch);
  for (int i = 0; i < 50; ++i) {
    RawResponse r = c.read_response();
    ASSERT_NE(r.body.find("GET /" + std::to_string(i) + " "), std::string::npos) << i;
  }
}

TEST(Server, RequestSplitAtEveryByteStillParses) {
  TestServer server(echo);
  RawClient c(server.port());
  std::string req = "POST /split HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
  for (char ch : req) {
    c.send(std::string_view(&ch, 1));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("body=hello"), std::string::npos);
}

TEST(Server, Http10ClosesUnlessKeepAliveIsAsked) {
  TestServer server(echo);
  {
    RawClient c(server.port());
    c.send("GET / HTTP/1.0\r\n\r\n");
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.get("connection"), "close");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    RawClient c(server.port());
    c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    RawResponse r = c.read_response();
    EXPECT_EQ(r.get("connection"), "keep-alive");
    c.send("GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 200);
  }
}

TEST(Server, ConnectionCloseIsHonoured) {
  TestServer server(echo);
  RawClient c(server.port());
  c.send(
      "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: "
      "t\r\n\r\n");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.get("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Server, ChunkedRequestBodyWithTrailers) {
  TestServer server(echo);
  RawClient c(server.port());
  c.send(
      "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("body=hello world"), std::string::npos) << r.body;
  EXPECT_NE(c.read_response().body.find("GET /next"), std::string::npos);
}

TEST(Server, ChunkedBodyArrivingInPieces) {
  TestServer server(echo);
  RawClient c(server.port());
  c.send("POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string expected;
  for (int i = 0; i < 20; ++i) {
    std::string piece(100 + i, char('a' + i));
    expected += piece;
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    c.send(std::string(size) + piece + "\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  c.send("0\r\n\r\n");
  RawResponse r = c.read_response();
  EXPECT_NE(r.body.find("body=" + expected), std::string::npos);
}

TEST(Server, ExpectContinueGets100BeforeTheBody) {
  TestServer server(echo);
  RawClient c(server.port());
  c.send("PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  RawResponse interim = c.read_response();
  EXPECT_EQ(interim.status, 100);
  c.send("data");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("body=data"), std::string::npos);
}

TEST(Server, HeadHasLengthButNoBody) {
  TestServer server([](const Request&) { return Response::text(std::string(1234, 'x')); });
  RawClient c(server.port());
  c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse head = c.read_response(/*head_request=*/true);
  EXPECT_EQ(head.get("content-length"), "1234");
  RawResponse get = c.read_response();
  EXPECT_EQ(get.body.size(), 1234u);  // the HEAD left no body bytes behind
}

TEST(Server, LargeBodiesAndFilesGoOutWhole) {
  std::string path = "/tmp/httpkit-test-file-" + std::to_string(getpid());
  std::string content;
  for (int i = 0; i < 300000; ++i)
    content.push_back(char('a' + i % 26));
  std::ofstream(path) << content;
  TestServer server([&](const Request& r) {
    if (r.path() == "/file") return Response::file(path, "text/plain");
    if (r.path() == "/missing") return Response::file(path + ".none");
    return Response::text(std::string(3'000'000, 'z'));
  });
  RawClient c(server.port());
  c.send(
      "GET /file HTTP/1.1\r\nHost: t\r\n\r\nGET /big HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response().body, content);
  EXPECT_EQ(c.read_response().body, std::string(3'000'000, 'z'));
  EXPECT_EQ(c.read_response().status, 404);
  unlink(path.c_str());
}

TEST(Server, AThrowingHandlerGives500AndTheServerGoesOn) {
  TestServer server([](const Request& r) -> Response {
    if (r.path() == "/boom") throw std::runtime_error("boom");
    return Response::text("fine");
  });
  RawClient c(server.port());
  c.send("GET /boom HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 500);
  c.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response().body, "fine");
}

TEST(Server, HandlerHeadersRepeatAndFramingHeadersAreTheServers) {
  TestServer server([](const Request&) {
    Response r = Response::text("abc");
    r.header("Set-Cookie", "a=1").header("Set-Cookie", "b=2").header("Content-Length", "999");
    return r;
  });
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse r = c.read_response();
  EXPECT_EQ(r.headers.count("set-cookie"), 2u);
  EXPECT_EQ(r.get("content-length"), "3");
  EXPECT_EQ(r.body, "abc");
}

TEST(Server, ServerHeaderCanBeTurnedOff) {
  ServerOptions o = test_options();
  o.server_header = std::nullopt;
  TestServer server(echo, o);
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_FALSE(c.read_response().has("server"));
}

TEST(Server, RequestExposesParamsAndAddresses) {
  TestServer server([](const Request& r) {
    auto q = r.query_params();
    auto f = r.form_params();
    std::string text =
        std::string(q.get("a").value_or("-")) + "|" + std::to_string(q.get_all("b").size()) + "|" +
        std::string(f.get("name").value_or("-")) + "|" + r.remote_addr() + "|" +
        std::to_string(r.local_port() != 0) + "|" + std::string(r.header("x-case").value_or("-"));
    return Response::text(text);
  });
  RawClient c(server.port());
  std::string form = "name=J%C3%B6rg+K";
  c.send(
      "POST /?a=hello%20world&b=1&b=2 HTTP/1.1\r\nHost: t\r\nX-CASE: v\r\n"
      "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: " +
      std::to_string(form.size()) + "\r\n\r\n" + form);
  EXPECT_EQ(c.read_response().body, "hello world|2|J\xC3\xB6rg K|127.0.0.1|1|v");
}

TEST(Server, WorkerPoolRunsBlockingHandlersAndKeepsOrder) {
  ServerOptions o = test_options();
  o.worker_threads = 4;
  TestServer server(
      [](const Request& r) {
        std::this_thread::sleep_for(std::chrono::milliseconds(r.path() == "/slow" ? 50 : 1));
        return Response::text(std::string(r.path()));
      },
      o);
  RawClient c(server.port());
  c.send(
      "GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /fast HTTP/1.1\r\nHost: t\r\n\r\n"
      "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(c.read_response().body, "/slow");
  EXPECT_EQ(c.read_response().body, "/fast");
  EXPECT_EQ(c.read_response().body, "/body");
}

TEST(Server, WorkerPoolOverflowAnswers503) {
  ServerOptions o = test_options();
  o.worker_threads = 1;
  o.worker_queue = 1;
  HandlerGate gate;
  TestServer server(
      [&](const Request&) {
        gate.pass();
        return Response::text("done");
      },
      o);
  auto release = gate.open_on_exit();
  RawClient a(server.port()), b(server.port()), c(server.port());
  a.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(gate.wait_entered(1));  // a occupies the only worker
  b.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  // The loop queues a request in the same turn as it reads it: once b's
  // bytes are read, b fills the queue.
  ASSERT_TRUE(b.wait_until_server_read());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 503);
  gate.open();
  EXPECT_EQ(a.read_response().status, 200);
  EXPECT_EQ(b.read_response().status, 200);
}

TEST(Server, GracefulStopFinishesTheResponseInFlight) {
  ServerOptions o = test_options();
  o.worker_threads = 1;
  HandlerGate gate;
  auto server = std::make_unique<Server>(
      [&](const Request&) {
        gate.pass();
        return Response::text("finished");
      },
      o);
  server->start();
  auto release = gate.open_on_exit();
  RawClient idle(server->port());
  RawClient busy(server->port());
  busy.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(gate.wait_entered(1));  // the response is in flight
  server->stop();
  EXPECT_EQ(server->status(), ServerStatus::stopping);
  EXPECT_TRUE(idle.closed_by_peer());  // while the handler still runs
  gate.open();
  RawResponse r = busy.read_response();
  EXPECT_EQ(r.body, "finished");
  EXPECT_EQ(r.get("connection"), "close");
  server->wait();
  EXPECT_EQ(server->status(), ServerStatus::stopped);
  RawClient refused(server->port());
  EXPECT_FALSE(refused.ok());
}

TEST(Server, SeveralLoopsShareThePort) {
  ServerOptions o = test_options();
  o.threads = 3;
  TestServer server(echo, o);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 30; ++i)
    clients.push_back(std::make_unique<RawClient>(server.port()));
  for (auto& c : clients)
    c->send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  for (auto& c : clients)
    EXPECT_EQ(c->read_response().status, 200);
  EXPECT_EQ(server.server().connection_count(), 30u);
}

}  // namespace
}  // namespace httpkit::test
