#include "http/request_parser.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace httpkit::http {
namespace {

constexpr std::string_view kGet = "GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\n\r\n";

class RequestParserTest : public ::testing::Test {
 protected:
  ParseResult parse(std::string_view bytes) {
    return parse_request_head(bytes, limits_, fields_.data(), fields_.size(), head_);
  }

  ParseError error_of(std::string_view bytes) {
    const ParseResult r = parse(bytes);
    EXPECT_EQ(r.status, ParseStatus::error) << bytes;
    return r.error;
  }

  // The value of the only field called `name`.
  std::string_view field(std::string_view name) const {
    std::string_view found;
    int count = 0;
    for (std::size_t i = 0; i < head_.num_headers; ++i) {
      if (head_.headers[i].name == name) {
        found = head_.headers[i].value;
        ++count;
      }
    }
    EXPECT_EQ(count, 1) << name;
    return found;
  }

  ParseLimits limits_;
  std::array<HeaderField, 128> fields_;
  RequestHead head_;
};

std::string with_host(std::string_view request_line, std::string_view fields = "") {
  return std::string(request_line) + "\r\nHost: h\r\n" + std::string(fields) + "\r\n";
}

// --- the request line ------------------------------------------------------

TEST_F(RequestParserTest, ParsesASimpleGet) {
  const ParseResult r = parse(kGet);
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.error, ParseError::none);
  EXPECT_EQ(head_.method, "GET");
  EXPECT_EQ(head_.target, "/index.html?a=1&b=2");
  EXPECT_EQ(head_.path, "/index.html");
  EXPECT_EQ(head_.query, "a=1&b=2");
  EXPECT_EQ(head_.version_minor, 1);
  ASSERT_EQ(head_.num_headers, 1u);
  EXPECT_EQ(head_.headers, fields_.data());
  EXPECT_EQ(head_.headers[0].name, "Host");
  EXPECT_EQ(head_.headers[0].value, "example.com");
  EXPECT_EQ(head_.framing, BodyFraming::none);
  EXPECT_TRUE(head_.keep_alive);
  EXPECT_FALSE(head_.expect_continue);
  EXPECT_FALSE(head_.upgrade);
  EXPECT_EQ(head_.head_length, kGet.size());
}

TEST_F(RequestParserTest, ViewsPointIntoTheInput) {
  ASSERT_EQ(parse(kGet).status, ParseStatus::complete);
  EXPECT_EQ(head_.method.data(), kGet.data());
  EXPECT_EQ(head_.target.data(), kGet.data() + 4);
  EXPECT_EQ(head_.headers[0].value.data(), kGet.data() + kGet.find("example.com"));
}

TEST_F(RequestParserTest, SplitsTargetAtFirstQuestionMarkAndDropsFragment) {
  struct Case {
    std::string_view target, path, query;
  };
  for (const Case& c : {Case{"/", "/", ""}, Case{"/a?", "/a", ""}, Case{"/a?x?y", "/a", "x?y"},
                        Case{"/a?q#frag", "/a", "q"}, Case{"/a#f?g", "/a", ""}, Case{"*", "*", ""},
                        Case{"http://h.org?x=1", "http://h.org", "x=1"}}) {
    const std::string req = with_host("OPTIONS " + std::string(c.target) + " HTTP/1.1");
    ASSERT_EQ(parse(req).status, ParseStatus::complete) << c.target;
    EXPECT_EQ(head_.target, c.target);
    EXPECT_EQ(head_.path, c.path) << c.target;
    EXPECT_EQ(head_.query, c.query) << c.target;
  }
}

TEST_F(RequestParserTest, SkipsEmptyLinesBeforeTheRequestLine) {
  const std::string req = "\r\n\r\n" + std::string(kGet);
  ASSERT_EQ(parse(req).status, ParseStatus::complete);
  EXPECT_EQ(head_.method, "GET");
  EXPECT_EQ(head_.head_length, req.size());
}

