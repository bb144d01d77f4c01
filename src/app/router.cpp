#include "httpkit/router.hpp"

#include <vector>

#include "app/route_tree.hpp"

namespace httpkit {

struct Router::Table {
  struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
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

Router::Router() : table_(std::make_shared<Table>()) {}

Router& Router::route(std::string_view method, std::string_view pattern, Handler handler) {
  table_->tree.add(method, pattern, handler);
  table_->routes.push_back({std::string(method), std::string(pattern), std::move(handler)});
  return *this;
}

Router& Router::get(std::string_view p, Handler h) {
  return route("GET", p, std::move(h));
}
Router& Router::post(std::string_view p, Handler h) {
  return route("POST", p, std::move(h));
}
Router& Router::put(std::string_view p, Handler h) {
  return route("PUT", p, std::move(h));
}
Router& Router::patch(std::string_view p, Handler h) {
  return route("PATCH", p, std::move(h));
}
Router& Router::del(std::string_view p, Handler h) {
  return route("DELETE", p, std::move(h));
}
Router& Router::head(std::string_view p, Handler h) {
  return route("HEAD", p, std::move(h));
}
Router& Router::options(std::string_view p, Handler h) {
  return route("OPTIONS", p, std::move(h));
}
Router& Router::any(std::string_view p, Handler h) {
  return route("*", p, std::move(h));
}

Router& Router::mount(std::string_view prefix, const Router& child) {
  while (!prefix.empty() && prefix.back() == '/')
    prefix.remove_suffix(1);
  for (const Table::Route& r : child.table_->routes) {
    const std::string pattern =
        std::string(prefix) + (r.pattern == "/" && !prefix.empty() ? "" : r.pattern);
    route(r.method, pattern, r.handler);
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
