// async_examples: the three asynchronous answers http-kit is known for.
//
//   async_examples --port 9001
//
// GET /poll?delay=MS             long-poll: answered from another thread after MS
//                                (default 2000)
// GET /stream?parts=N&interval=MS  a chunked body of N parts (default 10), one
//                                every MS (default 200)
// GET /clock                     server-sent events: the time, every second
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "httpkit/channel.hpp"
#include "httpkit/server.hpp"

namespace {

using std::chrono::milliseconds;

long query_number(const httpkit::Request& request, std::string_view name, long fallback, long min,
                  long max) {
  long value = fallback;
  if (auto text = request.query_params().get(name))
    std::from_chars(text->data(), text->data() + text->size(), value);
  return std::clamp(value, min, max);
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string thread_name() {
  return std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 100000);
}

// The handlers of a channel that only needs on_open.
std::shared_ptr<const httpkit::ChannelHandlers> on_open(
    std::function<void(const httpkit::ChannelPtr&)> open) {
  auto h = std::make_shared<httpkit::ChannelHandlers>();
  h->on_open = std::move(open);
  return h;
}

// /poll: the handler returns at once; schedule_task's timer thread answers.
httpkit::Response long_poll(const httpkit::Request& request) {
  const long delay = query_number(request, "delay", 2000, 0, 60'000);
  const std::string loop_thread = thread_name();
  return httpkit::as_channel(
      request, on_open([delay, loop_thread](const httpkit::ChannelPtr& ch) {
        httpkit::schedule_task(milliseconds(delay), [ch, delay, loop_thread] {
          // send() is safe from any thread; it returns false if the client left.
          ch->send_response(httpkit::Response::text(
              "answered after " + std::to_string(delay) + " ms on thread " + thread_name() +
              " (the request came on " + loop_thread + ")\n"));
        });
      }));
}

// /stream: one chunk per tick on the channel's loop, then the last chunk.
void send_part(const httpkit::ChannelPtr& ch, long part, long parts, milliseconds interval) {
  std::string text = "part " + std::to_string(part) + " of " + std::to_string(parts) + "\n";
  const bool last = part == parts;
  if (part == 1) {
    httpkit::Response head = httpkit::Response::text(std::move(text));
    if (!ch->send_response(std::move(head), last)) return;
  } else if (!ch->send(std::move(text), last)) {
    return;  // the client went away
  }
  if (last) return;
  ch->schedule(interval, [ch, part, parts, interval] { send_part(ch, part + 1, parts, interval); });
}

httpkit::Response stream(const httpkit::Request& request) {
  const long parts = query_number(request, "parts", 10, 1, 10'000);
  const milliseconds interval(query_number(request, "interval", 200, 0, 10'000));
  return httpkit::as_channel(request, on_open([parts, interval](const httpkit::ChannelPtr& ch) {
                               send_part(ch, 1, parts, interval);
                             }));
}

// /clock: an event now and every second, until the client leaves.
void tick(const std::shared_ptr<httpkit::EventStream>& events, long count) {
  if (!events->channel()->open()) return;  // drops the stream, and its heartbeat
  events->send(utc_now(), {}, std::to_string(count));
  events->channel()->schedule(std::chrono::seconds(1),
                              [events, count] { tick(events, count + 1); });
}

httpkit::Response clock(const httpkit::Request& request) {
  return httpkit::as_channel(
      request, on_open([](const httpkit::ChannelPtr& ch) {
        tick(std::make_shared<httpkit::EventStream>(ch, std::chrono::seconds(15)), 1);
      }));
}

constexpr std::string_view kIndex = R"PAGE(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>httpkit async examples</title></head>
<body>
<h1>httpkit async examples</h1>
<ul>
  <li><a href="/poll?delay=2000">/poll?delay=2000</a> long-poll, answered from another thread</li>
  <li><a href="/stream?parts=10&amp;interval=200">/stream?parts=10&amp;interval=200</a>
      chunked streaming</li>
  <li>/clock server-sent events: <b id="clock">waiting&hellip;</b></li>
</ul>
<script>
  new EventSource('/clock').onmessage = function (e) {
    document.getElementById('clock').textContent = e.data;
  };
</script>
</body></html>
)PAGE";

httpkit::Response route(const httpkit::Request& request) {
  const std::string_view path = request.path();
  if (path == "/") return httpkit::Response::html(std::string(kIndex));
  if (path == "/poll") return long_poll(request);
  if (path == "/stream") return stream(request);
  if (path == "/clock") return clock(request);
  return httpkit::Response::not_found();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"async_examples: long-polling, streaming and server-sent events"};
  httpkit::ServerOptions options;
  options.port = 9001;
  app.add_option("--port", options.port, "TCP port")->capture_default_str();
  app.add_option("--bind", options.host, "address to listen on")->capture_default_str();
  app.add_option("--threads", options.threads, "event loops (0: one per core)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    httpkit::Server server(route, options);
    server.start();
    std::printf("Server started. async examples at http://%s:%u/\n", options.host.c_str(),
                unsigned(server.port()));
    std::fflush(stdout);
    server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "async_examples: %s\n", e.what());
    return 1;
  }
  return 0;
}