TEST_F(RequestParserTest, AcceptsKnownMethods) {
  for (std::string_view m :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND", "MKCOL",
        "M-SEARCH", "PURGE", "QUERY", "VERSION-CONTROL"}) {
    const std::string req = with_host(std::string(m) + " / HTTP/1.1");
    ASSERT_EQ(parse(req).status, ParseStatus::complete) << m;
    EXPECT_EQ(head_.method, m);
  }
}

TEST_F(RequestParserTest, UnknownMethodsAreNotImplemented) {
  for (std::string_view m : {"FOO", "get", "Get", "MKCOLA", "CONNECT", "PRI", "ANNOUNCE"}) {
    EXPECT_EQ(error_of(with_host(std::string(m) + " / HTTP/1.1")), ParseError::not_implemented)
        << m;
  }
  // Judged as soon as the method's SP arrives.
  EXPECT_EQ(error_of("FOO "), ParseError::not_implemented);
  EXPECT_EQ(parse("FOO").status, ParseStatus::incomplete);
}

TEST_F(RequestParserTest, MalformedRequestLinesAreBadRequests) {
  for (std::string_view line : {
           " / HTTP/1.1",             // no method
           "G@T / HTTP/1.1",          // not a token
           "GET  / HTTP/1.1",         // two spaces
           "GET /a b HTTP/1.1",       // space in the target
           "GET /\x01 HTTP/1.1",      // control byte in the target
           "GET /\x7f HTTP/1.1",      // DEL in the target
           "GET /\xc3\xa9 HTTP/1.1",  // raw UTF-8 in the target
           "GET foo HTTP/1.1",        // no recognizable form
           "GET 1a:b HTTP/1.1",       // a scheme starts with a letter
           "GET / http/1.1",          // the version is case-sensitive
           "GET / HTTP/1.10",         // one digit each
           "GET / HTTP/1",            //
           "GET / HTTP/1.1 ",         // trailing space
           "GET /",                   // HTTP/0.9
           "GET\t/ HTTP/1.1",         // HTAB is not SP
       }) {
    EXPECT_EQ(error_of(with_host(line)), ParseError::bad_request) << line;
  }
  EXPECT_EQ(error_of("GET / HTTP/1.1\n\n"), ParseError::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\rHost: h\r\n\r\n"), ParseError::bad_request);
  EXPECT_EQ(error_of("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::bad_request);
}

TEST_F(RequestParserTest, Versions) {
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n").status, ParseStatus::complete);
  EXPECT_EQ(head_.version_minor, 0);
  // A later 1.x is served as 1.1 (RFC 9110 §6.2), Host rule included.
  ASSERT_EQ(parse(with_host("GET / HTTP/1.7")).status, ParseStatus::complete);
  EXPECT_EQ(head_.version_minor, 1);
  EXPECT_EQ(error_of("GET / HTTP/1.2\r\n\r\n"), ParseError::bad_request);
  for (std::string_view v : {"HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/5.6"}) {
    EXPECT_EQ(error_of(with_host("GET / " + std::string(v))), ParseError::version_not_supported)
        << v;
  }
}

// --- header fields ----------------------------------------------------------

TEST_F(RequestParserTest, FieldValuesAreTrimmedAndKeepInnerWhitespace) {
  const std::string req = with_host("GET / HTTP/1.1",
                                    "A:  x  y \t\r\n"
                                    "B:\r\n"
                                    "C: \t \r\n"
                                    "D:\ta\tb\r\n"
                                    "E: caf\xc3\xa9 \xff\r\n"
                                    "f-G_h.i~!#$%&'*+^`|:v\r\n");
  ASSERT_EQ(parse(req).status, ParseStatus::complete);
  EXPECT_EQ(field("A"), "x  y");
  EXPECT_EQ(field("B"), "");
  EXPECT_EQ(field("C"), "");
  EXPECT_EQ(field("D"), "a\tb");
  EXPECT_EQ(field("E"), "caf\xc3\xa9 \xff");
  EXPECT_EQ(field("f-G_h.i~!#$%&'*+^`|"), "v");
}

TEST_F(RequestParserTest, LongValuesCrossTheVectorizedScan) {
  for (std::size_t n = 0; n < 70; ++n) {
    std::string value(n, 'v');
    const std::string ok = with_host("GET / HTTP/1.1", "X: " + value + "\r\n");
    ASSERT_EQ(parse(ok).status, ParseStatus::complete) << n;
    EXPECT_EQ(field("X"), value);
    for (std::size_t at = 0; at < n; at += 7) {
      std::string bad_value = value;
      bad_value[at] = '\x7f';
      EXPECT_EQ(error_of(with_host("GET / HTTP/1.1", "X: " + bad_value + "\r\n")),
                ParseError::bad_request);
      bad_value[at] = '\x00';
      EXPECT_EQ(error_of(with_host("GET / HTTP/1.1", "X: " + bad_value + "\r\n")),
                ParseError::bad_request);
    }
    std::string target = "/" + value;
    const std::string get = with_host("GET " + target + " HTTP/1.1");
    ASSERT_EQ(parse(get).status, ParseStatus::complete);
    EXPECT_EQ(head_.target, target);
    if (n > 0) {
      target[n / 2 + 1] = '\x80';
      EXPECT_EQ(error_of(with_host("GET " + target + " HTTP/1.1")), ParseError::bad_request);
    }
  }
}

TEST_F(RequestParserTest, MalformedFieldLinesAreBadRequests) {
  for (std::string_view fields : {
           "Bad Name: x\r\n",       // space in the name
           "Name : x\r\n",          // space before the colon
           ": x\r\n",               // empty name
           "Fo@: x\r\n",            // not a token
           "NoColon\r\n",           //
           "A: x\r\n folded\r\n",   // obs-fold
           "A: x\r\n\tfolded\r\n",  //
           "A: x\ny\r\n",           // bare LF in a value
           "A: x\rB: y\r\n",        // bare CR
           "A: x\x01y\r\n",         // control byte
           "A: x\x0cy\r\n",         //
           "A: x\x7fy\r\n",         // DEL
           "A: x\r\r\n",            // CR CR
           "A: x\n",                // line ends in LF only
       }) {
    EXPECT_EQ(error_of(with_host("GET / HTTP/1.1", fields)), ParseError::bad_request) << fields;
  }
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), ParseError::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\rX"), ParseError::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\n"), ParseError::bad_request);
}

