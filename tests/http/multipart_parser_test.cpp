#include "http/multipart_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace httpkit::http {
namespace {

struct RecordedPart {
  MultipartPartHead head;
  std::string data;
  bool ended = false;
};

class Recorder : public MultipartSink {
 public:
  std::vector<RecordedPart> parts;
  std::size_t data_calls = 0;
  bool refuse_data = false;

  bool on_part_begin(const MultipartPartHead& head) override {
    parts.push_back({head, {}, false});
    return true;
  }
  bool on_part_data(std::string_view bytes) override {
    ++data_calls;
    parts.back().data.append(bytes);
    return !refuse_data;
  }
  bool on_part_end() override {
    parts.back().ended = true;
    return true;
  }
};

TEST(MultipartBoundary, FromContentType) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=XyZ"), "XyZ");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;charset=utf-8; boundary=\"a b:c\""), "a b:c");
  EXPECT_FALSE(multipart_boundary("multipart/form-data"));
  EXPECT_FALSE(multipart_boundary("text/plain; boundary=x"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=\"bad\\\"\""));
}

// The boundary must not occur in the data (RFC 2046 5.1.1); a delimiter
// followed by anything but padding and CRLF, or "--", breaks the syntax.
TEST(MultipartParser, DelimiterMustEndItsLine) {
  Recorder r;
  MultipartParser p("XyZ");
  EXPECT_FALSE(
      p.feed("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ-ish\r\n", r));
  EXPECT_EQ(p.error(), MultipartError::malformed);
}

std::string clean_body() {
  return "preamble\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"title\"\r\n"
         "\r\n"
         "Hello, world\r\n"
         "--XyZ  \r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
         "Content-Type: application/octet-stream\r\n"
         "\r\n"
         "line one\r\n--XZ\r\n-XyZ\r\nlast\r\n"
         "\r\n--XyZ--\r\n"
         "epilogue\r\n";
}

void expect_clean(const Recorder& r) {
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0].head.name, "title");
  EXPECT_FALSE(r.parts[0].head.has_filename);
  EXPECT_EQ(r.parts[0].head.content_type, "text/plain");
  EXPECT_EQ(r.parts[0].data, "Hello, world");
  EXPECT_TRUE(r.parts[0].ended);
  EXPECT_EQ(r.parts[1].head.name, "file");
  EXPECT_TRUE(r.parts[1].head.has_filename);
  EXPECT_EQ(r.parts[1].head.filename, "a \"b\".txt");
  EXPECT_EQ(r.parts[1].head.content_type, "application/octet-stream");
  EXPECT_EQ(r.parts[1].data, "line one\r\n--XZ\r\n-XyZ\r\nlast\r\n");
  EXPECT_TRUE(r.parts[1].ended);
}

TEST(MultipartParser, CleanBodyWhole) {
  Recorder r;
  MultipartParser p("XyZ");
  EXPECT_TRUE(p.feed(clean_body(), r));
  EXPECT_TRUE(p.done());
  EXPECT_TRUE(p.finish());
  expect_clean(r);
}

TEST(MultipartParser, CleanBodyAtEverySplit) {
  const std::string body = clean_body();
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    Recorder r;
    MultipartParser p("XyZ");
    ASSERT_TRUE(p.feed(std::string_view(body).substr(0, cut), r)) << cut;
    ASSERT_TRUE(p.feed(std::string_view(body).substr(cut), r)) << cut;
    ASSERT_TRUE(p.finish()) << cut;
    expect_clean(r);
  }
}

TEST(MultipartParser, CleanBodyByteByByte) {
  const std::string body = clean_body();
  Recorder r;
  MultipartParser p("XyZ");
  for (char c : body)
    ASSERT_TRUE(p.feed(std::string_view(&c, 1), r));
  EXPECT_TRUE(p.finish());
  expect_clean(r);
}

TEST(MultipartParser, LargePartStreamsWithBoundedMemory) {
  Recorder r;
  MultipartParser p("----boundary123");
  ASSERT_TRUE(p.feed(
      "------boundary123\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big\"\r\n\r\n",
      r));
  const std::string chunk(64 * 1024, 'x');
  std::size_t most = 0;
  for (int i = 0; i < 256; ++i) {  // 16 MiB
    ASSERT_TRUE(p.feed(chunk, r));
    most = std::max(most, p.buffered());
  }
  ASSERT_TRUE(p.feed("\r\n------boundary123--", r));
  EXPECT_TRUE(p.finish());
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].data.size(), 256u * 64 * 1024);
  EXPECT_LT(most, 64u);  // only a possible delimiter's start is held back
}

TEST(MultipartParser, EndlessPartHeader) {
  Recorder r;
  MultipartParser p("b", {.max_part_head = 1024, .max_parts = 10});
  ASSERT_TRUE(p.feed("--b\r\nContent-Disposition: form-data; name=\"x\"\r\nX-Pad: ", r));
  bool ok = true;
  for (int i = 0; i < 100 && ok; ++i)
    ok = p.feed(std::string(100, 'a'), r);
  EXPECT_FALSE(ok);
  EXPECT_EQ(p.error(), MultipartError::head_too_long);
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(MultipartParser, NeverClosed) {
  Recorder r;
  MultipartParser p("b");
  ASSERT_TRUE(p.feed("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue", r));
  EXPECT_FALSE(p.finish());
  EXPECT_EQ(p.error(), MultipartError::unterminated);
  // No delimiter at all: the whole body was preamble.
  MultipartParser q("b");
  ASSERT_TRUE(q.feed("just some bytes", r));
  EXPECT_FALSE(q.finish());
}

TEST(MultipartParser, PartsNeedAFormDataName) {
  Recorder r;
  MultipartParser p("b");
  EXPECT_FALSE(p.feed("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", r));
  EXPECT_EQ(p.error(), MultipartError::no_disposition);
  MultipartParser q("b");
  EXPECT_FALSE(q.feed("--b\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nx\r\n--b--", r));
  EXPECT_EQ(q.error(), MultipartError::no_disposition);
  MultipartParser e("b");
  EXPECT_FALSE(e.feed("--b\r\n\r\nx\r\n--b--", r));
  EXPECT_EQ(e.error(), MultipartError::no_disposition);
}

TEST(MultipartParser, MalformedHeadAndTooManyParts) {
  Recorder r;
  MultipartParser p("b");
  EXPECT_FALSE(p.feed("--b\r\nBad Header\r\n\r\nx\r\n--b--", r));
  EXPECT_EQ(p.error(), MultipartError::malformed);
  MultipartParser q("b", {.max_part_head = 1024, .max_parts = 2});
  std::string body;
  for (int i = 0; i < 3; ++i)
    body += "--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nv\r\n";
  EXPECT_FALSE(q.feed(body + "--b--", r));
  EXPECT_EQ(q.error(), MultipartError::too_many_parts);
}

TEST(MultipartParser, SinkCanRefuse) {
  Recorder r;
  r.refuse_data = true;
  MultipartParser p("b");
  EXPECT_FALSE(
      p.feed("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue\r\n--b--", r));
  EXPECT_EQ(p.error(), MultipartError::refused);
}

}  // namespace
}  // namespace httpkit::http
