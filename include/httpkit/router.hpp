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
// Build a router before serving with it; copies share the same routes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "httpkit/server.hpp"

namespace httpkit {

class Router {
 public:
  Router();

  // `method` is matched exactly ("GET"); "*" matches every method.
  Router& route(std::string_view method, std::string_view pattern, Handler handler);
  Router& get(std::string_view pattern, Handler handler);
  Router& post(std::string_view pattern, Handler handler);
  Router& put(std::string_view pattern, Handler handler);
  Router& patch(std::string_view pattern, Handler handler);
  Router& del(std::string_view pattern, Handler handler);
  Router& head(std::string_view pattern, Handler handler);
  Router& options(std::string_view pattern, Handler handler);
  Router& any(std::string_view pattern, Handler handler);

  // Adds every route of `child` under `prefix` ("/api" + "/users/:id");
  // the child's "/" becomes `prefix` itself.
  Router& mount(std::string_view prefix, const Router& child);

  // What answers an unknown path (default: 404 "Not Found").
  Router& not_found(Handler handler);

  Response operator()(const Request& request) const;

  // The number of routes (after mounts), for diagnostics.
  std::size_t size() const;

  struct Table;

 private:
  std::shared_ptr<Table> table_;
};

}  // namespace httpkit