// --- Host --------------------------------------------------------------------

TEST_F(RequestParserTest, HostRules) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), ParseError::bad_request);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n").status, ParseStatus::incomplete);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), ParseError::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), ParseError::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), ParseError::bad_request);
  EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n").status, ParseStatus::complete);
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), ParseError::bad_request);
  for (std::string_view host : {"", "example.com", "EXAMPLE.com:8080", "[::1]:80", "10.0.0.1",
                                "xn--bcher-kva.example", "a_b.c~d"}) {
    const std::string req = "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
    EXPECT_EQ(parse(req).status, ParseStatus::complete) << host;
  }
}

// --- body framing --------------------------------------------------------------

TEST_F(RequestParserTest, ContentLength) {
  ASSERT_EQ(parse(with_host("POST / HTTP/1.1", "Content-Length: 42\r\n")).status,
            ParseStatus::complete);
  EXPECT_EQ(head_.framing, BodyFraming::content_length);
  EXPECT_EQ(head_.content_length, 42u);

  ASSERT_EQ(parse(with_host("POST / HTTP/1.1", "content-length: \t007 \r\n")).status,
            ParseStatus::complete);
  EXPECT_EQ(head_.content_length, 7u);

  ASSERT_EQ(parse(with_host("POST / HTTP/1.1", "Content-Length: 0\r\n")).status,
            ParseStatus::complete);
  EXPECT_EQ(head_.framing, BodyFraming::content_length);
  EXPECT_EQ(head_.content_length, 0u);

  ASSERT_EQ(parse(with_host("POST / HTTP/1.1", "Content-Length: 18446744073709551615\r\n")).status,
            ParseStatus::complete);
  EXPECT_EQ(head_.content_length, UINT64_MAX);

  ASSERT_EQ(
      parse(with_host("POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 5\r\n")).status,
      ParseStatus::complete);
  EXPECT_EQ(head_.content_length, 5u);
}

