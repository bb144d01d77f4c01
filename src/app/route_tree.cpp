#include "app/route_tree.hpp"

#include <algorithm>
#include <stdexcept>

#include "http/text.hpp"

namespace httpkit::app {

struct RouteTree::Node {
  std::string literal;                          // this node's segment (literal children)
  std::vector<std::unique_ptr<Node>> literals;  // sorted by literal
  std::unique_ptr<Node> param;                  // the `:name` child
  std::string param_name;
  std::vector<MethodRoute> rest_routes;  // `*name` ending at this node
  std::string rest_name;
  std::vector<MethodRoute> routes;  // patterns ending at this node
};

namespace {

// Splits "a/b/c" one segment at a time; `more` is false past the last.
struct Segments {
  std::string_view remaining;
  bool more = true;

  std::string_view next() {
    const std::size_t slash = remaining.find('/');
    const std::string_view segment = remaining.substr(0, slash);
    if (slash == std::string_view::npos) {
      remaining = {};
      more = false;
    } else {
      remaining.remove_prefix(slash + 1);
    }
    return segment;
  }
};

void add_route(std::vector<MethodRoute>& routes, std::string_view method, Handler handler,
               const RouteOptions& options, std::string_view pattern) {
  for (const MethodRoute& r : routes)
    if (r.method == method)
      throw std::invalid_argument("route " + std::string(method) + " " + std::string(pattern) +
                                  " is already defined");
  routes.push_back({std::string(method), std::move(handler), options});
}

// Whether `list` ("GET, HEAD") names `method`.
bool lists(std::string_view list, std::string_view method) {
  while (!list.empty()) {
    const std::size_t comma = list.find(", ");
    if (list.substr(0, comma) == method) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 2);
  }
  return false;
}

void append_method(std::string& list, std::string_view method) {
  if (lists(list, method)) return;
  if (!list.empty()) list += ", ";
  list += method;
}

void name_capture(std::string& slot, std::string_view name, std::string_view pattern) {
  if (name.empty()) throw std::invalid_argument("unnamed capture in " + std::string(pattern));
  if (!slot.empty() && slot != name)
    throw std::invalid_argument("capture :" + std::string(name) + " in " + std::string(pattern) +
                                " clashes with :" + slot + " at the same place");
  slot = name;
}

}  // namespace

// One lookup: the method wanted, where captures and decoded bytes go, and
// whether it is collecting the methods of every match (for Allow).
struct RouteTree::Walk {
  std::string_view method;
  Captures& captures;
  char* cursor;  // next free byte of captures.scratch
  Found found;
  std::string* allowed = nullptr;

  std::string_view decode(std::string_view raw) {
    if (raw.find('%') == std::string_view::npos) return raw;
    const std::size_t n = http::text::percent_decode(raw, cursor, false);
    const std::string_view decoded(cursor, n);
    cursor += n;
    return decoded;
  }

  bool terminal(const std::vector<MethodRoute>& routes) {
    if (routes.empty()) return false;
    found.path_known = true;
    if (allowed) {
      for (const MethodRoute& r : routes) {
        if (r.method == "*") {
          for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
            append_method(*allowed, m);
          continue;
        }
        append_method(*allowed, r.method);
        if (r.method == "GET") append_method(*allowed, "HEAD");
      }
      return false;  // on to every other match
    }
    const MethodRoute* get = nullptr;
    for (const MethodRoute& r : routes) {
      if (r.method == method || r.method == "*") {
        found.handler = &r.handler;
        found.options = &r.options;
        return true;
      }
      if (r.method == "GET") get = &r;
    }
    if (method == "HEAD" && get) {
      found.handler = &get->handler;
      found.options = &get->options;
      return true;
    }
    return false;
  }

  bool push(std::string_view name, std::string_view value) {
    if (captures.count == kMaxCaptures) return false;
    captures.params[captures.count++] = {name, value};
    return true;
  }

