#include "httpkit/compression.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "app/content_encoder.hpp"
#include "app/content_types.hpp"
#include "http/content_coding.hpp"
#include "http/text.hpp"

namespace httpkit {
namespace {

http::ContentCoding to_http(Coding c) {
  switch (c) {
    case Coding::zstd:
      return http::ContentCoding::zstd;
    case Coding::br:
      return http::ContentCoding::br;
    case Coding::gzip:
      return http::ContentCoding::gzip;
    case Coding::deflate:
      return http::ContentCoding::deflate;
  }
  return http::ContentCoding::identity;
}

Header* find_header(Response& r, std::string_view name) {
  for (Header& h : r.headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

void add_vary(Response& r) {
  if (Header* vary = find_header(r, "vary")) {
    if (vary->value == "*" || http::text::list_has(vary->value, "accept-encoding")) return;
    vary->value += ", Accept-Encoding";
    return;
  }
  r.header("Vary", "Accept-Encoding");
}

// A FileBody read into memory (whole, or its range), if small enough.
bool read_file(const FileBody& f, std::size_t limit, std::string& out) {
  const int fd =
      f.file ? fcntl(f.file->fd(), F_DUPFD_CLOEXEC, 0) : open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const uint64_t size = ok ? uint64_t(st.st_size) : 0;
  const uint64_t offset = std::min(f.offset, size);
  const uint64_t length = std::min(f.length.value_or(size), size - offset);
  ok = ok && length <= limit;
  if (ok) {
    out.resize(std::size_t(length));
    std::size_t got = 0;
    while (ok && got < length) {
      const ssize_t n = pread(fd, out.data() + got, out.size() - got, off_t(offset + got));
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) got += std::size_t(n);
    }
  }
  close(fd);
  return ok;
}

}  // namespace

Handler wrap_compression(Handler next, CompressionOptions options) {
  if (!options.compressible) options.compressible = app::is_compressible;
  std::vector<http::ContentCoding> offered;
  for (Coding c : options.codings)
    offered.push_back(to_http(c));
  auto shared =
      std::make_shared<const std::pair<CompressionOptions, std::vector<http::ContentCoding>>>(
          std::move(options), std::move(offered));
  return [next = std::move(next), shared](const Request& req) {
    const auto& [opts, offered] = *shared;
    Response r = next(req);
    if (r.status < 200 || r.status == 204 || r.status == 206 || r.status == 304) return r;
    if (std::holds_alternative<ChannelBody>(r.body) ||
        std::holds_alternative<std::monostate>(r.body))
      return r;
    if (find_header(r, "content-encoding") || find_header(r, "content-range")) return r;
    if (const Header* cc = find_header(r, "cache-control");
        cc && http::text::list_has(cc->value, "no-transform"))
      return r;
    const Header* type = find_header(r, "content-type");
    if (!type || !opts.compressible(type->value)) return r;

    std::string file_bytes;
    std::string_view body;
    if (auto* s = std::get_if<std::string>(&r.body)) body = *s;
    if (auto* v = std::get_if<std::string_view>(&r.body)) body = *v;
    if (auto* f = std::get_if<FileBody>(&r.body)) {
      if (!read_file(*f, opts.max_file_size, file_bytes)) return r;
      body = file_bytes;
    }
    if (body.size() < opts.min_size) return r;
    add_vary(r);  // the answer depends on Accept-Encoding from here on

    const auto accept = req.header("accept-encoding");
    if (!accept) return r;
    const http::CodingChoice choice = http::choose_coding(*accept, offered);
    if (choice.coding == http::ContentCoding::identity) return r;
    std::string encoded;
    if (!app::encode_all(choice.coding, body, encoded)) return r;
    r.body = std::move(encoded);
    r.header("Content-Encoding", std::string(http::to_string(choice.coding)));
    if (Header* etag = find_header(r, "etag"); etag && etag->value.rfind("W/", 0) != 0)
      etag->value = "W/" + etag->value;
    return r;
  };
}

}  // namespace httpkit