TEST_F(RequestParserTest, InvalidContentLengthIsABadRequest) {
  for (std::string_view fields : {
           "Content-Length: 18446744073709551616\r\n",  // overflow by one
           "Content-Length: 99999999999999999999999\r\n",
           "Content-Length:\r\n",
           "Content-Length: -1\r\n",
           "Content-Length: +1\r\n",
           "Content-Length: 0x10\r\n",
           "Content-Length: 4 2\r\n",
           "Content-Length: 5, 5\r\n",
           "Content-Length: 5, 6\r\n",
           "Content-Length: 5\r\nContent-Length: 6\r\n",
           "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
           "Transfer-Encoding: identity\r\nContent-Length: 5\r\n",
       }) {
    EXPECT_EQ(error_of(with_host("POST / HTTP/1.1", fields)), ParseError::bad_request) << fields;
  }
}

TEST_F(RequestParserTest, TransferEncoding) {
  for (std::string_view fields :
       {"Transfer-Encoding: chunked\r\n", "transfer-encoding: CHUNKED\r\n",
        "Transfer-Encoding: , chunked ,\r\n",
        "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n"}) {
    ASSERT_EQ(parse(with_host("POST / HTTP/1.1", fields)).status, ParseStatus::complete) << fields;
    EXPECT_EQ(head_.framing, BodyFraming::chunked);
  }
}

// RFC 9112 §6.1: a coding the server does not understand, applied before the
// final chunked, SHOULD get 501.
TEST_F(RequestParserTest, TransferCodingsBeforeChunkedAreNotImplemented) {
  for (std::string_view fields : {
           "Transfer-Encoding: gzip, chunked\r\n",
           "Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: identity, chunked\r\n",
       }) {
    EXPECT_EQ(error_of(with_host("POST / HTTP/1.1", fields)), ParseError::not_implemented)
        << fields;
  }
}

TEST_F(RequestParserTest, FaultyTransferEncodingIsABadRequest) {
  for (std::string_view fields : {
           // RFC 9112 §6.3: chunked not the final coding MUST get 400 and a
           // close, whatever the codings are: the body's length is unknown.
           "Transfer-Encoding: gzip\r\n", "Transfer-Encoding: identity\r\n",
           "Transfer-Encoding: chunkedchunked\r\n",
           "Transfer-Encoding: chunked, gzip\r\n",  // chunked not last
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
           "Transfer-Encoding: chunked, chunked\r\n",  // applied twice
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding:\r\n",              // no coding at all
           "Transfer-Encoding: ,\r\n",            //
           "Transfer-Encoding: chunked;q=1\r\n",  // chunked has no parameters
           "Transfer-Encoding: \"chunked\"\r\n",  // not a token
       }) {
    EXPECT_EQ(error_of(with_host("POST / HTTP/1.1", fields)), ParseError::bad_request) << fields;
  }
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
  EXPECT_EQ(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ParseError::bad_request);
}

// --- connection semantics ------------------------------------------------------

TEST_F(RequestParserTest, KeepAlive) {
  struct Case {
    std::string_view version;
    std::string_view fields;
    bool keep_alive;
  };
  for (const Case& c : {
           Case{"1.1", "", true},
           Case{"1.1", "Connection: close\r\n", false},
           Case{"1.1", "Connection: CLOSE\r\n", false},
           Case{"1.1", "Connection: keep-alive\r\n", true},
           Case{"1.1", "Connection: foo, close\r\n", false},
           Case{"1.1", "Connection: foo\r\nConnection: close\t\r\n", false},
           Case{"1.1", "Connection: closed\r\n", true},
           Case{"1.0", "", false},
           Case{"1.0", "Connection: keep-alive\r\n", true},
           Case{"1.0", "Connection: Keep-Alive\r\n", true},
           Case{"1.0", "Connection: x,, keep-alive ,y\r\n", true},
           Case{"1.0", "Connection: keep-alive\r\nConnection: close\r\n", false},
           Case{"1.0", "Connection: close, keep-alive\r\n", false},
       }) {
    const std::string req = with_host("GET / HTTP/" + std::string(c.version), c.fields);
    ASSERT_EQ(parse(req).status, ParseStatus::complete) << req;
    EXPECT_EQ(head_.keep_alive, c.keep_alive) << req;
  }
}

