#include "http/response_parser.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace httpkit::http {
namespace {

class ResponseParserTest : public ::testing::Test {
 protected:
  ResponseParseResult parse(std::string_view bytes, SentRequest request = {}) {
    return parse_response_head(bytes, request, limits_, fields_.data(), fields_.size(), head_);
  }

  ResponseError error_of(std::string_view bytes, SentRequest request = {}) {
    const ResponseParseResult r = parse(bytes, request);
    EXPECT_EQ(r.status, ParseStatus::error) << bytes;
    return r.error;
  }

  // Parses a complete head and returns its framing.
  BodyFraming framing_of(std::string_view bytes, SentRequest request = {}) {
    const ResponseParseResult r = parse(bytes, request);
    EXPECT_EQ(r.status, ParseStatus::complete) << bytes << " -> " << r.detail;
    return head_.framing;
  }

  ResponseLimits limits_;
  std::array<HeaderField, 128> fields_;
  ResponseHeadView head_;
};

std::string response(std::string_view status_line, std::string_view fields = "") {
  return std::string(status_line) + "\r\n" + std::string(fields) + "\r\n";
}

// --- the status line -------------------------------------------------------

TEST_F(ResponseParserTest, ParsesTheBenchmarkServersAnswer) {
  const std::string bytes = response(
      "HTTP/1.1 200 OK", "Server: httpkit\r\nContent-Type: text/plain\r\nContent-Length: 42\r\n");
  const std::string with_body = bytes + "body bytes follow";  // the views point into it
  const ResponseParseResult r = parse(with_body);
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(head_.version_minor, 1);
  EXPECT_EQ(head_.status, 200);
  EXPECT_EQ(head_.reason, "OK");
  ASSERT_EQ(head_.num_headers, 3u);
  EXPECT_EQ(head_.headers[0].name, "Server");
  EXPECT_EQ(head_.headers[2].value, "42");
  EXPECT_EQ(head_.framing, BodyFraming::content_length);
  EXPECT_EQ(head_.content_length, 42u);
  EXPECT_TRUE(head_.keep_alive);
  EXPECT_FALSE(head_.interim);
  EXPECT_EQ(head_.head_length, bytes.size());
}

TEST_F(ResponseParserTest, ViewsPointIntoTheBuffer) {
  const std::string bytes = response("HTTP/1.1 404 Not Found", "X-A: b\r\n");
  ASSERT_EQ(parse(bytes).status, ParseStatus::complete);
  EXPECT_GE(head_.reason.data(), bytes.data());
  EXPECT_LT(head_.reason.data(), bytes.data() + bytes.size());
  EXPECT_EQ(head_.headers[0].value.data(), bytes.data() + bytes.find("b\r\n"));
}

TEST_F(ResponseParserTest, ReasonMayBeEmptyOrHoldSpacesTabsAndObsText) {
  ASSERT_EQ(parse(response("HTTP/1.1 200 ", "Content-Length: 0\r\n")).status,
            ParseStatus::complete);
  EXPECT_EQ(head_.reason, "");
  const std::string odd = response("HTTP/1.1 200 all\tis \xc3\xa9 fine");
  ASSERT_EQ(parse(odd).status, ParseStatus::complete);
  EXPECT_EQ(head_.reason, "all\tis \xc3\xa9 fine");
}

TEST_F(ResponseParserTest, ToleratesAMissingSpaceBeforeAnEmptyReason) {
  ASSERT_EQ(parse(response("HTTP/1.1 204")).status, ParseStatus::complete);
  EXPECT_EQ(head_.status, 204);
  EXPECT_EQ(head_.reason, "");
}

TEST_F(ResponseParserTest, RefusesMalformedStatusLines) {
  for (std::string_view line :
       {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc OK", "http/1.1 200 OK",
        "HTTP/1.1  200 OK", "HTTP/11 200 OK", "HTTP/1.1\t200 OK", "ICY 200 OK",
        "HTTP/1.1 200 O\x01K", "HTTP/1.1 200 OK\x7f", " HTTP/1.1 200 OK"}) {
    EXPECT_EQ(error_of(response(line)), ResponseError::bad_status_line) << line;
  }
}

TEST_F(ResponseParserTest, RefusesStatusCodesOutside100To599) {
  EXPECT_EQ(error_of(response("HTTP/1.1 099 Low")), ResponseError::bad_status_line);
  EXPECT_EQ(error_of(response("HTTP/1.1 600 High")), ResponseError::bad_status_line);
  EXPECT_EQ(framing_of(response("HTTP/1.1 599 Edge", "Content-Length: 0\r\n")),
            BodyFraming::content_length);
}

TEST_F(ResponseParserTest, RefusesOtherMajorVersions) {
  EXPECT_EQ(error_of(response("HTTP/2.0 200 OK")), ResponseError::unsupported_version);
  EXPECT_EQ(error_of(response("HTTP/0.9 200 OK")), ResponseError::unsupported_version);
}

TEST_F(ResponseParserTest, ServesLaterMinorVersionsAsOnePointOne) {
  ASSERT_EQ(parse(response("HTTP/1.7 200 OK", "Content-Length: 1\r\n")).status,
            ParseStatus::complete);
  EXPECT_EQ(head_.version_minor, 1);
  EXPECT_TRUE(head_.keep_alive);
}

TEST_F(ResponseParserTest, RefusesBareLineFeedsAndBareCarriageReturns) {
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), ResponseError::bad_status_line);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n"), ResponseError::bad_header);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\rX\n\r\n"), ResponseError::bad_status_line);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\rX"), ResponseError::bad_header);
}

