#include "httpkit/router.hpp"

#include <vector>

#include "app/route_tree.hpp"
#include "server/handler_body_plan.hpp"

namespace httpkit {

struct Router::Table {
  struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
    RouteOptions options;
  };
  app::RouteTree tree;
  std::vector<Route> routes;  // as added, for mount()
  Handler not_found;
};

namespace {

// Decoded segments need at most the path's length twice (a `*rest`
// capture decodes again what the walk decoded); most paths fit the stack.
constexpr std::size_t kStackScratch = 4096;

// Binds the captures to the request for the handler's call only.
class CaptureBinding {
 public:
  CaptureBinding(std::span<const PathParam>& slot, std::span<const PathParam> params)
      : slot_(slot), saved_(slot) {
    slot_ = params;
  }
  ~CaptureBinding() { slot_ = saved_; }
  CaptureBinding(const CaptureBinding&) = delete;
  CaptureBinding& operator=(const CaptureBinding&) = delete;

 private:
  std::span<const PathParam>& slot_;
  std::span<const PathParam> saved_;
};

}  // namespace

// How a Server with a bare Router as its handler gets the routes' body
// plan without the user wiring it: the server layer cannot name Router
// (src/server does not depend on src/app), so the Router tells it how to
// recognise one. Registered by the first Router made, so before any
// Server can be given one.
namespace {
BodyPlanner plan_of_router(const Handler& handler) {
  if (const Router* router = handler.target<Router>()) return router->body_plan();
  return {};
}
}  // namespace

Router::Router() : table_(std::make_shared<Table>()) {
  static const bool registered = [] {
    server::register_handler_body_plan(plan_of_router);
    return true;
  }();
  (void)registered;
}

Router& Router::route(std::string_view method, std::string_view pattern, Handler handler,
                      RouteOptions options) {
  table_->tree.add(method, pattern, handler, options);
  table_->routes.push_back(
      {std::string(method), std::string(pattern), std::move(handler), options});
  return *this;
}

Router& Router::get(std::string_view p, Handler h, RouteOptions o) {
  return route("GET", p, std::move(h), o);
}
Router& Router::post(std::string_view p, Handler h, RouteOptions o) {
  return route("POST", p, std::move(h), o);
}
Router& Router::put(std::string_view p, Handler h, RouteOptions o) {
  return route("PUT", p, std::move(h), o);
}
Router& Router::patch(std::string_view p, Handler h, RouteOptions o) {
  return route("PATCH", p, std::move(h), o);
}
Router& Router::del(std::string_view p, Handler h, RouteOptions o) {
  return route("DELETE", p, std::move(h), o);
}
Router& Router::head(std::string_view p, Handler h, RouteOptions o) {
  return route("HEAD", p, std::move(h), o);
}
Router& Router::options(std::string_view p, Handler h, RouteOptions o) {
  return route("OPTIONS", p, std::move(h), o);
}
Router& Router::any(std::string_view p, Handler h, RouteOptions o) {
  return route("*", p, std::move(h), o);
}

Router& Router::mount(std::string_view prefix, const Router& child) {
  while (!prefix.empty() && prefix.back() == '/')
    prefix.remove_suffix(1);
  for (const Table::Route& r : child.table_->routes) {
    const std::string pattern =
        std::string(prefix) + (r.pattern == "/" && !prefix.empty() ? "" : r.pattern);
    route(r.method, pattern, r.handler, r.options);
  }
  return *this;
}

Router& Router::not_found(Handler handler) {
  table_->not_found = std::move(handler);
  return *this;
}

std::size_t Router::size() const {
  return table_->routes.size();
}

BodyPlanner Router::body_plan() const {
  return [table = table_](const Request& head) {
    const std::string_view path = head.path();
    BodyPlan plan;
    char scratch[kStackScratch];
    if (path.size() * 2 > sizeof scratch) return plan;  // no route streams such a path
    app::RouteTree::Captures captures;
    captures.scratch = {scratch, sizeof scratch};
    const app::RouteTree::Found found = table->tree.find(head.method(), path, captures);
    if (found.options) {
      plan.max_body = found.options->max_body;
      plan.stream = found.options->stream_body;
    }
    return plan;
  };
}

Response Router::operator()(const Request& request) const {
  const std::string_view path = request.path();
  char stack_scratch[kStackScratch];
  std::string heap_scratch;
  std::span<char> scratch(stack_scratch, sizeof stack_scratch);
  if (path.size() * 2 > sizeof stack_scratch) {
    heap_scratch.resize(path.size() * 2);
    scratch = {heap_scratch.data(), heap_scratch.size()};
  }
  app::RouteTree::Captures captures;
  captures.scratch = scratch;
  const app::RouteTree::Found found = table_->tree.find(request.method(), path, captures);
  if (found.handler) {
    // The route's own limit, when the server read the body without the
    // route's plan (the router wrapped in middleware): a smaller limit
    // holds here; a larger one could not be honoured (the server refused
    // the body at its own max_body already).
    if (found.options && found.options->max_body && !request.body_pending() &&
        request.body().size() > *found.options->max_body)
      return Response::text("Content Too Large\n", 413);
    CaptureBinding bound(request.path_params_, {captures.params.data(), captures.count});
    return (*found.handler)(request);
  }
  if (!found.path_known) {
    if (table_->not_found) return table_->not_found(request);
    return Response::not_found();
  }
  Response answer =
      request.method() == "OPTIONS" ? Response(204, "") : Response::text("Method Not Allowed", 405);
  answer.header("Allow", table_->tree.allowed(path, scratch));
  return answer;
}

}  // namespace httpkit