  bool visit(const Node& node, Segments segments) {
    if (!segments.more) return terminal(node.routes);
    char* const mark = cursor;
    const Segments before = segments;
    const std::string_view segment = decode(segments.next());

    auto it = std::lower_bound(
        node.literals.begin(), node.literals.end(), segment,
        [](const std::unique_ptr<Node>& n, std::string_view s) { return n->literal < s; });
    if (it != node.literals.end() && (*it)->literal == segment && visit(**it, segments))
      return true;
    if (node.param && !segment.empty() && push(node.param_name, segment)) {
      if (visit(*node.param, segments)) return true;
      --captures.count;
    }
    cursor = mark;
    if (!node.rest_routes.empty()) return visit_rest(node, before);
    return false;
  }

  // `*name`: the rest of the path, decoded a segment at a time.
  bool visit_rest(const Node& node, Segments segments) {
    char* const start = cursor;
    bool first = true;
    while (segments.more) {
      const std::string_view piece = segments.next();
      if (!first) *cursor++ = '/';
      first = false;
      const std::size_t n = http::text::percent_decode(piece, cursor, false);
      if (std::string_view(cursor, n).find_first_of(std::string_view("/\0", 2)) !=
          std::string_view::npos) {
        cursor = start;
        return false;
      }
      cursor += n;
    }
    if (!push(node.rest_name, std::string_view(start, std::size_t(cursor - start)))) return false;
    if (terminal(node.rest_routes)) return true;
    --captures.count;
    cursor = start;
    return false;
  }
};

RouteTree::RouteTree() : root_(std::make_unique<Node>()) {}
RouteTree::~RouteTree() = default;

void RouteTree::add(std::string_view method, std::string_view pattern, Handler handler,
                    const RouteOptions& options) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("a route pattern starts with '/': " + std::string(pattern));
  if (method.empty() || (method != "*" && !http::text::is_token(method)))
    throw std::invalid_argument("not a method: " + std::string(method));
  Node* node = root_.get();
  Segments segments{pattern.substr(1)};
  std::size_t captures = 0;
  while (segments.more) {
    const std::string_view segment = segments.next();
    if (!segment.empty() && (segment.front() == ':' || segment.front() == '*') &&
        ++captures > kMaxCaptures)
      throw std::invalid_argument("more than 16 captures in " + std::string(pattern));
    if (!segment.empty() && segment.front() == '*') {
      if (segments.more)
        throw std::invalid_argument("*capture must be last in " + std::string(pattern));
      name_capture(node->rest_name, segment.substr(1), pattern);
      add_route(node->rest_routes, method, std::move(handler), options, pattern);
      return;
    }
    if (!segment.empty() && segment.front() == ':') {
      name_capture(node->param_name, segment.substr(1), pattern);
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
      continue;
    }
    auto it = std::lower_bound(
        node->literals.begin(), node->literals.end(), segment,
        [](const std::unique_ptr<Node>& n, std::string_view s) { return n->literal < s; });
    if (it == node->literals.end() || (*it)->literal != segment) {
      auto child = std::make_unique<Node>();
      child->literal = segment;
      it = node->literals.insert(it, std::move(child));
    }
    node = it->get();
  }
  add_route(node->routes, method, std::move(handler), options, pattern);
}

RouteTree::Found RouteTree::find(std::string_view method, std::string_view path,
                                 Captures& captures) const {
  Walk walk{method, captures, captures.scratch.data(), {}, nullptr};
  captures.count = 0;
  if (path.empty() || path.front() != '/') return {};
  if (!walk.visit(*root_, Segments{path.substr(1)})) captures.count = 0;
  return walk.found;
}

std::string RouteTree::allowed(std::string_view path, std::span<char> scratch) const {
  std::string methods;
  Captures captures;
  captures.scratch = scratch;
  Walk walk{{}, captures, scratch.data(), {}, &methods};
  if (!path.empty() && path.front() == '/') walk.visit(*root_, Segments{path.substr(1)});
  if (!methods.empty()) append_method(methods, "OPTIONS");
  return methods;
}

}  // namespace httpkit::app
