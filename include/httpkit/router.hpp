// Routes requests to handlers by method and path, like compojure or reitit.
//
//   httpkit::Router app;
//   app.get("/users/:id", show_user)          // req.path_param("id")
//       .post("/users", create_user)
//       .get("/files/*path", serve_file)      // the rest of the path
//       .mount("/api/v2", api_v2);            // another Router's routes
//   httpkit::Server server(app, options);     // a Router is a Handler
//
// Patterns are segments between '/': literals, `:name` (one non-empty
// segment) and a trailing `*name` (the rest, one or more segments, maybe
// empty: "/files/" matches with path ""). Literals win over `:name`, which
// wins over `*name`; the lookup walks a segment tree and allocates nothing.
// Segments are compared and captured percent-decoded; a `*name` segment
// that decodes to '/' or NUL matches nothing, so a capture never holds a
// path separator the client hid in an escape.
//
// Answers it gives itself: 404 for an unknown path (or the not_found
// handler), 405 with `Allow` for a known path with another method, HEAD
// through the GET handler when no HEAD route exists (the server sends no
// body), and OPTIONS with `Allow` when no OPTIONS route exists.
//
// Per-route body options (request_body.hpp) take effect through the
// server's body plan, which the router builds from its routes. A Server
// whose handler is the Router itself sets it when options.body_plan is
// null; a router wrapped in middleware needs it wired by hand:
//
//   app.post("/upload", upload, {.max_body = 2ull << 30, .stream_body = true});
//   options.body_plan = app.body_plan();  // route lookup at head time
//   httpkit::Server server(httpkit::wrap_request_id(app), options);
//
// Without a plan, every body is read whole, up to ServerOptions::max_body,
// before the router runs. The router then still applies a route's
// max_body that is smaller (413), and a stream_body handler still works
// (receive_body hands it the buffered body in one piece); but a route
// max_body larger than the server's cannot be honoured: the server has
// answered 413 at its own limit already.
//
// Build a router before serving with it; copies share the same routes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "httpkit/request_body.hpp"
#include "httpkit/server.hpp"

namespace httpkit {

// How a route takes its requests' bodies (see body_plan()).
struct RouteOptions {
  std::optional<std::size_t> max_body = {};  // replaces ServerOptions::max_body (413 beyond)
  bool stream_body = false;                  // the handler takes the body with receive_body
};

class Router {
 public:
  Router();

  // `method` is matched exactly ("GET"); "*" matches every method.
  Router& route(std::string_view method, std::string_view pattern, Handler handler,
                RouteOptions options = {});
  Router& get(std::string_view pattern, Handler handler, RouteOptions options = {});
  Router& post(std::string_view pattern, Handler handler, RouteOptions options = {});
  Router& put(std::string_view pattern, Handler handler, RouteOptions options = {});
  Router& patch(std::string_view pattern, Handler handler, RouteOptions options = {});
  Router& del(std::string_view pattern, Handler handler, RouteOptions options = {});
  Router& head(std::string_view pattern, Handler handler, RouteOptions options = {});
  Router& options(std::string_view pattern, Handler handler, RouteOptions options = {});
  Router& any(std::string_view pattern, Handler handler, RouteOptions options = {});

  // Adds every route of `child` under `prefix` ("/api" + "/users/:id");
  // the child's "/" becomes `prefix` itself.
  Router& mount(std::string_view prefix, const Router& child);

  // What answers an unknown path (default: 404 "Not Found").
  Router& not_found(Handler handler);

  Response operator()(const Request& request) const;

  // The server's body plan from the routes' options: looks the route up
  // when a head is parsed (allocating nothing for paths up to 2 KiB); an
  // unknown route gets the server's defaults. Shares the routes.
  BodyPlanner body_plan() const;

  // The number of routes (after mounts), for diagnostics.
  std::size_t size() const;

  struct Table;

 private:
  std::shared_ptr<Table> table_;
};

}  // namespace httpkit
