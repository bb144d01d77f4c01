// What a handler returns: status, repeatable headers and a body.
//
// The server writes the framing (Content-Length or chunked), Date and
// Server itself; a handler only says what the response is.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "httpkit/output_filter.hpp"

namespace httpkit {

struct Header {
  std::string name;
  std::string value;
};

// A file opened by whoever made the response (serve_files opens beneath
// its root, so that nothing can swap the path between the checks and the
// send); closed when the last response holding it goes.
class OpenFile {
 public:
  explicit OpenFile(int fd) : fd_(fd) {}
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// A file sent with sendfile(2) (or read and encrypted under TLS): `path`
// opened by the server, or `file` already open; `length` bytes from
// `offset` (to the end when unset). The server says 404 if it cannot open
// a regular file there.
struct FileBody {
  std::string path{};
  std::shared_ptr<const OpenFile> file{};
  uint64_t offset = 0;
  std::optional<uint64_t> length{};
};

struct ChannelHandlers;
struct WebSocketAccept;

// The connection is taken as a channel (see channel.hpp, as_channel).
struct ChannelBody {
  std::shared_ptr<const ChannelHandlers> handlers;
  std::shared_ptr<const WebSocketAccept> websocket;  // null: a plain HTTP channel
};

// A body produced piece by piece as the peer reads it. `next` is called on
// the connection's loop thread whenever the socket has taken what was sent
// (so a slow reader slows the calls: at most about one piece waits in the
// server), and returns the next piece, or nullopt at the end; an empty
// piece is allowed. It must not block: a source that waits (a queue,
// another thread) belongs in a channel with on_drain. Sent with
// Content-Length when `length` is given (a generator that then yields more
// or fewer bytes has the connection closed), else chunked (close-delimited
// for HTTP/1.0). If `next` throws, the response ends there: the error is
// logged and the connection closed, since the peer cannot tell a cut body
// from a whole one otherwise. The write deadline applies while waiting.
struct StreamBody {
  std::function<std::optional<std::string>()> next;
  std::optional<uint64_t> length{};
};

// A StreamBody reading `in` in pieces of up to `piece_size` bytes until its
// end (a read error ends the response as a throw would). For files on disk
// prefer FileBody (sendfile); this is for streams that come from elsewhere
// and can be read without blocking for long.
StreamBody stream_body(std::unique_ptr<std::istream> in,
                       std::optional<uint64_t> length = std::nullopt,
                       std::size_t piece_size = 64 * 1024);

// The body kinds: none, owned bytes, bytes that outlive the response (for
// example a constant), a file, a channel, or a stream.
struct BodyHandlers;

// The handler takes the request's body as it arrives (see request_body.hpp,
// receive_body); its answer comes later.
struct ReceiveBody {
  std::shared_ptr<const BodyHandlers> handlers;
};

using Body = std::variant<std::monostate, std::string, std::string_view, FileBody, ChannelBody,
                          StreamBody, ReceiveBody>;

struct Response {
  int status = 200;
  std::vector<Header> headers;
  Body body;
  // Set-ups for filters of streamed output, applied in order (see
  // output_filter.hpp). Middleware adds to them; handlers rarely do.
  std::vector<OutputFilter> output_filters;

  Response() = default;
  Response(int status_code, std::string text_body)
      : status(status_code), body(std::move(text_body)) {}

  Response& header(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
    return *this;
  }

  static Response text(std::string body, int status = 200) {
    Response r(status, std::move(body));
    r.header("Content-Type", "text/plain; charset=utf-8");
    return r;
  }
  static Response html(std::string body, int status = 200) {
    Response r(status, std::move(body));
    r.header("Content-Type", "text/html; charset=utf-8");
    return r;
  }
  static Response file(std::string path, std::string content_type = "application/octet-stream") {
    Response r;
    FileBody file;
    file.path = std::move(path);
    r.body = std::move(file);
    r.header("Content-Type", std::move(content_type));
    return r;
  }
  static Response not_found() { return text("Not Found", 404); }
};

}  // namespace httpkit
