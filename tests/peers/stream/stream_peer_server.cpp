// The server of the streamed-compression peer test: server-sent events on
// an HTTP channel and a generated StreamBody, both behind wrap_compression,
// for curl --compressed to decode.
//
//   stream_peer_server --port 0 --bind 127.0.0.1
//   GET /        200 "ok" (the readiness probe)
//   GET /events  SSE: "event 0" at once, then 1..4 after 400 ms, then the end
//   GET /stream  text/plain, 20000 numbered lines pulled from a generator
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "httpkit/channel.hpp"
#include "httpkit/compression.hpp"

namespace {

using namespace std::chrono_literals;

std::string line(int i) {
  return "line " + std::to_string(i) + " of the generated stream\n";
}

httpkit::Response events(const httpkit::Request& request) {
  static const auto handlers = [] {
    auto h = std::make_shared<httpkit::ChannelHandlers>();
    h->on_open = [](const httpkit::ChannelPtr& ch) {
      auto stream = std::make_shared<httpkit::EventStream>(ch, 0ms);
      stream->send("event 0", "tick", "0");
      // The rest later: the client must have decoded event 0 by then.
      ch->schedule(400ms, [stream] {
        for (int i = 1; i < 5; ++i)
          stream->send("event " + std::to_string(i), "tick", std::to_string(i));
        stream->close();
      });
    };
    return h;
  }();
  return httpkit::as_channel(request, handlers);
}

httpkit::Response generated() {
  httpkit::Response r;
  r.header("Content-Type", "text/plain; charset=utf-8");
  auto next = std::make_shared<int>(0);
  r.body = httpkit::StreamBody{[next]() -> std::optional<std::string> {
                                 if (*next >= 20000) return std::nullopt;
                                 std::string piece;
                                 for (int end = *next + 500; *next < end; ++*next)
                                   piece += line(*next);
                                 return piece;
                               },
                               std::nullopt};
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  httpkit::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) options.port = uint16_t(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--bind") == 0) options.host = argv[i + 1];
  }
  httpkit::Handler app = [](const httpkit::Request& request) {
    if (request.path() == "/events") return events(request);
    if (request.path() == "/stream") return generated();
    return httpkit::Response::text("ok");
  };
  httpkit::Server server(httpkit::wrap_compression(app), options);
  server.start();
  std::printf("Server started. listen at %s:%u\n", options.host.c_str(), unsigned(server.port()));
  std::fflush(stdout);
  server.run();
  return 0;
}