TEST_F(RequestParserTest, Upgrade) {
  struct Case {
    std::string_view fields;
    bool upgrade;
  };
  for (const Case& c : {
           Case{"Connection: Upgrade\r\nUpgrade: websocket\r\n", true},
           Case{"Upgrade: websocket\r\nConnection: keep-alive, upgrade\r\n", true},
           Case{"Connection: upgrade\r\n", false},
           Case{"Upgrade: websocket\r\n", false},
           Case{"Connection: upgrade\r\nUpgrade:\r\n", false},
       }) {
    ASSERT_EQ(parse(with_host("GET / HTTP/1.1", c.fields)).status, ParseStatus::complete);
    EXPECT_EQ(head_.upgrade, c.upgrade) << c.fields;
  }
}

TEST_F(RequestParserTest, ExpectContinue) {
  struct Case {
    std::string_view version, fields;
    bool expect;
  };
  for (const Case& c : {
           Case{"1.1", "Expect: 100-continue\r\n", true},
           Case{"1.1", "Expect: 100-Continue \r\n", true},
           Case{"1.1", "Expect: 100-continued\r\n", false}, Case{"1.1", "", false},
           Case{"1.0", "Expect: 100-continue\r\n", false},  // RFC 9110 §10.1.1
       }) {
    const std::string req = with_host("PUT / HTTP/" + std::string(c.version), c.fields);
    ASSERT_EQ(parse(req).status, ParseStatus::complete);
    EXPECT_EQ(head_.expect_continue, c.expect) << req;
  }
}

// --- limits ---------------------------------------------------------------------

// A GET whose request line is exactly `length` bytes long.
std::string request_line_of_length(std::size_t length) {
  const std::size_t fixed = std::string_view("GET / HTTP/1.1").size();
  return "GET /" + std::string(length - fixed, 'a') + " HTTP/1.1";
}

TEST_F(RequestParserTest, RequestLineLimit) {
  limits_.max_request_line = 100;
  EXPECT_EQ(parse(with_host(request_line_of_length(100))).status, ParseStatus::complete);
  EXPECT_EQ(error_of(with_host(request_line_of_length(101))), ParseError::uri_too_long);

  // Incomplete: at the limit we still wait; one byte more is already too long.
  const std::string at_limit = request_line_of_length(100);
  EXPECT_EQ(parse(at_limit).status, ParseStatus::incomplete);
  EXPECT_EQ(parse(at_limit + "\r").status, ParseStatus::incomplete);
  EXPECT_EQ(error_of(std::string(101, 'G')), ParseError::uri_too_long);
  EXPECT_EQ(error_of("GET /" + std::string(96, 'a')), ParseError::uri_too_long);
  EXPECT_EQ(parse("GET /" + std::string(95, 'a')).status, ParseStatus::incomplete);

  // Leading empty lines do not count against the line.
  EXPECT_EQ(parse("\r\n\r\n" + with_host(at_limit)).status, ParseStatus::complete);
  // A fault inside the limit is reported as such, even on a long line.
  EXPECT_EQ(error_of("GET /\x01" + std::string(200, 'a')), ParseError::bad_request);
}

TEST_F(RequestParserTest, HeadSizeLimit) {
  const std::string head = with_host("GET / HTTP/1.1", "X: " + std::string(100, 'x') + "\r\n");
  limits_.max_head_bytes = head.size();
  ASSERT_EQ(parse(head).status, ParseStatus::complete);
  EXPECT_EQ(head_.head_length, head.size());
  // Bytes after the head (a pipelined request) do not count.
  EXPECT_EQ(parse(head + "GET / HTTP/1.1\r\n").status, ParseStatus::complete);

  limits_.max_head_bytes = head.size() - 1;
  EXPECT_EQ(error_of(head), ParseError::headers_too_large);
  // Incomplete: exactly at the limit we wait; one more byte decides it.
  EXPECT_EQ(parse(head.substr(0, head.size() - 1)).status, ParseStatus::incomplete);
  EXPECT_EQ(error_of(head.substr(0, head.size() - 1) + "X"), ParseError::headers_too_large);
}

