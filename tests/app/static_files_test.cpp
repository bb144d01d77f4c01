#include "httpkit/static_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http/response_writer.hpp"
#include "httpkit/router.hpp"
#include "tests/app/fake_request.hpp"

namespace httpkit {
namespace {

namespace fs = std::filesystem;
using test::FakeRequest;
using test::response_header;
using Fields = std::vector<std::pair<std::string, std::string>>;

void write_file(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

class StaticFiles : public ::testing::Test {
 protected:
  fs::path base = fs::temp_directory_path() / ("httpkit-static-" + std::to_string(getpid()));
  fs::path root = base / "www";
  std::string letters;

  void SetUp() override {
    fs::create_directories(root / "sub" / "deeper");
    fs::create_directories(root / "empty");
    fs::create_directories(root / ".git");
    for (int i = 0; i < 1000; ++i)
      letters += char('a' + i % 26);
    write_file(root / "index.html", "<h1>home</h1>");
    write_file(root / "letters.txt", letters);
    write_file(root / "letters.txt.gz", "GZ-BYTES");
    write_file(root / "letters.txt.br", "BR-BYTES");
    write_file(root / "sub" / "page.html", "<p>page</p>");
    write_file(root / "sub" / "deeper" / "x.json", "{}");
    write_file(root / ".env", "SECRET=1");
    write_file(root / ".git" / "config", "[core]");
    write_file(base / "outside.txt", "outside the root");
    fs::create_symlink(base / "outside.txt", root / "escape.txt");
    fs::create_symlink(base, root / "escape-dir");
    fs::create_symlink("letters.txt", root / "alias.txt");  // stays inside: fine
  }
  void TearDown() override { fs::remove_all(base); }

  Response get(const Handler& h, const std::string& target, const Fields& fields = {},
               const std::string& method = "GET") {
    FakeRequest req(method, target, fields);
    return h(*req);
  }
};

const FileBody* file_of(const Response& r) {
  return std::get_if<FileBody>(&r.body);
}

TEST_F(StaticFiles, ServesFilesWithTypeAndValidators) {
  Handler files = serve_files(root.string());
  const Response r = get(files, "/letters.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(response_header(r, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response_header(r, "Accept-Ranges"), "bytes");
  EXPECT_EQ(response_header(r, "ETag").front(), '"');
  EXPECT_EQ(response_header(r, "Last-Modified").size(), 29u);
  ASSERT_TRUE(file_of(r));
  EXPECT_TRUE(file_of(r)->file);
  EXPECT_EQ(file_of(r)->offset, 0u);
  // The whole file, its length from the lookup's stat (the server does not
  // stat it again).
  EXPECT_EQ(file_of(r)->length,
            std::optional<uint64_t>(std::filesystem::file_size(root / "letters.txt")));
  EXPECT_EQ(get(files, "/sub/deeper/x.json").status, 200);
  EXPECT_EQ(response_header(get(files, "/sub/deeper/x.json"), "Content-Type"), "application/json");
  EXPECT_EQ(get(files, "/alias.txt").status, 200);
  EXPECT_EQ(get(files, "/missing.txt").status, 404);
  EXPECT_EQ(get(files, "/letters.txt", {}, "POST").status, 405);
}

TEST_F(StaticFiles, IndexFilesAndDirectories) {
  Handler files = serve_files(root.string());
  const Response home = get(files, "/");
  EXPECT_EQ(home.status, 200);
  EXPECT_EQ(response_header(home, "Content-Type"), "text/html; charset=utf-8");
  const Response redirect = get(files, "/sub?x=1");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(response_header(redirect, "Location"), "/sub/?x=1");
  EXPECT_EQ(get(files, "/sub/").status, 404);  // no index, no listing by default
  StaticFilesOptions listing;
  listing.directory_listing = true;
  Handler listed = serve_files(root.string(), listing);
  const Response list = get(listed, "/sub/");
  EXPECT_EQ(list.status, 200);
  const std::string html = test::response_text(list);
  EXPECT_NE(html.find("<a href=\"page.html\">page.html</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"deeper/\">deeper/</a>"), std::string::npos);
  EXPECT_EQ(get(listed, "/").status, 200);  // index.html wins over the listing
}

TEST_F(StaticFiles, TraversalIsImpossible) {
  Handler files = serve_files(root.string());
  for (const char* target :
       {"/../outside.txt", "/sub/../../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/outside.txt",
        "/sub/%2e%2e/%2e%2e/outside.txt", "/..%2foutside.txt", "/sub%2f..%2f..%2foutside.txt",
        "/letters.txt%00.html", "/sub\\..\\..\\outside.txt", "/..\\outside.txt", "/escape.txt",
        "/escape-dir/outside.txt", "/.env", "/.git/config", "/%2egit/config", "/./letters.txt"}) {
    const int status = get(files, target).status;
    EXPECT_TRUE(status == 404 || status == 403) << target << " gave " << status;
  }
  // Through a router's *path capture, which decodes, the same.
  Router app;
  app.get("/files/*path", files);
  for (const char* target :
       {"/files/../outside.txt", "/files/%2e%2e/outside.txt", "/files/..%2Foutside.txt",
        "/files/escape.txt", "/files/.env", "/files/a%00b"}) {
    const int status = get(app, target).status;
    EXPECT_TRUE(status == 404 || status == 403) << target << " gave " << status;
  }
  EXPECT_EQ(get(app, "/files/letters.txt").status, 200);
  EXPECT_EQ(get(app, "/files/sub/page.html").status, 200);
}

TEST_F(StaticFiles, ConditionalRequests) {
  Handler files = serve_files(root.string());
  const Response first = get(files, "/letters.txt");
  const std::string etag = response_header(first, "ETag");
  const std::string modified = response_header(first, "Last-Modified");
  EXPECT_EQ(get(files, "/letters.txt", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(get(files, "/letters.txt", {{"If-None-Match", "\"x\", W/" + etag}}).status, 304);
  EXPECT_EQ(get(files, "/letters.txt", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(get(files, "/letters.txt", {{"If-Modified-Since", modified}}).status, 304);
  EXPECT_EQ(
      get(files, "/letters.txt", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).status,
      200);
  // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
  EXPECT_EQ(
      get(files, "/letters.txt", {{"If-None-Match", "\"other\""}, {"If-Modified-Since", modified}})
          .status,
      200);
  EXPECT_EQ(get(files, "/letters.txt", {{"If-Match", "\"other\""}}).status, 412);
  EXPECT_EQ(get(files, "/letters.txt", {{"If-Match", etag}}).status, 200);
  EXPECT_EQ(get(files, "/letters.txt", {{"If-Match", "W/" + etag}}).status, 412);  // strong only
  EXPECT_EQ(
      get(files, "/letters.txt", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).status,
      412);
  const Response not_modified = get(files, "/letters.txt", {{"If-None-Match", etag}});
  EXPECT_EQ(response_header(not_modified, "ETag"), etag);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(not_modified.body) ||
              test::response_text(not_modified).empty());
}

TEST_F(StaticFiles, Ranges) {
  Handler files = serve_files(root.string());
  const Response one = get(files, "/letters.txt", {{"Range", "bytes=10-19"}});
  EXPECT_EQ(one.status, 206);
  EXPECT_EQ(response_header(one, "Content-Range"), "bytes 10-19/1000");
  ASSERT_TRUE(file_of(one));
  EXPECT_EQ(file_of(one)->offset, 10u);
  EXPECT_EQ(file_of(one)->length, 10u);
  const Response suffix = get(files, "/letters.txt", {{"Range", "bytes=-5"}});
  EXPECT_EQ(response_header(suffix, "Content-Range"), "bytes 995-999/1000");
  const Response bad = get(files, "/letters.txt", {{"Range", "bytes=1000-"}});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(response_header(bad, "Content-Range"), "bytes */1000");
  EXPECT_EQ(get(files, "/letters.txt", {{"Range", "lines=1-2"}}).status, 200);
  EXPECT_EQ(get(files, "/letters.txt", {{"Range", "bytes=0-1"}}, "HEAD").status, 200);

  const Response multi = get(files, "/letters.txt", {{"Range", "bytes=0-2,26-28"}});
  EXPECT_EQ(multi.status, 206);
  const std::string type = response_header(multi, "Content-Type");
  ASSERT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u);
  const std::string boundary = type.substr(type.find('=') + 1);
  EXPECT_EQ(test::response_text(multi),
            "--" + boundary +
                "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-2/1000\r\n"
                "\r\nabc\r\n--" +
                boundary +
                "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes "
                "26-28/1000\r\n\r\nabc\r\n--" +
                boundary + "--\r\n");
}

TEST_F(StaticFiles, IfRange) {
  Handler files = serve_files(root.string());
  const Response first = get(files, "/letters.txt");
  const std::string etag = response_header(first, "ETag");
  EXPECT_EQ(get(files, "/letters.txt", {{"Range", "bytes=0-9"}, {"If-Range", etag}}).status, 206);
  EXPECT_EQ(get(files, "/letters.txt", {{"Range", "bytes=0-9"}, {"If-Range", "\"old\""}}).status,
            200);
  EXPECT_EQ(get(files, "/letters.txt", {{"Range", "bytes=0-9"}, {"If-Range", "W/" + etag}}).status,
            200);
  EXPECT_EQ(get(files, "/letters.txt",
                {{"Range", "bytes=0-9"}, {"If-Range", response_header(first, "Last-Modified")}})
                .status,
            206);
  EXPECT_EQ(get(files, "/letters.txt",
                {{"Range", "bytes=0-9"}, {"If-Range", "Sun, 06 Nov 1994 08:49:37 GMT"}})
                .status,
            200);
}

TEST_F(StaticFiles, PrecompressedSiblings) {
  Handler files = serve_files(root.string());
  const Response br = get(files, "/letters.txt", {{"Accept-Encoding", "gzip, deflate, br"}});
  EXPECT_EQ(response_header(br, "Content-Encoding"), "br");
  EXPECT_EQ(response_header(br, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response_header(br, "Vary"), "Accept-Encoding");
  EXPECT_NE(response_header(br, "ETag").find("-br\""), std::string::npos);
  const Response gz = get(files, "/letters.txt", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(response_header(gz, "Content-Encoding"), "gzip");
  const Response plain = get(files, "/letters.txt", {{"Accept-Encoding", "zstd"}});
  EXPECT_EQ(response_header(plain, "Content-Encoding"), "<none>");
  EXPECT_EQ(response_header(plain, "Vary"), "Accept-Encoding");
  EXPECT_EQ(response_header(get(files, "/letters.txt"), "Content-Encoding"), "<none>");
}

TEST_F(StaticFiles, OptionsOverrideTypesAndCaching) {
  StaticFilesOptions options;
  options.content_types["txt"] = "text/x-letters";
  options.cache_control = "public, max-age=60";
  options.serve_dotfiles = true;
  Handler files = serve_files(root.string(), options);
  const Response r = get(files, "/letters.txt");
  EXPECT_EQ(response_header(r, "Content-Type"), "text/x-letters");
  EXPECT_EQ(response_header(r, "Cache-Control"), "public, max-age=60");
  EXPECT_EQ(get(files, "/.env").status, 200);
  EXPECT_EQ(get(files, "/escape.txt").status, 404);  // dotfiles on, the root still holds
  EXPECT_THROW(serve_files((base / "nope").string()), std::system_error);
}

TEST_F(StaticFiles, AnUnchangedSmallFileIsServedFromMemoryAndAChangedOneAgainFromDisk) {
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  fs::last_write_time(root / "letters.txt", old);  // older than the racy window
  Handler files = serve_files(root.string());
  const Response first = get(files, "/letters.txt");
  ASSERT_NE(file_of(first), nullptr);  // opened, then remembered
  const Response second = get(files, "/letters.txt");
  const auto* bytes = std::get_if<std::string>(&second.body);
  ASSERT_NE(bytes, nullptr);
  EXPECT_EQ(*bytes, letters);
  EXPECT_EQ(response_header(second, "ETag"), response_header(first, "ETag"));
  const Response range = get(files, "/letters.txt", {{"Range", "bytes=2-4"}});
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(std::get<std::string>(range.body), "cde");

  // Rewritten in place, same size: its times change, so it is read again.
  std::string upper = letters;
  for (char& c : upper)
    c = char(c - 'a' + 'A');
  write_file(root / "letters.txt", upper);
  const Response third = get(files, "/letters.txt");
  ASSERT_NE(file_of(third), nullptr);
  EXPECT_NE(response_header(third, "ETag"), response_header(first, "ETag"));
  // Written just now: not remembered (a second rewrite could share its mtime).
  const Response fourth = get(files, "/letters.txt");
  EXPECT_NE(file_of(fourth), nullptr);
}

TEST_F(StaticFiles, ASymlinkTurnedOutOfTheRootAfterItWasServedIsRefused) {
  fs::last_write_time(root / "letters.txt",
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  fs::last_write_time(base / "outside.txt",
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  fs::create_symlink("letters.txt", root / "moving.txt");
  Handler files = serve_files(root.string());
  EXPECT_EQ(get(files, "/moving.txt").status, 200);
  EXPECT_EQ(std::get<std::string>(get(files, "/moving.txt").body), letters);  // remembered
  fs::remove(root / "moving.txt");
  fs::create_symlink(base / "outside.txt", root / "moving.txt");
  EXPECT_EQ(get(files, "/moving.txt").status, 404);
}

}  // namespace
}  // namespace httpkit