// --- header fields ---------------------------------------------------------

TEST_F(ResponseParserTest, TrimsFieldValuesAndKeepsEmptyOnes) {
  ASSERT_EQ(parse(response("HTTP/1.1 200 OK", "A:  x y \t\r\nB:\r\nContent-Length: 0\r\n")).status,
            ParseStatus::complete);
  EXPECT_EQ(head_.headers[0].value, "x y");
  EXPECT_EQ(head_.headers[1].value, "");
}

TEST_F(ResponseParserTest, RefusesBadFieldSyntax) {
  for (std::string_view fields :
       {"Bad Name: x\r\n", "Name : x\r\n", ": x\r\n", "A: x\r\n folded\r\n", " A: x\r\n",
        "A: x\x01y\r\n", "A\x80: x\r\n", "NoColon\r\n"}) {
    EXPECT_EQ(error_of(response("HTTP/1.1 200 OK", fields)), ResponseError::bad_header) << fields;
  }
}

TEST_F(ResponseParserTest, EnforcesTheFieldCount) {
  limits_.max_headers = 3;
  EXPECT_EQ(parse(response("HTTP/1.1 200 OK", "A: 1\r\nB: 2\r\nC: 3\r\n")).status,
            ParseStatus::complete);
  EXPECT_EQ(error_of(response("HTTP/1.1 200 OK", "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n")),
            ResponseError::too_many_headers);
}

TEST_F(ResponseParserTest, EnforcesTheHeadSizeEvenOnAnIncompleteHead) {
  limits_.max_head_bytes = 64;
  const std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a');
  EXPECT_EQ(error_of(big), ResponseError::head_too_large);
  EXPECT_EQ(parse(big.substr(0, 40)).status, ParseStatus::incomplete);
  limits_.max_head_bytes = 65536;
  limits_.max_status_line = 20;
  EXPECT_EQ(error_of("HTTP/1.1 200 " + std::string(30, 'r')), ResponseError::head_too_large);
}

// --- framing (RFC 9112 §6.3) -----------------------------------------------

