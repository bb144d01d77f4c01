#include "httpkit/middleware.hpp"

#include <gtest/gtest.h>

#include "tests/app/fake_request.hpp"

namespace httpkit {
namespace {

using test::FakeRequest;
using test::response_header;

Handler ok() {
  return [](const Request&) { return Response::text("ok"); };
}

TEST(Cors, NoOriginPassesThroughUntouched) {
  Handler app = wrap_cors(ok(), {.allowed_origins = {"https://a.test"}});
  FakeRequest req("GET", "/");
  const Response r = app(*req);
  EXPECT_EQ(response_header(r, "Access-Control-Allow-Origin"), "<none>");
  EXPECT_EQ(response_header(r, "Vary"), "<none>");
}

TEST(Cors, AllowedOriginIsEchoedWithVary) {
  Handler app = wrap_cors(ok(), {.allowed_origins = {"https://a.test"},
                                 .exposed_headers = {"X-Total"},
                                 .allow_credentials = true});
  FakeRequest req("GET", "/", {{"Origin", "https://a.test"}});
  const Response r = app(*req);
  EXPECT_EQ(test::response_text(r), "ok");
  EXPECT_EQ(response_header(r, "Access-Control-Allow-Origin"), "https://a.test");
  EXPECT_EQ(response_header(r, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(response_header(r, "Access-Control-Expose-Headers"), "X-Total");
  EXPECT_EQ(response_header(r, "Vary"), "Origin");
  FakeRequest other("GET", "/", {{"Origin", "https://evil.test"}});
  const Response refused = app(*other);
  EXPECT_EQ(response_header(refused, "Access-Control-Allow-Origin"), "<none>");
  EXPECT_EQ(response_header(refused, "Vary"), "Origin");
}

TEST(Cors, WildcardWithoutCredentialsSaysStar) {
  Handler app = wrap_cors(ok(), {.allowed_origins = {"*"}});
  FakeRequest req("GET", "/", {{"Origin", "https://any.test"}});
  EXPECT_EQ(response_header(app(*req), "Access-Control-Allow-Origin"), "*");
  // With credentials a browser refuses "*": the origin is echoed instead.
  Handler creds = wrap_cors(ok(), {.allowed_origins = {"*"}, .allow_credentials = true});
  EXPECT_EQ(response_header(creds(*req), "Access-Control-Allow-Origin"), "https://any.test");
}

TEST(Cors, PreflightIsAnsweredWithoutTheHandler) {
  bool called = false;
  Handler app = wrap_cors(
      [&called](const Request&) {
        called = true;
        return Response::text("handler");
      },
      {.allowed_origins = {"https://a.test"}, .allowed_methods = {"GET", "PUT"}});
  FakeRequest pre("OPTIONS", "/items/1",
                  {{"Origin", "https://a.test"},
                   {"Access-Control-Request-Method", "PUT"},
                   {"Access-Control-Request-Headers", "content-type, x-token"}});
  const Response r = app(*pre);
  EXPECT_FALSE(called);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(response_header(r, "Access-Control-Allow-Origin"), "https://a.test");
  EXPECT_EQ(response_header(r, "Access-Control-Allow-Methods"), "GET, PUT");
  EXPECT_EQ(response_header(r, "Access-Control-Allow-Headers"), "content-type, x-token");
  EXPECT_EQ(response_header(r, "Access-Control-Max-Age"), "600");
  FakeRequest bad_method(
      "OPTIONS", "/", {{"Origin", "https://a.test"}, {"Access-Control-Request-Method", "DELETE"}});
  EXPECT_EQ(app(*bad_method).status, 403);
  FakeRequest bad_origin("OPTIONS", "/",
                         {{"Origin", "https://b.test"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(app(*bad_origin).status, 403);
  // A plain OPTIONS (no preflight header) reaches the handler.
  FakeRequest plain("OPTIONS", "/", {{"Origin", "https://a.test"}});
  EXPECT_EQ(test::response_text(app(*plain)), "handler");
}

TEST(RequestId, HonouredOrGeneratedAndVisibleToTheHandler) {
  std::string seen;
  Handler app = wrap_request_id([&seen](const Request&) {
    seen = std::string(current_request_id());
    return Response::text("ok");
  });
  FakeRequest sent("GET", "/", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(response_header(app(*sent), "X-Request-Id"), "abc-123");
  EXPECT_EQ(seen, "abc-123");
  FakeRequest none("GET", "/");
  const std::string first = response_header(app(*none), "X-Request-Id");
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(seen, first);
  EXPECT_NE(response_header(app(*none), "X-Request-Id"), first);
  // An id with a space or a control character is replaced, not echoed.
  FakeRequest bad("GET", "/", {{"X-Request-Id", "a b\x01"}});
  EXPECT_EQ(response_header(app(*bad), "X-Request-Id").size(), 32u);
  EXPECT_TRUE(current_request_id().empty());
}

}  // namespace
}  // namespace httpkit
