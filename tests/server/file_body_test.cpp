// File bodies (sendfile) against clients that give up in the middle.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace httpkit::test {
namespace {

// A file large enough that the server is still sending when the client
// leaves.
class BigFile {
 public:
  BigFile() {
    char name[] = "/tmp/httpkit-file-body-XXXXXX";
    const int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    path_ = name;
    std::ofstream out(path_, std::ios::binary);
    const std::string block(1 << 20, 'f');
    for (int i = 0; i < 16; ++i)
      out << block;
  }
  ~BigFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// sendfile(2) has no MSG_NOSIGNAL: a reset in the middle of a file once
// raised SIGPIPE, and its default action ended the whole process. This
// test process keeps the default action, so a regression kills it.
TEST(FileBody, ClientsThatResetInTheMiddleOfAFileLeaveTheServerServing) {
  ASSERT_NE(signal(SIGPIPE, SIG_DFL), SIG_ERR);
  const BigFile file;
  ServerOptions o = test_options();
  o.threads = 2;
  TestServer server(
      [&](const Request&) {
        Response r;
        r.body = FileBody{.path = file.path()};
        return r;
      },
      o);
  for (int i = 0; i < 40; ++i) {
    RawClient c(server.port(), 5000, 64 << 10);
    // Two requests: the second's answer is queued behind the first's file.
    c.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n");
    const RawResponse head = c.read_head();
    ASSERT_EQ(head.status, 200) << "round " << i;
    EXPECT_FALSE(c.read_some(64 << 10).empty());
    c.reset();
  }
  RawClient last(server.port());
  last.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  const RawResponse r = last.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 16u << 20);
}

}  // namespace
}  // namespace httpkit::test
