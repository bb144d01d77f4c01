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

Header* find_header(std::vector<Header>& headers, std::string_view name) {
  for (Header& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}
Header* find_header(Response& r, std::string_view name) {
  return find_header(r.headers, name);
}

void add_vary(std::vector<Header>& headers) {
  if (Header* vary = find_header(headers, "vary")) {
    if (vary->value == "*" || http::text::list_has(vary->value, "accept-encoding")) return;
    vary->value += ", Accept-Encoding";
    return;
  }
  headers.push_back({"Vary", "Accept-Encoding"});
}

void weaken_etag(std::vector<Header>& headers) {
  if (Header* etag = find_header(headers, "etag"); etag && etag->value.rfind("W/", 0) != 0)
    etag->value = "W/" + etag->value;
}

using Shared = std::pair<CompressionOptions, std::vector<http::ContentCoding>>;

// A stream's encoder as an output filter: every flush (each channel send,
// each batch of a stream body) makes what was sent decodable at once.
class EncodingFilter final : public BodyFilter {
 public:
  explicit EncodingFilter(std::unique_ptr<app::ContentEncoder> encoder)
      : encoder_(std::move(encoder)) {}
  bool process(std::string_view in, bool flush, bool last, std::string& out) override {
    if (!encoder_) return in.empty();  // nothing may follow the end
    if (!in.empty() && !encoder_->write(in, out)) return false;
    if (last) {
      const bool ok = encoder_->finish(out);
      encoder_.reset();  // the encoder's window is freed with the stream's end
      return ok;
    }
    return !flush || encoder_->flush(out);
  }

 private:
  std::unique_ptr<app::ContentEncoder> encoder_;
};

// The same rules as for whole bodies, decided when the head of the stream
// is written (a channel's status and headers are known only then), except
// the minimum size: a stream's size is not known before it ends.
OutputFilter stream_compression(http::ContentCoding coding, std::shared_ptr<const Shared> shared) {
  return [coding, shared](OutputHead& head) -> std::unique_ptr<BodyFilter> {
    const int s = head.status;
    if (s < 200 || s == 204 || s == 206 || s == 304) return nullptr;
    std::vector<Header>& h = head.headers;
    if (find_header(h, "content-encoding") || find_header(h, "content-range")) return nullptr;
    if (const Header* cc = find_header(h, "cache-control");
        cc && http::text::list_has(cc->value, "no-transform"))
      return nullptr;
    const Header* type = find_header(h, "content-type");
    if (!type || !shared->first.compressible(type->value)) return nullptr;
    add_vary(h);
    auto encoder = app::make_content_encoder(coding, app::EncoderUse::stream);
    if (!encoder) return nullptr;  // identity: the client accepts no coding of ours
    std::erase_if(h, [](const Header& f) { return iequals(f.name, "content-length"); });
    h.push_back({"Content-Encoding", std::string(http::to_string(coding))});
    weaken_etag(h);
    return std::make_unique<EncodingFilter>(std::move(encoder));
  };
}

bool streamed(const Response& r) {
  if (auto* channel = std::get_if<ChannelBody>(&r.body)) return !channel->websocket;
  return std::holds_alternative<StreamBody>(r.body);
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
  auto shared = std::make_shared<const Shared>(std::move(options), std::move(offered));
  return [next = std::move(next), shared](const Request& req) {
    const auto& [opts, offered] = *shared;
    Response r = next(req);
    if (streamed(r)) {
      const auto accept = req.header("accept-encoding");
      const http::ContentCoding coding =
          accept ? http::choose_coding(*accept, offered).coding : http::ContentCoding::identity;
      r.output_filters.push_back(stream_compression(coding, shared));
      return r;
    }
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
    add_vary(r.headers);  // the answer depends on Accept-Encoding from here on

    const auto accept = req.header("accept-encoding");
    if (!accept) return r;
    const http::CodingChoice choice = http::choose_coding(*accept, offered);
    if (choice.coding == http::ContentCoding::identity) return r;
    std::string encoded;
    if (!app::encode_all(choice.coding, body, encoded)) return r;
    r.body = std::move(encoded);
    r.header("Content-Encoding", std::string(http::to_string(choice.coding)));
    weaken_etag(r.headers);
    return r;
  };
}

}  // namespace httpkit
