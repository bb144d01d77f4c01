// The Router's segment tree: one node per pattern segment, literal children
// sorted for binary search, at most one `:name` child and one `*name`
// capture per node. Lookup walks the request path's segments with
// backtracking (literal, then `:name`, then `*name`), writes captures into
// a caller-provided array and decodes escapes into a caller-provided
// buffer: no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "httpkit/request.hpp"
#include "httpkit/router.hpp"
#include "httpkit/server.hpp"

namespace httpkit::app {

inline constexpr std::size_t kMaxCaptures = 16;

struct MethodRoute {
  std::string method;  // "*": every method
  Handler handler;
  RouteOptions options;
};

class RouteTree {
 public:
  RouteTree();
  ~RouteTree();

  // Throws std::invalid_argument for a malformed pattern, a capture name
  // that clashes with another route's at the same place, or a method and
  // pattern already routed.
  void add(std::string_view method, std::string_view pattern, Handler handler,
           const RouteOptions& options = {});

  // Where a lookup writes what it captured and decoded.
  struct Captures {
    std::array<PathParam, kMaxCaptures> params;
    std::size_t count = 0;
    std::span<char> scratch;  // decoded segments; at least the path's length
  };
  struct Found {
    const Handler* handler = nullptr;       // null: no route for this method
    const RouteOptions* options = nullptr;  // ...and its options
    bool path_known = false;                // some route matches the path
  };
  // The handler for `method` on `path` (HEAD falls back to GET).
  Found find(std::string_view method, std::string_view path, Captures& captures) const;
  // The methods routed for `path`, for Allow ("GET, HEAD, OPTIONS").
  std::string allowed(std::string_view path, std::span<char> scratch) const;

 private:
  struct Node;
  struct Walk;
  std::unique_ptr<Node> root_;
};

}  // namespace httpkit::app
