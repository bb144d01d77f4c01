// Router lookup per request with a few hundred routes (30 resources of a
// REST API, 10 routes each, as GitHub's API has): a static path, one and
// two captures, a deep path, a `*rest` capture with an escape, a 404 and a
// 405. The handler does nothing, so the figure is the lookup, the capture
// binding and one std::function call. Run: build/bin/router_bench
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "http/request_parser.hpp"
#include "httpkit/router.hpp"
#include "server/request_builder.hpp"

namespace {

using namespace httpkit;

const char* const kResources[] = {
    "repos",    "users",    "orgs",     "teams",       "issues",   "pulls",
    "gists",    "projects", "commits",  "branches",    "releases", "tags",
    "hooks",    "keys",     "labels",   "milestones",  "events",   "feeds",
    "search",   "emojis",   "licenses", "markdown",    "meta",     "notifications",
    "packages", "actions",  "checks",   "deployments", "pages",    "reactions"};

Router make_router() {
  Router r;
  const Handler ok = [](const Request&) { return Response(); };
  for (const char* name : kResources) {
    const std::string base = std::string("/") + name;
    r.get(base, ok)
        .post(base, ok)
        .get(base + "/:id", ok)
        .patch(base + "/:id", ok)
        .del(base + "/:id", ok)
        .get(base + "/:id/comments", ok)
        .get(base + "/:id/comments/:comment", ok)
        .get(base + "/:id/events/latest", ok)
        .put(base + "/:id/assignees/:user", ok)
        .get(base + "/files/*path", ok);
  }
  return r;
}

// One request, its bytes in one buffer as the server's are.
struct BenchRequest {
  std::string line;
  Request request;
  BenchRequest(std::string_view method, std::string_view target)
      : line(std::string(method) + " " + std::string(target)) {
    http::RequestHead head;
    head.method = std::string_view(line).substr(0, method.size());
    head.target = std::string_view(line).substr(method.size() + 1);
    head.path = head.target;
    request = RequestBuilder::from_head(head, {}, -1, false);
  }
};

void lookup(benchmark::State& state, std::string_view method, std::string_view target, int status) {
  const Router router = make_router();
  BenchRequest req(method, target);
  if (router(req.request).status != status) {
    state.SkipWithError("unexpected status");
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(router(req.request));
  state.counters["routes"] = double(router.size());
}

BENCHMARK_CAPTURE(lookup, static, "GET", "/search", 200);
BENCHMARK_CAPTURE(lookup, one_capture, "GET", "/users/12345", 200);
BENCHMARK_CAPTURE(lookup, two_captures, "GET", "/repos/42/comments/7", 200);
BENCHMARK_CAPTURE(lookup, two_captures_put, "PUT", "/reactions/42/assignees/octocat", 200);
BENCHMARK_CAPTURE(lookup, deep_literal_after_capture, "GET", "/notifications/9/events/latest", 200);
BENCHMARK_CAPTURE(lookup, rest_with_escape, "GET", "/packages/files/a/b/c%20d.tar.gz", 200);
BENCHMARK_CAPTURE(lookup, not_found, "GET", "/nothing/here", 404);
BENCHMARK_CAPTURE(lookup, method_not_allowed, "POST", "/users/12345", 405);

}  // namespace

BENCHMARK_MAIN();
