// The rest of http-kit's client surface: WebDAV shorthands, redirect
// options and their trace, form params merged into multipart.
#include <gtest/gtest.h>

#include <string>

#include "client/route.hpp"
#include "httpkit/client.hpp"
#include "server/test_server.hpp"

namespace httpkit {
namespace {

using test::TestServer;

std::string base(uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

// "/r/<status>/<n>" redirects n times with <status>, then to /echo, which
// answers with the method, content type and body it got.
Response redirecting(const Request& req) {
  std::string_view p = req.path();
  if (p.starts_with("/r/")) {
    const int status = std::stoi(std::string(p.substr(3, 3)));
    const int left = std::stoi(std::string(p.substr(7)));
    Response r(status, "");
    r.header("Location", left > 1 ? "/r/" + std::to_string(status) + "/" + std::to_string(left - 1)
                                  : std::string("/echo"));
    return r;
  }
  std::string out = std::string(req.method()) + "\n";
  out += std::string(req.header("content-type").value_or("")) + "\n";
  out += std::string(req.body());
  return Response::text(out);
}

TEST(ClientSurface, WebDavShorthandsSendTheirMethods) {
  TestServer server(redirecting);
  Client client;
  const std::string url = base(server.port()) + "/echo";
  std::pair<std::future<ClientResponse>, const char*> calls[] = {
      {client.propfind(url, {.headers = {{"Depth", "1"}}}), "PROPFIND"},
      {client.proppatch(url, {.body = "<x/>"}), "PROPPATCH"},
      {client.lock(url), "LOCK"},
      {client.unlock(url), "UNLOCK"},
      {client.report(url), "REPORT"},
      {client.acl(url), "ACL"},
      {client.copy(url, {.headers = {{"Destination", "/b"}}}), "COPY"},
      {client.move(url), "MOVE"},
      {client.get(url), "GET"},
      {client.delete_(url), "DELETE"},
  };
  for (auto& [future, method] : calls) {
    ClientResponse r = future.get();
    ASSERT_TRUE(r.ok()) << method << ": " << r.error.message;
    EXPECT_EQ(r.body.substr(0, r.body.find('\n')), method);
    EXPECT_EQ(r.opts.method, method);
  }
  ClientResponse body = client.proppatch(url, {.body = "<x/>"}).get();
  EXPECT_EQ(body.body.substr(body.body.size() - 4), "<x/>");
}

TEST(ClientSurface, UnsafeRedirectMethodsKeepMethodAndBodyOn301And302) {
  TestServer server(redirecting);
  Client client;
  const std::string b = base(server.port());
  for (int status : {301, 302}) {
    RequestOptions o{.body = "data"};
    ClientResponse plain = client.post(b + "/r/" + std::to_string(status) + "/1", o).get();
    EXPECT_EQ(plain.body, "GET\n\n") << status;
    o.allow_unsafe_redirect_methods = true;
    ClientResponse kept = client.post(b + "/r/" + std::to_string(status) + "/1", o).get();
    ASSERT_TRUE(kept.ok()) << kept.error.message;
    EXPECT_EQ(kept.body, "POST\n\ndata") << status;
    ClientResponse put = client.put(b + "/r/" + std::to_string(status) + "/2", o).get();
    EXPECT_EQ(put.body, "PUT\n\ndata") << status;
  }
  // 303 means "GET the answer elsewhere" whatever the option says.
  ClientResponse see_other =
      client.post(b + "/r/303/1", {.body = "data", .allow_unsafe_redirect_methods = true}).get();
  EXPECT_EQ(see_other.body, "GET\n\n");
  // Form bodies keep their content type along with the method.
  ClientResponse form = client
                            .post(b + "/r/302/1", {.form_params = {{"a", "1"}},
                                                   .allow_unsafe_redirect_methods = true})
                            .get();
  EXPECT_EQ(form.body, "POST\napplication/x-www-form-urlencoded\na=1");
  for (int status : {307, 308}) {
    ClientResponse r = client.post(b + "/r/" + std::to_string(status) + "/1", {.body = "x"}).get();
    EXPECT_EQ(r.body, "POST\n\nx") << status;
  }
}

TEST(ClientSurface, TraceRedirectsListsEveryRedirectingUrl) {
  TestServer server(redirecting);
  Client client;
  const std::string b = base(server.port());
  ClientResponse r = client.get(b + "/r/302/3?q=1").get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.url, b + "/echo");
  EXPECT_EQ(r.redirects, 3);
  const std::vector<std::string> want = {b + "/r/302/3?q=1", b + "/r/302/2", b + "/r/302/1"};
  EXPECT_EQ(r.trace_redirects, want);

  EXPECT_TRUE(client.get(b + "/echo").get().trace_redirects.empty());
  // Too many: the trace says where the client went before it gave up.
  ClientResponse over = client.get(b + "/r/301/9", {.max_redirects = 2}).get();
  EXPECT_EQ(over.error.kind, ErrorKind::too_many_redirects);
  EXPECT_EQ(over.trace_redirects.size(), 2u);
}

TEST(ClientSurface, FormParamsBecomeMultipartParts) {
  TestServer server(redirecting);
  Client client;
  RequestOptions o;
  o.multipart = {MultipartPart::text("file", "contents")};
  o.form_params = {{"a", "1 2"}, {"b", "&"}};
  ClientResponse r = client.post(base(server.port()) + "/echo", o).get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_NE(r.body.find("\nmultipart/form-data; boundary=httpkit-"), std::string::npos) << r.body;
  const std::size_t file = r.body.find(
      "name=\"file\"\r\nContent-Type: text/plain; charset=utf-8"
      "\r\n\r\ncontents\r\n");
  const std::size_t a = r.body.find(
      "name=\"a\"\r\nContent-Type: text/plain; charset=utf-8"
      "\r\n\r\n1 2\r\n");
  const std::size_t bb = r.body.find(
      "name=\"b\"\r\nContent-Type: text/plain; charset=utf-8"
      "\r\n\r\n&\r\n");
  ASSERT_NE(file, std::string::npos) << r.body;
  ASSERT_NE(a, std::string::npos) << r.body;
  ASSERT_NE(bb, std::string::npos) << r.body;
  EXPECT_LT(file, a);
  EXPECT_LT(a, bb);
  EXPECT_EQ(r.body.find("a=1+2"), std::string::npos);  // not also sent url-encoded
}

TEST(ClientSurface, HttpsProxyRoutes) {
  auto url = [](const char* text) { return *client::parse_url(text).url; };
  TlsOptions tls{.ca_file = "ca.pem"};
  // An https origin: TLS to the proxy, CONNECT, TLS to the origin inside.
  client::Route tunnel =
      client::route_for(url("https://origin.test/"), url("https://u:p@proxy.test:8443"), tls);
  EXPECT_TRUE(tunnel.proxy_tls);
  EXPECT_EQ(tunnel.proxy_tls_host, "proxy.test");
  EXPECT_TRUE(tunnel.tls);
  EXPECT_EQ(tunnel.tls_host, "origin.test");
  EXPECT_EQ(tunnel.tunnel_authority, "origin.test:443");
  EXPECT_EQ(tunnel.dial_port, 8443);
  EXPECT_EQ(tunnel.describe(), "origin.test:443 via https proxy proxy.test:8443");
  // An http origin: absolute form over the proxy's TLS, checked with `tls`.
  client::Route plain =
      client::route_for(url("http://origin.test/"), url("https://proxy.test"), tls);
  EXPECT_TRUE(plain.proxy_tls);
  EXPECT_TRUE(plain.absolute_form);
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.tls_options.ca_file, "ca.pem");
  EXPECT_EQ(plain.dial_port, 443);
  // Never the same pooled connections as the same proxy in the clear.
  client::Route clear =
      client::route_for(url("http://origin.test/"), url("http://proxy.test:443"), tls);
  EXPECT_NE(plain.key, clear.key);

  Client client;
  ClientResponse r =
      client.get("http://127.0.0.1:1/", {.proxy_url = "socks5://127.0.0.1:1080"}).get();
  EXPECT_EQ(r.error.kind, ErrorKind::invalid_request);
  EXPECT_NE(r.error.message.find("invalid proxy URL 'socks5://"), std::string::npos)
      << r.error.message;
}

}  // namespace
}  // namespace httpkit