TEST_F(RequestParserTest, FieldCountLimitIsTheSmallerOfLimitAndArray) {
  auto request_with_fields = [](std::size_t n) {
    std::string fields;
    for (std::size_t i = 1; i < n; ++i) {
      fields += "X-" + std::to_string(i) + ": v\r\n";
    }
    return with_host("GET / HTTP/1.1", fields);  // Host is the n-th
  };
  limits_.max_headers = 10;
  ASSERT_EQ(parse(request_with_fields(10)).status, ParseStatus::complete);
  EXPECT_EQ(head_.num_headers, 10u);
  EXPECT_EQ(error_of(request_with_fields(11)), ParseError::headers_too_large);

  limits_.max_headers = 100;
  std::array<HeaderField, 5> small;
  ParseResult r =
      parse_request_head(request_with_fields(5), limits_, small.data(), small.size(), head_);
  EXPECT_EQ(r.status, ParseStatus::complete);
  r = parse_request_head(request_with_fields(6), limits_, small.data(), small.size(), head_);
  EXPECT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.error, ParseError::headers_too_large);
}

// --- incremental parsing ----------------------------------------------------------

const std::vector<std::string> kValidRequests = {
    std::string(kGet),
    "\r\nPOST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "PUT /x?y HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
    "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX: "
    "\t\xff\r\n\r\n",
};

TEST_F(RequestParserTest, EveryPrefixIsIncompleteAndTheWholeMatches) {
  for (const std::string& req : kValidRequests) {
    ASSERT_EQ(parse(req).status, ParseStatus::complete) << req;
    const RequestHead whole = head_;
    const std::vector<HeaderField> whole_fields(whole.headers, whole.headers + whole.num_headers);

    // Byte by byte into a growing buffer, as a connection would see it.
    std::string buffer;
    for (std::size_t i = 0; i < req.size(); ++i) {
      buffer.push_back(req[i]);
      const ParseResult r = parse(buffer);
      if (i + 1 < req.size()) {
        ASSERT_EQ(r.status, ParseStatus::incomplete) << "prefix " << i + 1 << " of " << req;
        continue;
      }
      ASSERT_EQ(r.status, ParseStatus::complete);
      EXPECT_EQ(head_.method, whole.method);
      EXPECT_EQ(head_.target, whole.target);
      EXPECT_EQ(head_.version_minor, whole.version_minor);
      EXPECT_EQ(head_.framing, whole.framing);
      EXPECT_EQ(head_.keep_alive, whole.keep_alive);
      EXPECT_EQ(head_.expect_continue, whole.expect_continue);
      EXPECT_EQ(head_.upgrade, whole.upgrade);
      EXPECT_EQ(head_.head_length, req.size());
      ASSERT_EQ(head_.num_headers, whole_fields.size());
      for (std::size_t f = 0; f < whole_fields.size(); ++f) {
        EXPECT_EQ(head_.headers[f].name, whole_fields[f].name);
        EXPECT_EQ(head_.headers[f].value, whole_fields[f].value);
      }
    }
  }
}

TEST_F(RequestParserTest, AFaultyHeadFailsTheSameWayAtEveryLaterPrefix) {
  for (std::string_view req : {
           std::string_view("GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n"),
           std::string_view("GET / HTTP/2.0\r\nHost: h\r\n\r\n"),
           std::string_view("BREW / HTTP/1.1\r\n\r\n"),
           std::string_view("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"),
           std::string_view("GET / HTTP/1.1\r\nX: 1\r\n\r\n"),
       }) {
    const ParseResult final_result = parse(req);
    ASSERT_EQ(final_result.status, ParseStatus::error);
    bool failed = false;
    for (std::size_t n = 1; n <= req.size(); ++n) {
      const ParseResult r = parse(req.substr(0, n));
      if (failed) {
        ASSERT_EQ(r.status, ParseStatus::error) << req << " prefix " << n;
      }
      if (r.status == ParseStatus::error) {
        EXPECT_EQ(r.error, final_result.error);
        EXPECT_EQ(r.detail, final_result.detail);
        failed = true;
      }
    }
  }
}

