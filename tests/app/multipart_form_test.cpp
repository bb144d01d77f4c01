// receive_multipart over a real server: fields and files, the files gone
// once the request ends, and every malformed shape refused with nothing
// left in the spool directory.
#include "httpkit/multipart_form.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "httpkit/router.hpp"
#include "tests/server/raw_client.hpp"
#include "tests/server/test_server.hpp"

namespace httpkit {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SpoolDir {
 public:
  SpoolDir() {
    std::string tmpl = (fs::temp_directory_path() / "httpkit-spool-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~SpoolDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::size_t entries() const {
    return std::size_t(std::distance(fs::directory_iterator(path_), fs::directory_iterator()));
  }
  // Aborts clean up on the loop a moment after the client left.
  bool empties_within(std::chrono::milliseconds limit) const {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (entries() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(10ms);
    return entries() == 0;
  }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr std::string_view kBoundary = "XyZzY-boundary";

std::string field(std::string_view name, std::string_view value) {
  return "--" + std::string(kBoundary) + "\r\nContent-Disposition: form-data; name=\"" +
         std::string(name) + "\"\r\n\r\n" + std::string(value) + "\r\n";
}
std::string file_part(std::string_view name, std::string_view filename, std::string_view data) {
  return "--" + std::string(kBoundary) + "\r\nContent-Disposition: form-data; name=\"" +
         std::string(name) + "\"; filename=\"" + std::string(filename) +
         "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + std::string(data) + "\r\n";
}
std::string close_delimiter() {
  return "--" + std::string(kBoundary) + "--\r\n";
}
std::string upload_request(std::string_view body, std::string_view type = {}) {
  const std::string content_type =
      type.empty() ? "multipart/form-data; boundary=" + std::string(kBoundary) : std::string(type);
  return "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// What the handler saw, for the test's thread.
struct Seen {
  std::mutex mutex;
  std::vector<UploadedFile> files;
  std::vector<std::string> contents;
  std::string fields;
};

Router upload_router(const SpoolDir& dir, std::shared_ptr<Seen> seen, MultipartOptions extra = {}) {
  extra.spool_dir = dir.path();
  Router r;
  r.post("/upload",
         [seen, extra](const Request& req) {
           return receive_multipart(req, extra,
                                    [seen](const Request& req, const MultipartForm& form) {
                                      std::lock_guard lock(seen->mutex);
                                      for (const Param& p : form.fields)
                                        seen->fields += p.name + "=" + p.value + ";";
                                      for (const UploadedFile& f : form.files) {
                                        seen->files.push_back(f);
                                        struct stat st {};
                                        ::stat(f.path.c_str(), &st);
                                        EXPECT_EQ(st.st_mode & 0777, 0600u);
                                        seen->contents.push_back(read_file(f.path));
                                      }
                                      return Response::text(std::string(req.path()) + " ok");
                                    });
         },
         {.max_body = 64u << 20, .stream_body = true});
  return r;
}

test::TestServer serve(const Router& r) {
  ServerOptions o = test::test_options();
  o.body_plan = r.body_plan();
  o.body_timeout = 300ms;
  return test::TestServer(r, o);
}

TEST(MultipartForm, FieldsBecomeParamsAndFilesAreSpooledThenRemoved) {
  SpoolDir dir;
  auto seen = std::make_shared<Seen>();
  Router r = upload_router(dir, seen);
  auto server = serve(r);
  // Binary data with what looks like a delimiter but is not one.
  std::string binary;
  for (int i = 0; i < 300000; ++i)
    binary.push_back(char(i * 7));
  binary += "\r\n--XyZzY-boundar not quite";
  const std::string body = field("title", "a b&c=d") + file_part("doc", "a.bin", binary) +
                           field("tag", "x") + file_part("empty", "e.txt", "") + close_delimiter();
  test::RawClient c(server.port());
  const std::string request = upload_request(body);
  // In uneven pieces, so parts straddle reads.
  for (std::size_t at = 0; at < request.size(); at += 7777)
    c.send(std::string_view(request).substr(at, 7777));
  test::RawResponse resp = c.read_response();
  EXPECT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(resp.body, "/upload ok");
  std::lock_guard lock(seen->mutex);
  EXPECT_EQ(seen->fields, "title=a b&c=d;tag=x;");
  ASSERT_EQ(seen->files.size(), 2u);
  EXPECT_EQ(seen->files[0].name, "doc");
  EXPECT_EQ(seen->files[0].filename, "a.bin");
  EXPECT_EQ(seen->files[0].content_type, "application/octet-stream");
  EXPECT_EQ(seen->files[0].size, binary.size());
  EXPECT_EQ(seen->contents[0], binary);
  EXPECT_EQ(seen->files[1].size, 0u);
  EXPECT_EQ(seen->files[0].path.rfind(dir.path(), 0), 0u);
  EXPECT_EQ(dir.entries(), 0u);  // removed once the handler answered
  EXPECT_FALSE(fs::exists(seen->files[0].path));
}

TEST(MultipartForm, WorksOverABufferedBodyToo) {
  SpoolDir dir;
  auto seen = std::make_shared<Seen>();
  Router r = upload_router(dir, seen);
  test::TestServer server(r);  // no body plan: the body is read first
  test::RawClient c(server.port());
  c.send(upload_request(field("a", "1") + file_part("f", "f.txt", "hello") + close_delimiter()));
  EXPECT_EQ(c.read_response().status, 200);
  std::lock_guard lock(seen->mutex);
  ASSERT_EQ(seen->contents.size(), 1u);
  EXPECT_EQ(seen->contents[0], "hello");
  EXPECT_EQ(dir.entries(), 0u);
}

TEST(MultipartForm, PerFileCallbackTakesTheBytesInstead) {
  auto got = std::make_shared<std::string>();
  MultipartOptions o;
  o.on_file = [got](const UploadedFile& f, std::string_view bytes, bool end) {
    if (end) *got += "[" + f.filename + ":" + std::to_string(f.size) + "]";
    *got += bytes;
    return true;
  };
  Router r;
  r.post("/upload",
         [o](const Request& req) {
           return receive_multipart(req, o, [](const Request&, const MultipartForm& form) {
             return Response::text(form.files.at(0).path.empty() ? "no path" : "path");
           });
         },
         {.stream_body = true});
  auto server = serve(r);
  test::RawClient c(server.port());
  c.send(upload_request(file_part("f", "x.txt", "streamed bytes") + close_delimiter()));
  EXPECT_EQ(c.read_response().body, "no path");
  EXPECT_EQ(*got, "streamed bytes[x.txt:14]");
}

struct Malformed {
  const char* name;
  std::string request;
  int status;
};

class MultipartMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(MultipartMalformed, IsRefusedWithNothingLeftOnDisk) {
  SpoolDir dir;
  auto seen = std::make_shared<Seen>();
  Router r = upload_router(
      dir, seen,
      {.max_field_size = 100, .max_file_size = 1000, .max_parts = 5, .max_part_head = 1024});
  auto server = serve(r);
  test::RawClient c(server.port());
  c.send(GetParam().request);
  test::RawResponse resp = c.read_response();
  EXPECT_EQ(resp.status, GetParam().status) << resp.body;
  EXPECT_TRUE(dir.empties_within(2s));
  std::lock_guard lock(seen->mutex);
  EXPECT_TRUE(seen->files.empty());  // the handler never ran
}

std::string many_parts(int n) {
  std::string body;
  for (int i = 0; i < n; ++i)
    body += field("f" + std::to_string(i), "v");
  return body + close_delimiter();
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MultipartMalformed,
    ::testing::Values(
        Malformed{"MissingBoundary", upload_request(field("a", "1"), "multipart/form-data"), 400},
        Malformed{"NotMultipart", upload_request("a=1", "application/x-www-form-urlencoded"), 415},
        Malformed{"EndlessPartHeader",
                  upload_request("--" + std::string(kBoundary) +
                                 "\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: " +
                                 std::string(4000, 'p')),
                  400},
        Malformed{"BoundaryNeverClosed",
                  upload_request(file_part("f", "f.bin", std::string(500, 'z'))), 400},
        Malformed{"TooManyParts", upload_request(many_parts(6)), 400},
        Malformed{"PartWithoutName",
                  upload_request("--" + std::string(kBoundary) +
                                 "\r\nContent-Type: text/plain\r\n\r\nx\r\n" + close_delimiter()),
                  400},
        Malformed{"FieldOverItsLimit",
                  upload_request(field("a", std::string(101, 'a')) + close_delimiter()), 413},
        Malformed{
            "FileOverItsLimit",
            upload_request(file_part("f", "big.bin", std::string(1001, 'b')) + close_delimiter()),
            413},
        Malformed{"NoCloseAfterAFileAndAField",
                  upload_request(file_part("f", "f.bin", "data") + field("a", "1")), 400}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return std::string(info.param.name); });

TEST(MultipartForm, AClientLeavingMidFileLeavesNothingOnDisk) {
  SpoolDir dir;
  auto seen = std::make_shared<Seen>();
  Router r = upload_router(dir, seen);
  auto server = serve(r);
  {
    test::RawClient c(server.port());
    const std::string body = field("a", "1") + file_part("f", "f.bin", std::string(100000, 'q'));
    std::string request = upload_request(body + close_delimiter());
    request.resize(request.size() - 5000);  // the rest never comes
    c.send(request);
    ASSERT_TRUE(c.wait_until_server_read());
    EXPECT_EQ(dir.entries(), 1u);  // the file part is being spooled
  }
  EXPECT_TRUE(dir.empties_within(2s));
}

TEST(MultipartForm, ABodyTimeoutLeavesNothingOnDisk) {
  SpoolDir dir;
  auto seen = std::make_shared<Seen>();
  Router r = upload_router(dir, seen);
  auto server = serve(r);  // body_timeout 300 ms
  test::RawClient c(server.port());
  std::string request =
      upload_request(file_part("f", "f.bin", std::string(1000, 'q')) + close_delimiter());
  request.resize(request.size() - 10);
  c.send(request);
  EXPECT_EQ(c.read_response().status, 408);
  EXPECT_TRUE(dir.empties_within(2s));
}

}  // namespace
}  // namespace httpkit
