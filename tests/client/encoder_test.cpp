#include <gtest/gtest.h>

#include "client/multipart.hpp"
#include "client/request_encoder.hpp"

namespace httpkit::client {
namespace {

std::string head_for(const RequestOptions& opts, bool strip = false, const Url* proxy = nullptr,
                     std::string method = "") {
  Url url = *parse_url(opts.url).url;
  add_query_params(url, opts.query_params);
  EncodedBody body;
  EXPECT_FALSE(encode_body(opts, body));
  Hop hop;
  hop.url = &url;
  hop.method = method.empty() ? opts.method : method;
  hop.strip_credentials = strip;
  hop.proxy = proxy;
  hop.keep_alive = opts.keepalive.count() > 0;
  std::string out;
  EXPECT_FALSE(encode_head(opts, hop, body, out));
  return out;
}

TEST(Encoder, DefaultHead) {
  RequestOptions o;
  o.url = "http://example.com:8080/p?a=1";
  o.query_params = {{"b", "x y"}, {"c&", "é"}};
  EXPECT_EQ(head_for(o),
            "GET /p?a=1&b=x+y&c%26=%C3%A9 HTTP/1.1\r\n"
            "Host: example.com:8080\r\n"
            "User-Agent: httpkit/0.1\r\n"
            "Accept-Encoding: gzip, deflate, br, zstd\r\n\r\n");
}

TEST(Encoder, FormBodyAndAuth) {
  RequestOptions o;
  o.method = "POST";
  o.url = "http://u:p@h/";
  o.form_params = {{"a", "1"}, {"b", "two words"}};
  o.keepalive = std::chrono::milliseconds(-1);
  std::string head = head_for(o);
  EXPECT_NE(head.find("Authorization: Basic dTpw\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: application/x-www-form-urlencoded\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 15\r\n"), std::string::npos);
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
  EncodedBody body;
  encode_body(o, body);
  EXPECT_EQ(body.bytes, "a=1&b=two+words");
}

TEST(Encoder, BasicAndBearer) {
  RequestOptions o;
  o.url = "http://h/";
  o.basic_auth = BasicAuth{"Aladdin", "open sesame"};
  EXPECT_NE(head_for(o).find("Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"),
            std::string::npos);
  o.basic_auth.reset();
  o.bearer_token = "tok";
  EXPECT_NE(head_for(o).find("Authorization: Bearer tok\r\n"), std::string::npos);
}

TEST(Encoder, UserHeadersOverrideAndFramingIsOurs) {
  RequestOptions o;
  o.method = "PUT";
  o.url = "http://h/";
  o.body = "xyz";
  o.user_agent = "";
  o.headers = {{"Host", "other"},
               {"Content-Length", "99"},
               {"X-A", "1"},
               {"X-A", "2"},
               {"Accept-Encoding", "identity"}};
  std::string head = head_for(o);
  EXPECT_EQ(head,
            "PUT / HTTP/1.1\r\nHost: other\r\nX-A: 1\r\nX-A: 2\r\nAccept-Encoding: identity\r\n"
            "Content-Length: 3\r\n\r\n");
}

TEST(Encoder, CrossOriginDropsCredentials) {
  RequestOptions o;
  o.url = "http://h/";
  o.basic_auth = BasicAuth{"a", "b"};
  o.headers = {{"Cookie", "c=1"}, {"Authorization", "x"}, {"Host", "y"}, {"X-Keep", "1"}};
  std::string head = head_for(o, /*strip=*/true);
  EXPECT_EQ(head.find("Cookie"), std::string::npos);
  EXPECT_EQ(head.find("Authorization"), std::string::npos);
  EXPECT_NE(head.find("Host: h\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Keep: 1\r\n"), std::string::npos);
}

TEST(Encoder, AbsoluteFormThroughProxy) {
  RequestOptions o;
  o.url = "http://h:81/x?y";
  Url proxy = *parse_url("http://pu:pp@proxy:3128").url;
  std::string head = head_for(o, false, &proxy);
  EXPECT_EQ(head.rfind("GET http://h:81/x?y HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Proxy-Authorization: Basic cHU6cHA=\r\n"), std::string::npos);
}

TEST(Encoder, RejectsHeaderInjection) {
  RequestOptions o;
  o.url = "http://h/";
  o.headers = {{"X", "a\r\nEvil: 1"}};
  Url url = *parse_url(o.url).url;
  EncodedBody body;
  Hop hop;
  hop.url = &url;
  hop.method = "GET";
  std::string out;
  EXPECT_TRUE(encode_head(o, hop, body, out));
  o.headers = {{"Bad Name", "v"}};
  EXPECT_TRUE(encode_head(o, hop, body, out));
}

TEST(Encoder, Multipart) {
  char path[] = "/tmp/httpkit-mp-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "FILEDATA", 8), 8);
  close(fd);
  std::vector<MultipartPart> parts = {MultipartPart::text("title", "hello"),
                                      MultipartPart::from_file("up\"load", path, "text/x")};
  std::string out;
  EXPECT_FALSE(encode_multipart(parts, "BOUND", out));
  std::string base = std::string(path).substr(5);
  EXPECT_EQ(out,
            "--BOUND\r\nContent-Disposition: form-data; name=\"title\"\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
            "--BOUND\r\nContent-Disposition: form-data; name=\"up%22load\"; filename=\"" +
                base + "\"\r\nContent-Type: text/x\r\n\r\nFILEDATA\r\n--BOUND--\r\n");
  unlink(path);
  parts = {MultipartPart::from_file("f", "/nonexistent/file")};
  auto error = encode_multipart(parts, "B", out);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("/nonexistent/file"), std::string::npos);
}

TEST(Encoder, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
}

}  // namespace
}  // namespace httpkit::client
