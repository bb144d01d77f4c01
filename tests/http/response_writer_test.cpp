#include "http/response_writer.hpp"

#include <gtest/gtest.h>

namespace httpkit::http {
namespace {

ResponseHead base_head() {
  ResponseHead h;
  h.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  h.server = "httpkit";
  return h;
}

TEST(ResponseWriter, WritesStatusServerDateHeadersAndLength) {
  std::vector<Header> headers = {
      {"Content-Type", "text/plain"}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}};
  ResponseHead h = base_head();
  h.headers = headers;
  h.content_length = 42;
  std::string out;
  append_response_head(out, h);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nServer: httpkit\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            "Content-Length: 42\r\n\r\n");
}

TEST(ResponseWriter, DropsTheHandlersFramingHeaders) {
  std::vector<Header> headers = {{"content-length", "1"},
                                 {"Transfer-Encoding", "chunked"},
                                 {"Date", "x"},
                                 {"Server", "y"},
                                 {"Connection", "close"}};
  ResponseHead h = base_head();
  h.headers = headers;
  h.content_length = 5;
  std::string out;
  append_response_head(out, h);
  EXPECT_EQ(out.find("chunked"), std::string::npos);
  EXPECT_EQ(out.find("Server: y"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_TRUE(asks_to_close(headers));
}

TEST(ResponseWriter, ConnectionHeaderOnlyWhereTheDefaultDoesNotHold) {
  std::string out;
  ResponseHead h = base_head();
  h.keep_alive = false;
  append_response_head(out, h);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  out.clear();
  h.keep_alive = true;
  h.version_minor = 0;
  append_response_head(out, h);
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
  out.clear();
  h.version_minor = 1;
  append_response_head(out, h);
  EXPECT_EQ(out.find("Connection:"), std::string::npos);
}

TEST(ResponseWriter, NoBodyStatusesCarryNoLengthAndChunkedSaysSo) {
  std::string out;
  ResponseHead h = base_head();
  h.status = 204;
  h.framing = BodyFraming::none;
  append_response_head(out, h);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
  EXPECT_EQ(out.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u);
  out.clear();
  h.status = 200;
  h.framing = BodyFraming::chunked;
  append_response_head(out, h);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
}

TEST(ResponseWriter, HeaderValuesThatWouldSplitTheResponseAreDropped) {
  std::vector<Header> headers = {
      {"X-Evil", "a\r\nSet-Cookie: owned=1"}, {"Bad Name", "v"}, {"X-Fine", "ok"}};
  ResponseHead h = base_head();
  h.headers = headers;
  std::string out;
  append_response_head(out, h);
  EXPECT_EQ(out.find("owned"), std::string::npos);
  EXPECT_EQ(out.find("Bad Name"), std::string::npos);
  EXPECT_NE(out.find("X-Fine: ok\r\n"), std::string::npos);
}

TEST(ResponseWriter, UnknownAndOutOfRangeStatuses) {
  std::string out;
  ResponseHead h = base_head();
  h.status = 299;
  append_response_head(out, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 299 Unknown\r\n", 0), 0u);
  out.clear();
  h.status = 42;
  append_response_head(out, h);
  EXPECT_EQ(out.rfind("HTTP/1.1 500 ", 0), 0u);
}

TEST(ResponseWriter, SwitchingProtocolsHeadKeepsConnectionUpgradeAndHasNoFraming) {
  const std::vector<Header> fields = {{"Upgrade", "websocket"},
                                      {"Connection", "Upgrade"},
                                      {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                                      {"Sec-WebSocket-Extensions", "permessage-deflate"},
                                      {"Content-Length", "0"},
                                      {"Bad\r\nName", "x"}};
  std::string out;
  append_switching_protocols_head(out, fields, "Sun, 06 Nov 1994 08:49:37 GMT", "httpkit");
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\nServer: httpkit\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");

  // Without a date and a server name: neither line.
  out.clear();
  append_switching_protocols_head(out, std::span(fields).first(2), {});
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\n\r\n");
}

TEST(ResponseWriter, OtherStatusesStillOwnConnection) {
  const std::vector<Header> fields = {{"Connection", "Upgrade"}};
  ResponseHead h = base_head();
  h.headers = fields;
  h.keep_alive = false;
  std::string out;
  append_response_head(out, h);
  EXPECT_EQ(out.find("Upgrade"), std::string::npos);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
}

TEST(HttpDate, FormatsImfFixdate) {
  char text[29];
  HttpDate::format(784111777, text);
  EXPECT_EQ(std::string(text, 29), "Sun, 06 Nov 1994 08:49:37 GMT");
  HttpDate::format(0, text);
  EXPECT_EQ(std::string(text, 29), "Thu, 01 Jan 1970 00:00:00 GMT");
}

}  // namespace
}  // namespace httpkit::http

namespace httpkit::http {
namespace {

TEST(HttpDateParse, TheThreeForms) {  // RFC 9110 5.6.7's example, 784111777
  EXPECT_EQ(HttpDate::parse("Sun, 06 Nov 1994 08:49:37 GMT"), std::time_t(784111777));
  EXPECT_EQ(HttpDate::parse("Sunday, 06-Nov-94 08:49:37 GMT"), std::time_t(784111777));
  EXPECT_EQ(HttpDate::parse("Sun Nov  6 08:49:37 1994"), std::time_t(784111777));
  char text[29];
  HttpDate::format(1700000000, text);
  EXPECT_EQ(HttpDate::parse(std::string_view(text, 29)), std::time_t(1700000000));
}

TEST(HttpDateParse, RefusesTheRest) {
  EXPECT_FALSE(HttpDate::parse(""));
  EXPECT_FALSE(HttpDate::parse("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(HttpDate::parse("Sun, 6 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(HttpDate::parse("Sun, 06 Nov 1994 08:49:37 GMT junk"));
  EXPECT_FALSE(HttpDate::parse("Sun, 32 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(HttpDate::parse("1994-11-06T08:49:37Z"));
  EXPECT_FALSE(HttpDate::parse("Sun, 06 Foo 1994 08:49:37 GMT"));
}

}  // namespace
}  // namespace httpkit::http
