#include "httpkit/access_log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "httpkit/middleware.hpp"
#include "tests/app/fake_request.hpp"

namespace httpkit {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AccessLogTest : public ::testing::Test {
 protected:
  fs::path dir = fs::temp_directory_path() / ("httpkit-log-" + std::to_string(getpid()));
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
};

TEST_F(AccessLogTest, CombinedFormatWithEscapes) {
  test::FakeRequest req("GET", "/a?b=\"c\"",
                        {{"Referer", "http://x/"}, {"User-Agent", "curl/8\x01\"evil\""}});
  const Response r = Response::text("hello", 404);
  const std::string line =
      combined_log_line(*req, r, std::chrono::system_clock::from_time_t(971185536));
  EXPECT_EQ(line,
            "- - - [10/Oct/2000:13:45:36 +0000] \"GET /a?b=\\x22c\\x22 HTTP/1.1\" 404 5 "
            "\"http://x/\" \"curl/8\\x01\\x22evil\\x22\"");
  test::FakeRequest head("HEAD", "/");
  EXPECT_NE(combined_log_line(*head, r, {}).find("\" 404 0 \"-\" \"-\""), std::string::npos);
}

TEST_F(AccessLogTest, FileBodiesLogTheBytesSent) {
  const fs::path file = dir / "f.bin";
  std::ofstream(file) << std::string(1000, 'x');
  test::FakeRequest req("GET", "/f");
  const auto bytes_of = [&](FileBody body) {
    Response r;
    r.body = std::move(body);
    const std::string line = combined_log_line(*req, r, {});
    const std::size_t end = line.find(" \"-\" \"-\"");
    return line.substr(line.rfind(' ', end - 1) + 1, end - line.rfind(' ', end - 1) - 1);
  };
  EXPECT_EQ(bytes_of({.path = file.string()}), "1000");
  FileBody open_range{.file = std::make_shared<OpenFile>(::open(file.c_str(), O_RDONLY)),
                      .offset = 100};
  EXPECT_EQ(bytes_of(open_range), "900");  // the rest of an open file
  open_range.length = 50;
  EXPECT_EQ(bytes_of(open_range), "50");  // a range
}

TEST_F(AccessLogTest, WrittenOffThreadAndFlushed) {
  auto log = std::make_shared<AccessLog>((dir / "access.log").string());
  Handler app =
      wrap_request_id(wrap_access_log([](const Request&) { return Response::text("ok"); }, log));
  test::FakeRequest req("GET", "/x", {{"X-Request-Id", "rid-1"}});
  for (int i = 0; i < 3; ++i)
    app(*req);
  log->flush();
  const std::string text = read_file(dir / "access.log");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_NE(text.find("\"GET /x HTTP/1.1\" 200 2 \"-\" \"-\" \"rid-1\"\n"), std::string::npos);
}

TEST_F(AccessLogTest, ReopensAfterRotationOnSignal) {
  AccessLog::reopen_on_signal(SIGUSR1);
  const fs::path path = dir / "access.log";
  AccessLog log(path.string(),
                {.max_buffered = 1 << 20, .flush_every = std::chrono::milliseconds(20)});
  log.write("before");
  log.flush();
  fs::rename(path, dir / "access.log.1");
  ASSERT_EQ(raise(SIGUSR1), 0);
  // The writer sees the signal within flush_every; lines written from then
  // on go to the new file.
  for (int i = 0; i < 100 && !fs::exists(path); ++i) {
    log.write("probe");
    log.flush();
    usleep(20'000);
  }
  log.write("after");
  log.flush();
  EXPECT_EQ(read_file(dir / "access.log.1").substr(0, 7), "before\n");
  EXPECT_NE(read_file(path).find("after\n"), std::string::npos);
}

TEST_F(AccessLogTest, ABoundedBufferDropsAndCounts) {
  AccessLog log((dir / "small.log").string(),
                {.max_buffered = 64, .flush_every = std::chrono::milliseconds(60'000)});
  for (int i = 0; i < 10; ++i)
    log.write(std::string(20, 'x'));
  EXPECT_EQ(log.dropped(), 7u);  // 3 lines of 21 bytes fit in 64
  log.flush();
  EXPECT_EQ(read_file(dir / "small.log").size(), 63u);
}

}  // namespace
}  // namespace httpkit
