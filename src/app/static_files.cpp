#include "httpkit/static_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>

#include "app/byteranges_body.hpp"
#include "app/content_types.hpp"
#include "app/file_lookup.hpp"
#include "app/preconditions.hpp"
#include "http/byte_ranges.hpp"
#include "http/content_coding.hpp"
#include "http/text.hpp"

namespace httpkit {
namespace {

using app::Validators;

struct Sibling {
  http::ContentCoding coding;
  const char* suffix;
};
// In the order we prefer among codings a client rates equally.
constexpr Sibling kSiblings[] = {{http::ContentCoding::br, ".br"},
                                 {http::ContentCoding::zstd, ".zst"},
                                 {http::ContentCoding::gzip, ".gz"}};

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (http::text::is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

class Files {
 public:
  Files(const std::string& root, StaticFilesOptions options)
      : root_(root), options_(std::move(options)) {}

  Response serve(const Request& req) const;

 private:
  // An open file and what we know of it.
  struct Found {
    std::shared_ptr<const OpenFile> file;
    struct stat st {};
    std::string relative;
    std::shared_ptr<const std::string> bytes;  // a small file's content, when known
  };

  bool open_regular(const std::string& relative, Found& found) const;
  std::string_view type_of(std::string_view name) const;
  Response listing(const Request& req, const Found& dir) const;
  Response send(const Request& req, Found& found) const;

  app::FileRoot root_;
  StaticFilesOptions options_;
  mutable app::FoundFiles found_files_;
};

// One stat first: a file served before and unchanged needs nothing else,
// and a path that does not exist needs no open.
bool Files::open_regular(const std::string& relative, Found& found) const {
  found.relative = relative;
  struct stat now {};
  if (!root_.stat(relative, now)) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
  } else if (S_ISREG(now.st_mode)) {
    if (auto cached = found_files_.find(relative, now)) {
      found.file = std::move(cached->file);
      found.st = cached->st;
      found.bytes = std::move(cached->bytes);
      return true;
    }
  }
  const int fd = root_.open(relative);
  if (fd < 0) return false;
  found.file = std::make_shared<const OpenFile>(fd);
  if (fstat(fd, &found.st) != 0 || !S_ISREG(found.st.st_mode)) return false;
  found_files_.add(relative, {found.file, found.st, nullptr});
  return true;
}

std::string_view Files::type_of(std::string_view name) const {
  const std::size_t dot = name.find_last_of('.');
  if (dot != std::string_view::npos && !options_.content_types.empty()) {
    std::string ext(name.substr(dot + 1));
    for (char& c : ext)
      c = http::text::to_lower(c);
    if (auto it = options_.content_types.find(ext); it != options_.content_types.end())
      return it->second;
  }
  return app::content_type_for(name);
}

Response Files::serve(const Request& req) const {
  if (req.method() != "GET" && req.method() != "HEAD") {
    Response r = Response::text("Method Not Allowed", 405);
    r.header("Allow", "GET, HEAD");
    return r;
  }
  const auto captured = req.path_param(options_.capture);
  bool trailing = false;
  const auto relative = app::safe_relative_path(captured ? *captured : req.path(), !captured,
                                                options_.serve_dotfiles, trailing);
  if (!relative) return Response::not_found();
  trailing = !req.path().empty() && req.path().back() == '/';

  Found found;
  if (!open_regular(*relative, found)) {
    if (!found.file || !S_ISDIR(found.st.st_mode)) return Response::not_found();
    if (!trailing) {  // a directory is addressed with its slash, so relative links work
      Response r(301, "");
      std::string location = std::string(req.path()) + "/";
      if (!req.query_string().empty()) location += "?" + std::string(req.query_string());
      r.header("Location", location);
      return r;
    }
    const Found dir = found;
    for (const std::string& index : options_.index_files) {
      const std::string candidate = relative->empty() ? index : *relative + "/" + index;
      if (open_regular(candidate, found)) return send(req, found);
    }
    if (options_.directory_listing) return listing(req, dir);
    return Response::not_found();
  }
  return send(req, found);
}

Response Files::send(const Request& req, Found& found) const {
  const std::string_view type = type_of(found.relative);
  std::string_view coding;
  bool vary = false;
  if (options_.precompressed) {
    if (auto accept = req.header("accept-encoding")) {
      http::ContentCoding present[3];
      Found variants[3];
      std::size_t n = 0;
      for (const Sibling& s : kSiblings)
        if (open_regular(found.relative + s.suffix, variants[n])) present[n++] = s.coding;
      vary = n > 0;
      const auto choice = http::choose_coding(*accept, {present, n});
      for (std::size_t i = 0; i < n; ++i)
        if (present[i] == choice.coding) {
          found = std::move(variants[i]);
          coding = http::to_string(choice.coding);
        }
    }
  }

  const Validators v = app::validators_of(found.st, coding);
  auto common = [&](Response& r) {
    r.header("Last-Modified", v.last_modified);
    r.header("ETag", v.etag);
    if (!options_.cache_control.empty()) r.header("Cache-Control", options_.cache_control);
    if (vary) r.header("Vary", "Accept-Encoding");
  };
  switch (app::evaluate_preconditions(req, v)) {
    case app::Precondition::failed: {
      Response r = Response::text("Precondition Failed", 412);
      return r;
    }
    case app::Precondition::not_modified: {
      Response r(304, "");
      common(r);
      return r;
    }
    case app::Precondition::proceed:
      break;
  }

  Response r;
  common(r);
  r.header("Content-Type", std::string(type));
  if (!coding.empty()) r.header("Content-Encoding", std::string(coding));
  r.header("Accept-Ranges", "bytes");
  const uint64_t size = uint64_t(found.st.st_size);
  FileBody body;
  body.file = found.file;

  const auto range = req.header("range");
  if (range && req.method() == "GET" && app::if_range_allows(req, v)) {
    const http::RangeRequest ranges = http::parse_range(*range, size);
    if (ranges.status == http::RangeStatus::unsatisfiable) {
      Response bad = Response::text("Range Not Satisfiable", 416);
      bad.header("Content-Range", "bytes */" + std::to_string(size));
      return bad;
    }
    if (ranges.status == http::RangeStatus::satisfiable && ranges.ranges.size() == 1) {
      const http::ByteRange& one = ranges.ranges.front();
      r.status = 206;
      r.header("Content-Range", "bytes " + std::to_string(one.first) + "-" +
                                    std::to_string(one.first + one.length - 1) + "/" +
                                    std::to_string(size));
      body.offset = one.first;
      body.length = one.length;
      if (found.bytes && found.bytes->size() == size) {
        r.body = found.bytes->substr(std::size_t(one.first), std::size_t(one.length));
      } else {
        r.body = std::move(body);
      }
      return r;
    }
    if (ranges.status == http::RangeStatus::satisfiable) {
      if (auto parts = app::multipart_byteranges(found.file->fd(), size, ranges.ranges, type,
                                                 options_.max_multirange_bytes)) {
        r.status = 206;
        r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                       [](const Header& h) { return h.name == "Content-Type"; }),
                        r.headers.end());
        r.header("Content-Type", "multipart/byteranges; boundary=" + parts->boundary);
        r.body = std::move(parts->body);
        return r;
      }
    }
  }
  // A small file goes out from memory, with its head in one write.
  if (found.bytes && found.bytes->size() == size) {
    r.body = *found.bytes;
  } else {
    body.length = size;  // known from the lookup: the server need not fstat again
    r.body = std::move(body);
  }
  return r;
}

