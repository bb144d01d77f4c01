// Static files, as nginx serves them: content types, validators and
// conditional requests, ranges, index files, pre-compressed siblings, and
// no way out of the root.
//
//   httpkit::Router app;
//   app.get("/files/*path", httpkit::serve_files("/srv/www"));
//
// The file is the route's `*path` capture when there is one, else the
// request's path. Sent with sendfile(2), or read and encrypted under TLS.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "httpkit/server.hpp"

namespace httpkit {

struct StaticFilesOptions {
  // Tried in order when the path names a directory (with a trailing '/';
  // without one, the answer is a 301 to the path with it).
  std::vector<std::string> index_files = {"index.html"};
  // An HTML listing of a directory without an index file (else 404).
  bool directory_listing = false;
  // file.br, file.zst and file.gz served instead of file to clients that
  // accept them (with Content-Encoding and Vary: Accept-Encoding).
  bool precompressed = true;
  // Files and directories whose name starts with '.' (.git, .env) are 404.
  bool serve_dotfiles = false;
  // Extension (without the dot, lower case) to Content-Type, over the
  // built-in table.
  std::unordered_map<std::string, std::string> content_types{};
  // Sent as Cache-Control when not empty ("public, max-age=3600").
  std::string cache_control{};
  // The route capture naming the file.
  std::string capture = "path";
  // Several ranges are answered with multipart/byteranges up to this many
  // bytes in all (read into memory); beyond it, the whole file (RFC 9110
  // lets a server ignore Range).
  std::size_t max_multirange_bytes = 8u << 20;
};

// Throws std::system_error if `root` is not an openable directory.
Handler serve_files(std::string root, StaticFilesOptions options = {});

}  // namespace httpkit
