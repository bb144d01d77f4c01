// todo: a small but complete web app on httpkit, meant to be read.
//
//   todo --port 8080        then open http://localhost:8080/
//
// The pieces, each in its own file:
//   todo_store   the todos in memory, thread-safe, reporting each change
//   todo_events  GET /api/events: those changes as server-sent events
//   todo_api     the REST API under /api (Router, JSON with nlohmann-json)
//   public/      the page (plain HTML, CSS and JS), served by serve_files
// and here the middleware around them: request ids, the access log and
// compression, Ring style, each a function from a handler to a handler.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "httpkit/access_log.hpp"
#include "httpkit/compression.hpp"
#include "httpkit/middleware.hpp"
#include "httpkit/router.hpp"
#include "httpkit/server.hpp"
#include "httpkit/static_files.hpp"
#include "todo_api.hpp"
#include "todo_events.hpp"
#include "todo_store.hpp"

#ifndef TODO_PUBLIC_DIR
#define TODO_PUBLIC_DIR "public"
#endif

namespace {

struct Config {
  httpkit::ServerOptions server;
  std::string public_dir = TODO_PUBLIC_DIR;  // the source tree's, set by CMake
  std::string access_log;
};

// The whole app: the API under /api, the page's files everywhere else.
// Literal segments win over `*path`, so /api/... never reaches the files.
httpkit::Router routes(todo::TodoStore& store, todo::TodoFeed& feed, const Config& config) {
  httpkit::Router app;
  app.mount("/api", todo::api_routes(store, feed));
  httpkit::StaticFilesOptions files;
  files.cache_control = "no-cache";  // revalidate (ETag) so an edited page shows at once
  app.get("/*path", httpkit::serve_files(config.public_dir, files));
  return app;
}

// Read from the inside out: compression sees the router's response, the
// access log sees what goes on the wire (compressed sizes), and the
// request id is chosen before both, so the log line carries it.
httpkit::Handler with_middleware(httpkit::Handler app, const Config& config) {
  app = httpkit::wrap_compression(std::move(app));
  if (!config.access_log.empty()) {
    auto log = std::make_shared<httpkit::AccessLog>(config.access_log);
    // logrotate: mv the file away, then kill -USR1 the server.
    httpkit::AccessLog::reopen_on_signal(SIGUSR1);
    app = httpkit::wrap_access_log(std::move(app), std::move(log));
  }
  return httpkit::wrap_request_id(std::move(app));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"todo: a todo list with a REST API, live updates over SSE and a web page"};
  Config config;
  config.server.port = 8080;
  cli.add_option("--port", config.server.port, "TCP port (0: any free port)")
      ->capture_default_str();
  cli.add_option("--bind", config.server.host, "address to listen on")->capture_default_str();
  cli.add_option("--threads", config.server.threads, "event loops (0: one per core)")
      ->capture_default_str();
  cli.add_option("--workers", config.server.worker_threads,
                 "run handlers on a pool of this many threads (0: on the event loops)")
      ->capture_default_str();
  cli.add_option("--public", config.public_dir, "the page's files")->capture_default_str();
  cli.add_option("--access-log", config.access_log,
                 "append a combined-format access log here (SIGUSR1 reopens it)");
  CLI11_PARSE(cli, argc, argv);

  try {
    // The feed is declared before the store that publishes to it, so it
    // is destroyed after it.
    todo::TodoFeed feed;
    todo::TodoStore store([&feed](const todo::Change& change) { feed.publish(change); });
    // Built before the server starts its threads (reopen_on_signal wants that).
    httpkit::Handler handler = with_middleware(routes(store, feed, config), config);

    httpkit::Server server(std::move(handler), config.server);
    server.start();
    // The line scripts wait for (as httpkit-server prints it): the port
    // is the real one when --port 0 let the kernel choose.
    std::printf("Server started. listen at %s:%u\n", config.server.host.c_str(),
                unsigned(server.port()));
    std::fflush(stdout);
    server.run();  // until SIGINT or SIGTERM, then drains
  } catch (const std::exception& e) {
    std::fprintf(stderr, "todo: %s\n", e.what());
    return 1;
  }
  return 0;
}
