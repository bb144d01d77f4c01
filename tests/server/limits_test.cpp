// Bad input gets a definite status, Connection: close and a close, and
// leaves every other connection alone.
#include <gtest/gtest.h>

#include <thread>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

Response ok(const Request&) {
  return Response::text("ok");
}

struct BadCase {
  const char* name;
  std::string request;
  int status;
};

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, IsAnsweredAndClosedWithoutDisturbingOthers) {
  TestServer server(ok);
  RawClient bystander(server.port());
  bystander.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_EQ(bystander.read_response().status, 200);

  RawClient c(server.port());
  c.send(GetParam().request);
  RawResponse r = c.read_response();
  EXPECT_EQ(r.status, GetParam().status) << r.head;
  EXPECT_EQ(r.get("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());

  bystander.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(bystander.read_response().status, 200);
}

std::string head_with(const std::string& extra) {
  return "GET / HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

INSTANTIATE_TEST_SUITE_P(
    Server, BadInput,
    ::testing::Values(
        BadCase{"garbage", "HELLO\r\n\r\n", 400},
        BadCase{"bad_version", "GET / HTTP/1.7x\r\nHost: t\r\n\r\n", 400},
        BadCase{"no_host", "GET / HTTP/1.1\r\n\r\n", 400},
        BadCase{"cl_and_te",
                "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                400},
        BadCase{"conflicting_cl",
                "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                400},
        BadCase{"bad_chunk_size",
                "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        // RFC 9112 §6.3: without a final chunked the body's length is unknown.
        BadCase{"chunked_not_final",
                "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
        // RFC 9112 §6.1: a coding before chunked that we do not implement.
        BadCase{"unknown_coding",
                "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                501},
        BadCase{"line_too_long", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n",
                414},
        BadCase{"line_too_long_unfinished", "GET /" + std::string(9000, 'a'), 414},
        BadCase{"headers_too_large", head_with("X-Big: " + std::string(70000, 'b') + "\r\n"), 431},
        BadCase{"body_too_large", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 9000000\r\n\r\n",
                413},
        BadCase{"chunked_body_too_large",
                "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                "900000\r\n" +
                    std::string(0x900000, 'x') + "\r\n0\r\n\r\n",
                413},
        BadCase{"space_before_colon", head_with("X-Bad : v\r\n"), 400},
        BadCase{"obs_fold", head_with("X-Fold: a\r\n b\r\n"), 400},
        BadCase{"ctl_in_value", head_with(std::string("X-Ctl: a\x01z\r\n")), 400}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Server, SmallerLimitsAreConfigurable) {
  ServerOptions o = test_options();
  o.max_body = 10;
  o.max_line = 100;
  TestServer server(ok, o);
  {
    RawClient c(server.port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 413);
  }
  {
    RawClient c(server.port());
    c.send("GET /" + std::string(120, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 414);
  }
  {
    RawClient c(server.port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
    EXPECT_EQ(c.read_response().status, 200);
  }
}

TEST(Server, AValidRequestBeforeABadOneIsStillAnswered) {
  TestServer server(ok);
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 200);
  RawResponse bad = c.read_response();
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(c.closed_by_peer());
}

}  // namespace
}  // namespace httpkit::test

namespace httpkit::test {
namespace {

// A client that keeps sending a body past the limit, and reads only when it
// is done sending: the server's 413 must reach it. Closing at once with its
// bytes unread would make the kernel reset the connection, and the reset
// can overtake the answer; the server lingers instead.
TEST(LingeringClose, TheAnswerSurvivesAClientThatKeepsSending) {
  ServerOptions options;
  options.max_body = 64 * 1024;
  TestServer server(ok, options);
  for (int round = 0; round < 5; ++round) {
    RawClient c(server.port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n");
    // The rest of the body goes on arriving while the answer travels.
    std::thread sender([&c] {
      const std::string chunk(64 * 1024, 'x');
      for (int i = 0; i < 32; ++i)
        c.send(chunk);
    });
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 413) << "round " << round;
    EXPECT_TRUE(c.closed_by_peer(5000)) << "round " << round;
    sender.join();
  }
}

}  // namespace
}  // namespace httpkit::test