TEST_F(ResponseParserTest, ContentLengthFramesTheBody) {
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK", "Content-Length: 0\r\n")),
            BodyFraming::content_length);
  EXPECT_EQ(head_.content_length, 0u);
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK", "content-length: 18446744073709551615\r\n")),
            BodyFraming::content_length);
  EXPECT_EQ(head_.content_length, UINT64_MAX);
}

TEST_F(ResponseParserTest, RefusesContentLengthsThatCannotBeTrusted) {
  for (std::string_view fields :
       {"Content-Length: \r\n", "Content-Length: -1\r\n", "Content-Length: 1x\r\n",
        "Content-Length: 5, 5\r\n", "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: 18446744073709551616\r\n", "Content-Length: +5\r\n"}) {
    EXPECT_EQ(error_of(response("HTTP/1.1 200 OK", fields)), ResponseError::bad_framing) << fields;
  }
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK", "Content-Length: 5\r\nContent-Length: 5\r\n")),
            BodyFraming::content_length);
}

TEST_F(ResponseParserTest, ChunkedWhenItIsTheLastCoding) {
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n")),
            BodyFraming::chunked);
  EXPECT_TRUE(head_.keep_alive);
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK", "Transfer-Encoding: gzip, CHUNKED\r\n")),
            BodyFraming::chunked);
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK",
                                "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")),
            BodyFraming::chunked);
}

TEST_F(ResponseParserTest, AnotherLastCodingMeansTheCloseEndsTheBody) {
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked, gzip\r\n")),
            BodyFraming::until_close);
  EXPECT_FALSE(head_.keep_alive);
}

TEST_F(ResponseParserTest, RefusesBrokenTransferEncodings) {
  for (std::string_view fields :
       {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked, chunked\r\n", "Transfer-Encoding: chunked;x=1\r\n",
        "Transfer-Encoding: ,\r\n", "Transfer-Encoding: \r\n", "Transfer-Encoding: a b\r\n"}) {
    EXPECT_EQ(error_of(response("HTTP/1.1 200 OK", fields)), ResponseError::bad_framing) << fields;
  }
  EXPECT_EQ(error_of(response("HTTP/1.0 200 OK", "Transfer-Encoding: chunked\r\n")),
            ResponseError::bad_framing);
}

TEST_F(ResponseParserTest, WithoutLengthTheCloseEndsTheBody) {
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK", "Content-Type: text/plain\r\n")),
            BodyFraming::until_close);
  EXPECT_FALSE(head_.keep_alive);
}

TEST_F(ResponseParserTest, SomeResponsesNeverHaveABody) {
  const std::string fields = "Content-Length: 100\r\n";
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 OK", fields), {.head = true}), BodyFraming::none);
  EXPECT_TRUE(head_.keep_alive);
  EXPECT_EQ(framing_of(response("HTTP/1.1 204 No Content", fields)), BodyFraming::none);
  EXPECT_EQ(framing_of(response("HTTP/1.1 304 Not Modified", fields)), BodyFraming::none);
  EXPECT_TRUE(head_.keep_alive);
  EXPECT_EQ(framing_of(response("HTTP/1.1 204 No Content")), BodyFraming::none);
  EXPECT_TRUE(head_.keep_alive);
}

TEST_F(ResponseParserTest, InterimResponsesComeBeforeTheFinalOne) {
  const std::string interim = response("HTTP/1.1 100 Continue");
  const std::string final_response = response("HTTP/1.1 200 OK", "Content-Length: 2\r\n");
  const std::string bytes = interim + final_response + "ok";
  ASSERT_EQ(parse(bytes).status, ParseStatus::complete);
  EXPECT_TRUE(head_.interim);
  EXPECT_EQ(head_.framing, BodyFraming::none);
  ASSERT_EQ(head_.head_length, interim.size());
  ASSERT_EQ(parse(std::string_view(bytes).substr(interim.size())).status, ParseStatus::complete);
  EXPECT_FALSE(head_.interim);
  EXPECT_EQ(head_.content_length, 2u);
}