TEST_F(RequestParserTest, ErrorsCarryADetail) {
  const ParseResult r = parse("GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::error);
  EXPECT_EQ(r.detail, "HTTP/1.1 request without Host");
  EXPECT_TRUE(parse(kGet).detail.empty());
}

TEST_F(RequestParserTest, PipelinedRequestsFollowTheHead) {
  const std::string two = std::string(kGet) + "GET /second HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(parse(two).status, ParseStatus::complete);
  EXPECT_EQ(head_.head_length, kGet.size());
  ASSERT_EQ(parse(std::string_view(two).substr(head_.head_length)).status, ParseStatus::complete);
  EXPECT_EQ(head_.target, "/second");
}

// --- find_head_end ------------------------------------------------------------------

TEST(FindHeadEnd, FindsTheBlankLine) {
  EXPECT_EQ(find_head_end(kGet), kGet.size());
  EXPECT_EQ(find_head_end(std::string(kGet) + "tail"), kGet.size());
  EXPECT_EQ(find_head_end(kGet.substr(0, kGet.size() - 1)), 0u);
  EXPECT_EQ(find_head_end(""), 0u);
  EXPECT_EQ(find_head_end("\r\n\r\n"), 0u);  // only empty lines: no head yet
  EXPECT_EQ(find_head_end("\r\n\r\nGET / HTTP/1.0\r\n\r\n"), 22u);
  EXPECT_EQ(find_head_end("\n\r\n\r\n"), 5u);  // garbage the parser will refuse
  EXPECT_EQ(find_head_end("A\n\nB\r\r\n"), 0u);
}

TEST(FindHeadEnd, ResumesAcrossEverySplit) {
  const std::string req = "\r\n" + std::string(kGet);
  for (std::size_t split = 0; split <= req.size(); ++split) {
    const std::string_view first(req.data(), split);
    const std::size_t found_early = find_head_end(first);
    if (split < req.size()) {
      ASSERT_EQ(found_early, 0u) << split;
      // Both conventions: resume at the old size, or a little before it.
      EXPECT_EQ(find_head_end(req, split), req.size()) << split;
      EXPECT_EQ(find_head_end(req, split >= 3 ? split - 3 : 0), req.size()) << split;
    } else {
      EXPECT_EQ(found_early, req.size());
    }
  }
}

TEST_F(RequestParserTest, FindHeadEndAgreesWithTheParser) {
  for (const std::string& req : kValidRequests) {
    ASSERT_EQ(parse(req + "NEXT").status, ParseStatus::complete);
    EXPECT_EQ(find_head_end(req + "NEXT"), head_.head_length) << req;
  }
}

TEST(ParseError, StatusAndReason) {
  EXPECT_EQ(status_of(ParseError::bad_request), 400);
  EXPECT_EQ(status_of(ParseError::uri_too_long), 414);
  EXPECT_EQ(status_of(ParseError::headers_too_large), 431);
  EXPECT_EQ(status_of(ParseError::not_implemented), 501);
  EXPECT_EQ(status_of(ParseError::version_not_supported), 505);
  EXPECT_EQ(to_string(ParseError::bad_request), "Bad Request");
  EXPECT_EQ(to_string(ParseError::uri_too_long), "URI Too Long");
  EXPECT_EQ(to_string(ParseError::headers_too_large), "Request Header Fields Too Large");
  EXPECT_EQ(to_string(ParseError::not_implemented), "Not Implemented");
  EXPECT_EQ(to_string(ParseError::version_not_supported), "HTTP Version Not Supported");
}

}  // namespace
}  // namespace httpkit::http
