#include "httpkit/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tests/app/fake_request.hpp"
#include "tests/server/allocation_counter.hpp"
#include "tests/server/raw_client.hpp"
#include "tests/server/test_server.hpp"

namespace httpkit {
namespace {

using test::FakeRequest;

Response call(const Router& router, const std::string& method, const std::string& target) {
  FakeRequest req(method, target);
  return router(*req);
}

std::string body(const Response& r) {
  return test::response_text(r);
}
std::string header(const Response& r, std::string_view name) {
  return test::response_header(r, name);
}

// A handler that answers with its name and the captures it saw.
Handler named(std::string name) {
  return [name](const Request& req) {
    std::string text = name;
    for (const PathParam& p : req.path_params())
      text += " " + std::string(p.name) + "=" + std::string(p.value);
    return Response::text(text);
  };
}

TEST(Router, LiteralsParamsAndRest) {
  Router r;
  r.get("/", named("root"))
      .get("/users", named("list"))
      .get("/users/:id", named("show"))
      .get("/users/:id/posts/:post", named("post"))
      .get("/files/*path", named("files"));
  EXPECT_EQ(body(call(r, "GET", "/")), "root");
  EXPECT_EQ(body(call(r, "GET", "/users")), "list");
  EXPECT_EQ(body(call(r, "GET", "/users/42")), "show id=42");
  EXPECT_EQ(body(call(r, "GET", "/users/42?x=1")), "show id=42");
  EXPECT_EQ(body(call(r, "GET", "/users/7/posts/9")), "post id=7 post=9");
  EXPECT_EQ(body(call(r, "GET", "/files/a/b/c.txt")), "files path=a/b/c.txt");
  EXPECT_EQ(body(call(r, "GET", "/files/")), "files path=");
  EXPECT_EQ(call(r, "GET", "/files").status, 404);
  EXPECT_EQ(call(r, "GET", "/users/42/posts").status, 404);
  EXPECT_EQ(call(r, "GET", "/nothing").status, 404);
}

TEST(Router, TrailingSlashIsItsOwnPath) {
  Router r;
  r.get("/users", named("list")).get("/about/", named("about"));
  EXPECT_EQ(call(r, "GET", "/users/").status, 404);
  EXPECT_EQ(body(call(r, "GET", "/about/")), "about");
  EXPECT_EQ(call(r, "GET", "/about").status, 404);
  // A :param never matches an empty segment.
  r.get("/items/:id", named("item"));
  EXPECT_EQ(call(r, "GET", "/items/").status, 404);
}

TEST(Router, LiteralBeatsParamBeatsRestWithBacktracking) {
  Router r;
  r.get("/users/new", named("new"))
      .get("/users/:id", named("show"))
      .post("/users/:id", named("update"))
      .get("/users/:id/edit", named("edit"))
      .get("/users/*rest", named("rest"));
  EXPECT_EQ(body(call(r, "GET", "/users/new")), "new");
  EXPECT_EQ(body(call(r, "GET", "/users/5")), "show id=5");
  // The literal matches the path but not the method: the param route does.
  EXPECT_EQ(body(call(r, "POST", "/users/new")), "update id=new");
  // "new" matched the literal, whose subtree has no "edit": back to :id.
  EXPECT_EQ(body(call(r, "GET", "/users/new/edit")), "edit id=new");
  EXPECT_EQ(body(call(r, "GET", "/users/5/other/x")), "rest rest=5/other/x");
}

TEST(Router, PercentEncodedSegmentsAreDecoded) {
  Router r;
  r.get("/caf\xC3\xA9", named("cafe")).get("/tags/:tag", named("tag")).get("/f/*p", named("f"));
  EXPECT_EQ(body(call(r, "GET", "/caf%C3%A9")), "cafe");
  EXPECT_EQ(body(call(r, "GET", "/tags/a%20b")), "tag tag=a b");
  // Within one segment an encoded slash is data, not a separator.
  EXPECT_EQ(body(call(r, "GET", "/tags/a%2Fb")), "tag tag=a/b");
  // A rest capture never carries a hidden separator or NUL.
  EXPECT_EQ(body(call(r, "GET", "/f/x/y%20z")), "f p=x/y z");
  EXPECT_EQ(call(r, "GET", "/f/..%2F..%2Fetc").status, 404);
  EXPECT_EQ(call(r, "GET", "/f/a%00b").status, 404);
  // A malformed escape stays as it is.
  EXPECT_EQ(body(call(r, "GET", "/tags/100%")), "tag tag=100%");
}

TEST(Router, MethodNotAllowedListsAllow) {
  Router r;
  r.get("/items", named("list")).post("/items", named("create")).del("/items/:id", named("del"));
  const Response wrong = call(r, "PUT", "/items");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(header(wrong, "Allow"), "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(header(call(r, "GET", "/items/3"), "Allow"), "DELETE, OPTIONS");
}

TEST(Router, AutomaticHeadAndOptions) {
  Router r;
  r.get("/page", named("page"));
  EXPECT_EQ(body(call(r, "HEAD", "/page")), "page");  // the server drops the body
  const Response opts = call(r, "OPTIONS", "/page");
  EXPECT_EQ(opts.status, 204);
  EXPECT_EQ(header(opts, "Allow"), "GET, HEAD, OPTIONS");
  // Explicit routes win over the automatic ones.
  r.head("/page", named("head")).options("/page", named("options"));
  EXPECT_EQ(body(call(r, "HEAD", "/page")), "head");
  EXPECT_EQ(body(call(r, "OPTIONS", "/page")), "options");
}

TEST(Router, AnyMethod) {
  Router r;
  r.any("/echo", named("any"));
  EXPECT_EQ(body(call(r, "PROPFIND", "/echo")), "any");
  EXPECT_EQ(body(call(r, "DELETE", "/echo")), "any");
}

TEST(Router, MountUnderAPrefix) {
  Router api;
  api.get("/", named("api-root")).get("/users/:id", named("user"));
  Router app;
  app.get("/", named("home")).mount("/api/v1/", api);
  EXPECT_EQ(body(call(app, "GET", "/")), "home");
  EXPECT_EQ(body(call(app, "GET", "/api/v1")), "api-root");
  EXPECT_EQ(body(call(app, "GET", "/api/v1/users/9")), "user id=9");
  EXPECT_EQ(app.size(), 3u);
}

TEST(Router, NotFoundHandler) {
  Router r;
  r.get("/a", named("a")).not_found([](const Request& req) {
    return Response::text("no " + std::string(req.path()), 404);
  });
  EXPECT_EQ(body(call(r, "GET", "/b")), "no /b");
}

TEST(Router, RejectsAmbiguousAndMalformedRoutes) {
  Router r;
  r.get("/users/:id", named("a"));
  EXPECT_THROW(r.get("/users/:id", named("b")), std::invalid_argument);      // same route twice
  EXPECT_THROW(r.get("/users/:name/x", named("c")), std::invalid_argument);  // clashing names
  EXPECT_THROW(r.get("users", named("d")), std::invalid_argument);           // no leading '/'
  EXPECT_THROW(r.get("/f/*rest/more", named("e")), std::invalid_argument);   // * not last
  EXPECT_THROW(r.get("/x/:", named("f")), std::invalid_argument);            // unnamed
  EXPECT_THROW(r.route("GE T", "/x", named("g")), std::invalid_argument);    // not a token
  EXPECT_NO_THROW(r.post("/users/:id", named("h")));                         // other method
}

TEST(Router, CapturesSurviveDetachedAndEndWithTheCall) {
  Router r;
  Request kept;
  r.get("/users/:id/*rest", [&kept](const Request& req) {
    kept = req.detached();
    return Response::text("ok");
  });
  FakeRequest req("GET", "/users/a%20b/x/y");
  EXPECT_EQ(r(*req).status, 200);
  // The live request no longer carries the captures (their bytes were the
  // router's); the detached copy owns its own.
  EXPECT_TRUE((*req).path_params().empty());
  ASSERT_EQ(kept.path_params().size(), 2u);
  EXPECT_EQ(kept.path_param("id"), "a b");
  EXPECT_EQ(kept.path_param("rest"), "x/y");
  EXPECT_FALSE(kept.path_param("other").has_value());
}

TEST(Router, NestedRouterAsHandlerKeepsOuterCaptures) {
  Router inner;
  inner.get("/t/:a/:b", [](const Request& req) {
    return Response::text(std::string(*req.path_param("a")) + std::string(*req.path_param("b")));
  });
  Router outer;
  outer.get("/t/:a/*rest", inner);
  EXPECT_EQ(body(call(outer, "GET", "/t/x/y")), "xy");
}

TEST(Router, LookupAllocatesNothing) {
  Router r;
  for (int i = 0; i < 200; ++i)
    r.get("/resource" + std::to_string(i) + "/:id/items/:item", named(""));
  r.get("/static/*path", [](const Request&) { return Response(); });
  r.get("/api/users/:id", [](const Request&) { return Response(); });
  FakeRequest a("GET", "/api/users/12345");
  FakeRequest b("GET", "/static/css/site%20main.css");
  FakeRequest c("GET", "/resource150/7/items/9");
  ASSERT_EQ(r(*a).status, 200);
  const std::size_t before = test::allocations_on_this_thread();
  for (int i = 0; i < 100; ++i) {
    (void)r(*a);
    (void)r(*b);
  }
  EXPECT_EQ(test::allocations_on_this_thread() - before, 0u);
  (void)c;
}

// The body plan a router builds from its routes' options.
TEST(RouterBodyPlan, RouteOptionsBecomeThePlanForThatRoute) {
  Router r;
  r.post("/upload/:id", named("upload"), {.max_body = 1ull << 30, .stream_body = true})
      .post("/small", named("small"), {.max_body = 10})
      .get("/page", named("page"), {.max_body = 5});
  const BodyPlanner plan = r.body_plan();
  FakeRequest upload("POST", "/upload/7?x=1");
  EXPECT_EQ(plan(*upload).max_body, 1ull << 30);
  EXPECT_TRUE(plan(*upload).stream);
  FakeRequest small("POST", "/small");
  EXPECT_EQ(plan(*small).max_body, 10u);
  EXPECT_FALSE(plan(*small).stream);
  FakeRequest head("HEAD", "/page");  // HEAD through GET takes its options
  EXPECT_EQ(plan(*head).max_body, 5u);
  FakeRequest unknown("POST", "/nowhere");
  EXPECT_FALSE(plan(*unknown).max_body);
  EXPECT_FALSE(plan(*unknown).stream);
  FakeRequest wrong_method("GET", "/small");
  EXPECT_FALSE(plan(*wrong_method).max_body);

  Router mounted;  // options survive a mount
  mounted.mount("/api", r);
  FakeRequest under("POST", "/api/small");
  EXPECT_EQ(mounted.body_plan()(*under).max_body, 10u);
}

TEST(RouterBodyPlan, LookupAllocatesNothing) {
  Router r;
  r.post("/upload/:id", named("upload"), {.max_body = 1, .stream_body = true});
  const BodyPlanner plan = r.body_plan();
  FakeRequest req("POST", "/upload/abc%20def");
  const std::size_t before = test::allocations_on_this_thread();
  const BodyPlan p = plan(*req);
  EXPECT_EQ(test::allocations_on_this_thread() - before, 0u);
  EXPECT_TRUE(p.stream);
}

TEST(RouterBodyPlan, ServedRouteLimitsGive413OnContentLengthAndOnChunked) {
  Router r;
  r.post("/small", [](const Request& req) { return Response::text(std::string(req.body())); },
         {.max_body = 10});
  r.post("/stream",
         [](const Request& req) {
           auto total = std::make_shared<std::size_t>(0);
           return receive_body(req, {.on_data = [total](const RequestBodyPtr&,
                                                        std::string_view b) { *total += b.size(); },
                                     .on_end =
                                         [total](const RequestBodyPtr& body) {
                                           body->respond(Response::text(std::to_string(*total)));
                                         }});
         },
         {.max_body = 20, .stream_body = true});
  ServerOptions o = test::test_options();
  o.body_plan = r.body_plan();
  test::TestServer server(r, o);
  {
    test::RawClient c(server.port());
    c.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
    EXPECT_EQ(c.read_response().body, "0123456789");
    c.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 413);
  }
  {
    test::RawClient c(server.port());
    c.send(
        "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "b\r\n01234567890\r\n0\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 413);
  }
  {
    test::RawClient c(server.port());
    c.send("POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\n01234567890123456789");
    test::RawResponse ok = c.read_response();
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "20");
    c.send(
        "POST /stream HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "f\r\n012345678901234\r\nf\r\n012345678901234\r\n0\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 413);
  }
}

}  // namespace
}  // namespace httpkit
