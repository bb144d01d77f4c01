// The one field-line scanner and the one framing rule set, driven the way
// the request parser and the response parser drive them.
#include "http/field_scanner.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace httpkit::http {
namespace {

struct Scan : FieldSection {
  std::size_t consumed = 0;  // bytes the scanner went over
  std::array<HeaderField, 4> fields{};
};

// Scans `bytes` as the field section of a message of `kind`, as both
// parsers do after their start line.
Scan scan(MessageKind kind, std::string_view bytes, std::size_t capacity = 4,
          uint8_t version_minor = 1) {
  Scan s;
  const char* p = bytes.data();
  static_cast<FieldSection&>(s) = scan_field_section(
      p, bytes.data() + bytes.size(), s.fields.data(), capacity, kind, version_minor);
  s.consumed = static_cast<std::size_t>(p - bytes.data());
  return s;
}

constexpr MessageKind kBoth[] = {MessageKind::request, MessageKind::response};

TEST(FieldScanner, SameFieldsInBothModes) {
  const std::string_view head = "Host: a\r\nX-Long:  v  w \t\r\nEmpty:\r\n\r\nbody";
  for (MessageKind kind : kBoth) {
    const Scan s = scan(kind, head);
    ASSERT_EQ(s.status, ScanStatus::complete);
    EXPECT_FALSE(s.fault) << s.fault.detail;
    EXPECT_EQ(s.consumed, head.size() - 4);
    ASSERT_EQ(s.count, 3u);
    EXPECT_EQ(s.fields[0].name, "Host");
    EXPECT_EQ(s.fields[0].value, "a");
    EXPECT_EQ(s.fields[1].name, "X-Long");
    EXPECT_EQ(s.fields[1].value, "v  w");
    EXPECT_EQ(s.fields[2].name, "Empty");
    EXPECT_EQ(s.fields[2].value, "");
  }
}

TEST(FieldScanner, EveryPrefixIsIncomplete) {
  const std::string_view head = "Host: a\r\nX: b\r\n\r\n";
  for (MessageKind kind : kBoth) {
    for (std::size_t n = 0; n < head.size(); ++n) {
      EXPECT_EQ(scan(kind, head.substr(0, n)).status, ScanStatus::incomplete) << n;
    }
  }
}

TEST(FieldScanner, SameStrictnessInBothModes) {
  struct Case {
    std::string_view bytes;
    std::string_view detail;
  };
  const Case cases[] = {
      {" Host: a\r\n\r\n", "whitespace before the first header field"},
      {"Host: a\r\n folded\r\n\r\n", "obsolete line folding"},
      {"Host: a\r\n\tfolded\r\n\r\n", "obsolete line folding"},
      {"Host : a\r\n\r\n", "invalid header field name"},
      {": a\r\n\r\n", "invalid header field name"},
      {"Ho(st: a\r\n\r\n", "invalid header field name"},
      {"Host: a\rb\r\n\r\n", "CR not followed by LF"},
      {"Host: a\r\n\rx", "CR not followed by LF"},
      {"Host: a\nX: b\r\n\r\n", "header line ends in a bare LF"},
      {"Host: a\x01\r\n\r\n", "control character in header value"},
      {"Host: a\x7f\r\n\r\n", "control character in header value"},
  };
  for (MessageKind kind : kBoth) {
    for (const Case& c : cases) {
      const Scan s = scan(kind, c.bytes);
      EXPECT_EQ(s.status, ScanStatus::fault) << c.bytes;
      EXPECT_EQ(s.fault.kind, FaultKind::malformed) << c.bytes;
      EXPECT_EQ(s.fault.detail, c.detail) << c.bytes;
    }
  }
}

TEST(FieldScanner, StopsAtCapacity) {
  for (MessageKind kind : kBoth) {
    const Scan s = scan(kind, "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 2);
    EXPECT_EQ(s.status, ScanStatus::fault);
    EXPECT_EQ(s.fault.kind, FaultKind::too_many_fields);
    EXPECT_EQ(s.count, 2u);
    EXPECT_EQ(scan(kind, "Host: 1\r\nB: 2\r\n\r\n", 2).status, ScanStatus::complete);
  }
}

TEST(FieldRules, ContentLengthTheSameBothWays) {
  const std::string_view bad[] = {
      "Content-Length: \r\n\r\n",
      "Content-Length: 5, 5\r\n\r\n",
      "Content-Length: +5\r\n\r\n",
      "Content-Length: 99999999999999999999\r\n\r\n",
      "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
  };
  for (MessageKind kind : kBoth) {
    for (std::string_view b : bad) {
      const Scan s = scan(kind, b);
      EXPECT_EQ(s.fault.kind, FaultKind::bad_framing) << b;
    }
    const Scan ok = scan(kind, "Host: a\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n");
    EXPECT_FALSE(ok.fault) << ok.fault.detail;
    EXPECT_EQ(ok.summary.framing, BodyFraming::content_length);
    EXPECT_EQ(ok.summary.content_length, 7u);
  }
}

TEST(FieldRules, TransferEncodingWhereRequestsAndResponsesDiffer) {
  // A final coding other than chunked: 400 for a request, until-close for a response.
  const std::string_view not_last = "Host: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
  EXPECT_EQ(scan(MessageKind::request, not_last).fault.kind, FaultKind::bad_framing);
  const Scan response = scan(MessageKind::response, not_last);
  EXPECT_FALSE(response.fault);
  EXPECT_EQ(response.summary.framing, BodyFraming::until_close);

  const std::string_view gzip_only = "Host: a\r\nTransfer-Encoding: gzip\r\n\r\n";
  EXPECT_EQ(scan(MessageKind::request, gzip_only).fault.kind, FaultKind::bad_framing);
  EXPECT_EQ(scan(MessageKind::response, gzip_only).summary.framing, BodyFraming::until_close);

  // An unknown coding before chunked: 501 for a request; a response is chunked.
  const std::string_view gzip_chunked = "Host: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
  EXPECT_EQ(scan(MessageKind::request, gzip_chunked).fault.kind, FaultKind::unsupported);
  EXPECT_EQ(scan(MessageKind::response, gzip_chunked).summary.framing, BodyFraming::chunked);

  for (MessageKind kind : kBoth) {
    EXPECT_EQ(scan(kind, "Host: a\r\nTransfer-Encoding: chunked\r\n\r\n").summary.framing,
              BodyFraming::chunked);
    EXPECT_EQ(scan(kind, "Transfer-Encoding: chunked, chunked\r\n\r\n").fault.detail,
              "chunked applied twice");
    EXPECT_EQ(scan(kind, "Transfer-Encoding: chunked;x=1\r\n\r\n").fault.detail,
              "parameters on chunked");
    EXPECT_EQ(scan(kind, "Host: a\r\nTransfer-Encoding: ,\r\n\r\n").fault.detail,
              "Transfer-Encoding without a coding");
    EXPECT_EQ(scan(kind, "Transfer-Encoding: chunked\r\n\r\n", 4, 0).fault.kind,
              FaultKind::bad_framing);
  }
}

TEST(FieldRules, HostAndExpectAreRequestRules) {
  EXPECT_EQ(scan(MessageKind::request, "X: 1\r\n\r\n").fault.detail,
            "HTTP/1.1 request without Host");
  EXPECT_EQ(scan(MessageKind::request, "Host: a\r\nHost: b\r\n\r\n").fault.kind,
            FaultKind::malformed);
  EXPECT_FALSE(scan(MessageKind::response, "X: 1\r\n\r\n").fault);
  EXPECT_FALSE(scan(MessageKind::response, "Host: a\r\nHost: b b\r\n\r\n").fault);

  EXPECT_TRUE(scan(MessageKind::request, "Host: a\r\nExpect: 100-Continue\r\n\r\n")
                  .summary.expect_continue);
  EXPECT_FALSE(scan(MessageKind::response, "Expect: 100-continue\r\n\r\n").summary.expect_continue);
}

TEST(FieldRules, ConnectionOptionsBothWays) {
  for (MessageKind kind : kBoth) {
    const Scan close = scan(kind, "Host: a\r\nConnection: keep-alive, Close\r\n\r\n");
    EXPECT_FALSE(close.summary.keep_alive);
    const Scan upgrade = scan(kind, "Host: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
    EXPECT_TRUE(upgrade.summary.upgrade);
    EXPECT_TRUE(upgrade.summary.upgrade_field);
    const Scan old = scan(kind, "Connection: keep-alive\r\n\r\n", 4, 0);
    EXPECT_TRUE(old.summary.keep_alive);
    EXPECT_FALSE(scan(kind, "X: 1\r\n\r\n", 4, 0).summary.keep_alive);
  }
}

}  // namespace
}  // namespace httpkit::http
