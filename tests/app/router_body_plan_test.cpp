// Per-route body options without wiring ServerOptions::body_plan: a bare
// Router plans itself; a wrapped one still enforces what it can.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "httpkit/middleware.hpp"
#include "httpkit/router.hpp"
#include "tests/server/raw_client.hpp"
#include "tests/server/test_server.hpp"

namespace httpkit {
namespace {

// /small takes 10 bytes, /large 100, /stream streams up to 100; the
// server's own limit is 50.
Router routes() {
  Router r;
  auto echo_size = [](const Request& req) {
    return Response::text(std::to_string(req.body().size()));
  };
  r.post("/small", echo_size, {.max_body = 10});
  r.post("/large", echo_size, {.max_body = 100});
  r.post("/plain", echo_size);
  r.post("/stream",
         [](const Request& req) {
           auto total = std::make_shared<std::size_t>(0);
           auto pieces = std::make_shared<int>(0);
           return receive_body(
               req, {.on_data =
                         [total, pieces](const RequestBodyPtr&, std::string_view b) {
                           *total += b.size();
                           ++*pieces;
                         },
                     .on_end =
                         [total, pieces, pending = req.body_pending()](const RequestBodyPtr& body) {
                           body->respond(Response::text(
                               std::to_string(*total) + (pending ? " streamed" : " buffered") +
                               (pending ? "" : " in " + std::to_string(*pieces))));
                         }});
         },
         {.max_body = 100, .stream_body = true});
  return r;
}

ServerOptions options() {
  ServerOptions o = test::test_options();
  o.max_body = 50;
  return o;
}

test::RawResponse post(uint16_t port, std::string_view path, std::size_t size) {
  test::RawClient c(port);
  c.send("POST " + std::string(path) + " HTTP/1.1\r\nHost: t\r\nContent-Length: " +
         std::to_string(size) + "\r\n\r\n" + std::string(size, 'x'));
  return c.read_response();
}

TEST(RouterBodyPlan, ServerWithABareRouterPlansItsRoutes) {
  test::TestServer server(routes(), options());  // body_plan left null
  ASSERT_TRUE(server.server().options().body_plan);
  EXPECT_EQ(post(server.port(), "/small", 10).body, "10");
  EXPECT_EQ(post(server.port(), "/small", 11).status, 413);
  // Larger than the server's 50: the route's plan lets it through.
  EXPECT_EQ(post(server.port(), "/large", 100).body, "100");
  EXPECT_EQ(post(server.port(), "/large", 101).status, 413);
  EXPECT_EQ(post(server.port(), "/plain", 50).body, "50");
  EXPECT_EQ(post(server.port(), "/plain", 51).status, 413);
  EXPECT_EQ(post(server.port(), "/stream", 100).body, "100 streamed");
  EXPECT_EQ(post(server.port(), "/stream", 101).status, 413);
}

TEST(RouterBodyPlan, AnExplicitPlanIsKept) {
  ServerOptions o = options();
  o.body_plan = [](const Request&) { return BodyPlan{.max_body = 5}; };
  test::TestServer server(routes(), o);
  EXPECT_EQ(post(server.port(), "/large", 6).status, 413);
}

TEST(RouterBodyPlan, AWrappedRouterEnforcesTheSmallerLimit) {
  Handler app = wrap_request_id(routes());
  test::TestServer server(app, options());
  EXPECT_FALSE(server.server().options().body_plan);  // nothing to recognise
  EXPECT_EQ(post(server.port(), "/small", 10).body, "10");
  EXPECT_EQ(post(server.port(), "/small", 11).status, 413);  // the router's own check
  // A larger route limit cannot be honoured: the server's 50 holds.
  EXPECT_EQ(post(server.port(), "/large", 50).body, "50");
  EXPECT_EQ(post(server.port(), "/large", 51).status, 413);
  // A stream_body route gets its body buffered, in one piece.
  EXPECT_EQ(post(server.port(), "/stream", 40).body, "40 buffered in 1");
}

}  // namespace
}  // namespace httpkit
