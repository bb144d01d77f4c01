// What a handler returns: status, repeatable headers and a body.
//
// The server writes the framing (Content-Length or chunked), Date and
// Server itself; a handler only says what the response is.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace httpkit {

struct Header {
  std::string name;
  std::string value;
};

// A file sent with sendfile(2); the server opens and closes it.
struct FileBody {
  std::string path;
};

struct ChannelHandlers;
struct WebSocketAccept;

// The connection is taken as a channel (see channel.hpp, as_channel).
struct ChannelBody {
  std::shared_ptr<const ChannelHandlers> handlers;
  std::shared_ptr<const WebSocketAccept> websocket;  // null: a plain HTTP channel
};

// The body kinds: none, owned bytes, bytes that outlive the response (for
// example a constant), a file, or a channel.
using Body = std::variant<std::monostate, std::string, std::string_view, FileBody, ChannelBody>;

struct Response {
  int status = 200;
  std::vector<Header> headers;
  Body body;

  Response() = default;
  Response(int status_code, std::string text_body) : status(status_code), body(std::move(text_body)) {}

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
    r.body = FileBody{std::move(path)};
    r.header("Content-Type", std::move(content_type));
    return r;
  }
  static Response not_found() { return text("Not Found", 404); }
};

}  // namespace httpkit