TEST_F(ResponseParserTest, SwitchingProtocolsHandsTheConnectionOver) {
  ASSERT_EQ(parse(response("HTTP/1.1 101 Switching Protocols",
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"))
                .status,
            ParseStatus::complete);
  EXPECT_TRUE(head_.upgraded);
  EXPECT_FALSE(head_.interim);
  EXPECT_FALSE(head_.keep_alive);
  EXPECT_EQ(head_.framing, BodyFraming::none);
  EXPECT_EQ(error_of(response("HTTP/1.1 101 Switching Protocols")), ResponseError::bad_header);
}

TEST_F(ResponseParserTest, ASuccessfulConnectOpensATunnel) {
  EXPECT_EQ(framing_of(response("HTTP/1.1 200 Connection established"), {.connect = true}),
            BodyFraming::none);
  EXPECT_TRUE(head_.tunnel);
  EXPECT_FALSE(head_.keep_alive);
  EXPECT_EQ(
      framing_of(response("HTTP/1.1 407 Proxy Auth", "Content-Length: 3\r\n"), {.connect = true}),
      BodyFraming::content_length);
  EXPECT_FALSE(head_.tunnel);
}

// --- the connection --------------------------------------------------------

TEST_F(ResponseParserTest, ConnectionFieldDecidesKeepAlive) {
  const std::string length = "Content-Length: 0\r\n";
  framing_of(response("HTTP/1.1 200 OK", length + "Connection: close\r\n"));
  EXPECT_FALSE(head_.keep_alive);
  framing_of(response("HTTP/1.1 200 OK", length + "Connection: x, Close\r\n"));
  EXPECT_FALSE(head_.keep_alive);
  framing_of(response("HTTP/1.0 200 OK", length));
  EXPECT_FALSE(head_.keep_alive);
  framing_of(response("HTTP/1.0 200 OK", length + "Connection: keep-alive\r\n"));
  EXPECT_TRUE(head_.keep_alive);
  framing_of(response("HTTP/1.0 200 OK", length + "Connection: keep-alive, close\r\n"));
  EXPECT_FALSE(head_.keep_alive);
}

// --- incremental parsing ---------------------------------------------------

TEST_F(ResponseParserTest, EveryPrefixIsIncompleteOrTheSameAnswer) {
  const std::string whole =
      response("HTTP/1.1 200 OK", "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 10\r\n");
  ASSERT_EQ(parse(whole).status, ParseStatus::complete);
  const std::size_t length = head_.head_length;
  for (std::size_t n = 0; n < whole.size(); ++n) {
    EXPECT_EQ(parse(std::string_view(whole).substr(0, n)).status, ParseStatus::incomplete) << n;
  }
  ASSERT_EQ(parse(whole + "0123456789").status, ParseStatus::complete);
  EXPECT_EQ(head_.head_length, length);
}

TEST_F(ResponseParserTest, GarbageShowsAsSoonAsItArrives) {
  EXPECT_EQ(error_of("HTTP/1.1 2x"), ResponseError::bad_status_line);
  EXPECT_EQ(error_of("X"), ResponseError::bad_status_line);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nA B"), ResponseError::bad_header);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"),
            ResponseError::bad_framing);
}

TEST_F(ResponseParserTest, FindHeadEndWorksForResponses) {
  const std::string whole = response("HTTP/1.1 200 OK", "Content-Length: 3\r\n");
  EXPECT_EQ(find_head_end(whole + "abc"), whole.size());
  EXPECT_EQ(find_head_end(std::string_view(whole).substr(0, whole.size() - 1)), 0u);
}

TEST_F(ResponseParserTest, DescribesEveryError) {
  for (auto e : {ResponseError::bad_status_line, ResponseError::unsupported_version,
                 ResponseError::bad_header, ResponseError::bad_framing,
                 ResponseError::head_too_large, ResponseError::too_many_headers}) {
    EXPECT_FALSE(to_string(e).empty());
  }
}

}  // namespace
}  // namespace httpkit::http