Response Files::listing(const Request& req, const Found& dir) const {
  const int fd = fcntl(dir.file->fd(), F_DUPFD_CLOEXEC, 0);
  DIR* d = fd >= 0 ? fdopendir(fd) : nullptr;
  if (!d) {
    if (fd >= 0) close(fd);
    return Response::not_found();
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is a directory
  while (dirent* e = readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == ".." || (!options_.serve_dotfiles && name.front() == '.')) continue;
    struct stat st {};
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    entries.emplace_back(name, S_ISDIR(st.st_mode));
  }
  closedir(d);
  std::sort(entries.begin(), entries.end());
  const std::string title = html_escape(req.path());
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of " +
                     title + "</title></head>\n<body><h1>Index of " + title + "</h1>\n<ul>\n";
  for (const auto& [name, is_dir] : entries)
    html += "<li><a href=\"" + percent_encode(name) + (is_dir ? "/" : "") + "\">" +
            html_escape(name) + (is_dir ? "/" : "") + "</a></li>\n";
  html += "</ul></body></html>\n";
  return Response::html(std::move(html));
}

}  // namespace

Handler serve_files(std::string root, StaticFilesOptions options) {
  auto files = std::make_shared<const Files>(root, std::move(options));
  return [files](const Request& req) { return files->serve(req); };
}

}  // namespace httpkit
