// chat: a chat room served by httpkit, like http-kit's demo.
//
//   chat --port 9000     then open http://localhost:9000/
//
// GET /            the page (WebSocket, with a long-polling fallback)
// GET /ws          WebSocket: send "name=..&text=.." (URL-encoded), receive batches
// GET /poll?since=ID   long-poll for the messages after ID
// POST /send       form fields name, text
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chat_page.hpp"
#include "chat_room.hpp"
#include "httpkit/channel.hpp"
#include "httpkit/params.hpp"
#include "httpkit/server.hpp"

namespace {

constexpr std::size_t kMaxName = 40;
constexpr std::size_t kMaxText = 2000;

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values
// past U+10FFFF): browsers fail a WebSocket that receives anything else.
// nlohmann-json's strict dump checks exactly that, and throws otherwise.
bool is_valid_utf8(std::string_view s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// A message as a client sent it; `error` says why it was refused.
struct Posted {
  std::string name, text;
  const char* error = nullptr;
};

Posted read_message(const httpkit::Params& fields) {
  Posted p;
  p.name = std::string(fields.get("name").value_or(""));
  p.text = std::string(fields.get("text").value_or(""));
  if (p.name.empty()) p.name = "guest";
  if (p.text.empty()) p.error = "text is empty";
  if (p.name.size() > kMaxName || p.text.size() > kMaxText) p.error = "too long";
  // Everything goes out in WebSocket text frames, which must be UTF-8.
  if (!is_valid_utf8(p.name) || !is_valid_utf8(p.text)) p.error = "not UTF-8";
  return p;
}

std::shared_ptr<const httpkit::ChannelHandlers> websocket_handlers(chat::ChatRoom& room) {
  auto h = std::make_shared<httpkit::ChannelHandlers>();
  h->on_open = [&room](const httpkit::ChannelPtr& ch) { room.join(ch); };
  h->on_receive = [&room](const httpkit::ChannelPtr& ch, std::string_view message, bool) {
    Posted p = read_message(httpkit::Params::parse(message));
    if (p.error) {
      ch->send(nlohmann::json{{"messages", nlohmann::json::array()}, {"error", p.error}}.dump());
      return;
    }
    room.post(p.name, p.text);
  };
  return h;
}

std::shared_ptr<const httpkit::ChannelHandlers> poll_handlers(chat::ChatRoom& room,
                                                              uint64_t since) {
  auto h = std::make_shared<httpkit::ChannelHandlers>();
  h->on_open = [&room, since](const httpkit::ChannelPtr& ch) { room.poll(ch, since); };
  h->on_close = [&room](const httpkit::ChannelPtr& ch, httpkit::CloseStatus) {
    room.forget_poll(ch.get());
  };
  return h;
}

uint64_t parse_since(const httpkit::Request& request) {
  uint64_t since = 0;
  // query_params() returns the Params by value and get() views into it:
  // keep it alive while the view is read.
  const httpkit::Params query = request.query_params();
  if (auto value = query.get("since"))
    std::from_chars(value->data(), value->data() + value->size(), since);
  return since;  // 0 when absent or malformed: the backlog
}

httpkit::Handler routes(chat::ChatRoom& room) {
  auto websocket = websocket_handlers(room);
  return [&room, websocket](const httpkit::Request& request) -> httpkit::Response {
    const std::string_view path = request.path(), method = request.method();
    if (path == "/" && (method == "GET" || method == "HEAD"))
      return httpkit::Response::html(std::string(chat::chat_page()));
    if (path == "/ws") {
      if (!request.header("upgrade"))  // a plain GET would wait forever
        return httpkit::Response::text("WebSocket only; use /poll\n", 400);
      return httpkit::as_channel(request, websocket);
    }
    if (path == "/poll" && method == "GET")
      return httpkit::as_channel(request, poll_handlers(room, parse_since(request)));
    if (path == "/send" && method == "POST") {
      Posted p = read_message(request.form_params());
      if (p.error) return httpkit::Response::text(std::string(p.error) + "\n", 400);
      httpkit::Response ok(200, nlohmann::json{{"id", room.post(p.name, p.text)}}.dump());
      ok.header("Content-Type", "application/json");
      return ok;
    }
    return httpkit::Response::not_found();
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chat: a chat room over WebSocket with a long-polling fallback"};
  httpkit::ServerOptions options;
  options.port = 9000;
  long poll_timeout_ms = 25'000;
  app.add_option("--port", options.port, "TCP port")->capture_default_str();
  app.add_option("--bind", options.host, "address to listen on")->capture_default_str();
  app.add_option("--threads", options.threads, "event loops (0: one per core)")
      ->capture_default_str();
  app.add_option("--poll-timeout-ms", poll_timeout_ms,
                 "a long-poll's empty answer comes after this")
      ->check(CLI::Range(1L, 600'000L))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  chat::ChatRoom room({.poll_timeout = std::chrono::milliseconds(poll_timeout_ms)});
  try {
    httpkit::Server server(routes(room), options);
    server.start();
    std::printf("Server started. chat at http://%s:%u/\n", options.host.c_str(),
                unsigned(server.port()));
    std::fflush(stdout);
    server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat: %s\n", e.what());
    return 1;
  }
  return 0;
}
