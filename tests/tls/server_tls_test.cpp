// The server over TLS, against a raw OpenSSL client: HTTP/1.1 over 1.3 and
// 1.2 (pipelined, large and file bodies through partial writes), wss, SNI,
// ALPN, resumption, mTLS, certificate reload, and the bad inputs: plain
// HTTP (400), garbage, a stalled handshake, TLS 1.0/1.1.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "httpkit/channel.hpp"
#include "httpkit/server.hpp"
#include "tls_test_peer.hpp"

namespace httpkit {
namespace {

using test::ClientSetup;
using test::TlsClient;

const test::TestCertificates& certs() {
  static const test::TestCertificates c;
  return c;
}

const std::string kLarge = [] {
  std::string s(5u << 20, 0);
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = char('a' + i % 26);
  return s;
}();

std::string file_path() {
  static const std::string path = [] {
    char name[] = "/tmp/httpkit-tls-file-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_EQ(write(fd, kLarge.data(), 1u << 20), ssize_t(1u << 20));
    close(fd);
    return std::string(name);
  }();
  return path;
}

Response handle(const Request& req) {
  if (req.path() == "/ws") {
    static const auto echo = [] {
      auto h = std::make_shared<ChannelHandlers>();
      h->on_receive = [](const ChannelPtr& ch, std::string_view m, bool) {
        ch->send(std::string(m));
      };
      return h;
    }();
    return as_channel(req, echo);
  }
  if (req.path() == "/large") return Response::text(kLarge);
  if (req.path() == "/file") return Response::file(file_path());
  return Response::text(std::string(req.scheme()) + " " + std::string(req.path()));
}

class ServerTlsTest : public ::testing::Test {
 protected:
  void start(ServerTlsOptions tls = base_tls(), bool split = false) {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 1;
    o.handle_signals = false;
    o.logger = [](LogLevel, std::string_view) {};
    o.tls = std::move(tls);
    if (split) o.tls_port = 0;
    server_ = std::make_unique<Server>(&handle, o);
    server_->start();
  }
  static ServerTlsOptions base_tls() {
    ServerTlsOptions t;
    t.cert_file = certs().cert;
    t.key_file = certs().key;
    t.handshake_timeout = std::chrono::milliseconds(400);
    return t;
  }
  uint16_t port() const { return server_->tls_port(); }
  void TearDown() override {
    if (server_) {
      server_->stop();
      server_->wait();
    }
  }
  // One GET on a new connection; the response, or why there was none.
  std::string get(const std::string& path, const ClientSetup& s = {}) {
    TlsClient c(port(), certs().ca, s);
    if (!c.handshake()) return "handshake failed";
    if (!c.send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")) return "send failed";
    return c.response();
  }

  std::unique_ptr<Server> server_;
};

std::string body_of(const std::string& response) {
  const std::size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// Upgrades `c` on /ws, sends `text` in one masked frame and expects the
// server's unmasked echo.
void expect_websocket_echo(TlsClient& c, const std::string& text) {
  ASSERT_TRUE(
      c.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n"));
  const std::string head = c.response();
  ASSERT_NE(head.find("101"), std::string::npos) << head;
  std::string frame = {char(0x81), char(0x80 | text.size()), 1, 2, 3, 4};
  for (std::size_t i = 0; i < text.size(); ++i)
    frame += char(text[i] ^ "\x01\x02\x03\x04"[i % 4]);
  ASSERT_TRUE(c.send(frame));
  while (c.buffer().size() < 2 + text.size() && c.read_some()) {
  }
  const std::string expected = std::string{char(0x81), char(text.size())} + text;
  EXPECT_EQ(c.buffer(), expected);
}

TEST_F(ServerTlsTest, Tls13KeepAliveAndPipelined) {
  start();
  TlsClient c(port(), certs().ca);
  ASSERT_TRUE(c.handshake());
  EXPECT_EQ(SSL_version(c.ssl()), TLS1_3_VERSION);
  ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(body_of(c.response()), "https /a");
  EXPECT_EQ(body_of(c.response()), "https /b");
  ASSERT_TRUE(c.send("GET /c HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(body_of(c.response()), "https /c");
}

// Asked to, TLS 1.3 connections keep OpenSSL's record layer: keep-alive,
// pipelining, a large response through partial writes and a WebSocket
// all go through SSL_read/SSL_write instead.
TEST_F(ServerTlsTest, Tls13OnOpenSslsRecordLayerWhenAsked) {
  ServerTlsOptions t = base_tls();
  t.own_record_layer = false;
  start(t);
  TlsClient c(port(), certs().ca);
  ASSERT_TRUE(c.handshake());
  EXPECT_EQ(SSL_version(c.ssl()), TLS1_3_VERSION);
  ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /large HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(body_of(c.response()), "https /a");
  EXPECT_TRUE(body_of(c.response()) == kLarge);
  expect_websocket_echo(c, "hello on openssl's records");
}

TEST_F(ServerTlsTest, Tls12) {
  start();
  ClientSetup s;
  s.max_version = TLS1_2_VERSION;
  TlsClient c(port(), certs().ca, s);
  ASSERT_TRUE(c.handshake());
  EXPECT_EQ(SSL_version(c.ssl()), TLS1_2_VERSION);
  for (const char* path : {"/x", "/y"}) {
    ASSERT_TRUE(c.send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(body_of(c.response()), std::string("https ") + path);
  }
}

TEST_F(ServerTlsTest, OlderVersionsRefused) {
  start();
  for (int v : {TLS1_VERSION, TLS1_1_VERSION}) {
    ClientSetup s;
    s.min_version = v;
    s.max_version = v;
    TlsClient c(port(), certs().ca, s);
    EXPECT_FALSE(c.handshake()) << v;
  }
}

// Records past 16 KiB and a reader that starts late: the server's writes
// block, the unsent ciphertext waits, and every byte arrives in order.
TEST_F(ServerTlsTest, LargeResponsesThroughPartialWrites) {
  start();
  for (int max : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    ClientSetup s;
    s.max_version = max;
    TlsClient c(port(), certs().ca, s);
    ASSERT_TRUE(c.handshake());
    ASSERT_TRUE(
        c.send("GET /large HTTP/1.1\r\nHost: x\r\n\r\nGET /file HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(body_of(c.response()) == kLarge) << max;
    EXPECT_TRUE(body_of(c.response()) == kLarge.substr(0, 1u << 20)) << max;
    ASSERT_TRUE(c.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(body_of(c.response()), "https /after");
  }
}

TEST_F(ServerTlsTest, WebSocketEcho) {
  start();
  TlsClient c(port(), certs().ca);
  ASSERT_TRUE(c.handshake());
  expect_websocket_echo(c, "hello over tls");
}

TEST_F(ServerTlsTest, SniChoosesTheCertificate) {
  ServerTlsOptions t = base_tls();
  t.sni.push_back({"*.wild.example", certs().wild_cert, certs().wild_key});
  start(t);
  ClientSetup s;
  s.sni = "a.wild.example";
  TlsClient wild(port(), certs().ca, s);
  SSL_set_verify(wild.ssl(), SSL_VERIFY_NONE, nullptr);
  ASSERT_TRUE(wild.handshake());
  EXPECT_EQ(wild.peer_common_name(), "wild");
  s.sni = "b.a.wild.example";  // a wildcard covers one label only
  TlsClient deeper(port(), certs().ca, s);
  SSL_set_verify(deeper.ssl(), SSL_VERIFY_NONE, nullptr);
  ASSERT_TRUE(deeper.handshake());
  EXPECT_EQ(deeper.peer_common_name(), "localhost");
  TlsClient plain(port(), certs().ca);
  ASSERT_TRUE(plain.handshake());
  EXPECT_EQ(plain.peer_common_name(), "localhost");
}

TEST_F(ServerTlsTest, AlpnHttp11OrNone) {
  start();
  TlsClient c(port(), certs().ca);
  ASSERT_TRUE(c.handshake());
  const unsigned char* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(c.ssl(), &proto, &len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(proto), len), "http/1.1");
  ClientSetup s;
  s.alpn = std::string("\x02h2", 3);
  TlsClient h2(port(), certs().ca, s);
  ASSERT_TRUE(h2.handshake());  // no overlap: served without ALPN
  SSL_get0_alpn_selected(h2.ssl(), &proto, &len);
  EXPECT_EQ(len, 0u);
}

TEST_F(ServerTlsTest, PlainHttpGets400AndClose) {
  start();
  TlsClient raw(port(), certs().ca);
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(raw.fd(), request.data(), request.size(), 0), ssize_t(request.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = recv(raw.fd(), buf, sizeof buf, 0)) > 0;)
    answer.append(buf, std::size_t(n));
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos);
  EXPECT_NE(answer.find("plain HTTP request was sent to HTTPS port"), std::string::npos);
}

TEST_F(ServerTlsTest, GarbageAndStalledHandshakesAreClosed) {
  start();
  TlsClient good(port(), certs().ca);
  ASSERT_TRUE(good.handshake());
  TlsClient garbage(port(), certs().ca);
  const std::string junk = "\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff\x00\x01\x02";
  ASSERT_GT(::send(garbage.fd(), junk.data(), junk.size(), 0), 0);
  EXPECT_TRUE(test::closed_within(garbage.fd(), 2000));
  TlsClient binary(port(), certs().ca);
  ASSERT_GT(::send(binary.fd(), "\x01\x02\x03", 3, 0), 0);
  EXPECT_TRUE(test::closed_within(binary.fd(), 2000));
  // Half a record header, then nothing: the handshake deadline (400 ms).
  TlsClient stalled(port(), certs().ca);
  ASSERT_GT(::send(stalled.fd(), "\x16\x03", 2, 0), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(test::closed_within(stalled.fd(), 3000));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(300));
  ASSERT_TRUE(good.send("GET /still HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(body_of(good.response()), "https /still");
}

TEST_F(ServerTlsTest, ResumptionWithTickets) {
  start();
  for (int max : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    ClientSetup s;
    s.max_version = max;
    SSL_SESSION* session = nullptr;
    {
      TlsClient first(port(), certs().ca, s);
      ASSERT_TRUE(first.handshake());
      ASSERT_TRUE(first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      first.response();  // TLS 1.3 tickets arrive after the handshake
      session = SSL_get1_session(first.ssl());
      EXPECT_FALSE(SSL_session_reused(first.ssl()));
    }
    ASSERT_NE(session, nullptr);
    s.session = session;
    SSL_SESSION* renewed = nullptr;
    {
      TlsClient second(port(), certs().ca, s);
      ASSERT_TRUE(second.handshake());
      EXPECT_TRUE(SSL_session_reused(second.ssl())) << max;
      ASSERT_TRUE(second.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n"));
      EXPECT_EQ(body_of(second.response()), "https /again");
      renewed = SSL_get1_session(second.ssl());
    }
    if (max == TLS1_3_VERSION) {
      // A TLS 1.3 resumption brings a ticket of its own (one use each, as
      // browsers do), and that ticket resumes in turn.
      const unsigned char *old_ticket = nullptr, *new_ticket = nullptr;
      std::size_t old_size = 0, new_size = 0;
      SSL_SESSION_get0_ticket(session, &old_ticket, &old_size);
      SSL_SESSION_get0_ticket(renewed, &new_ticket, &new_size);
      ASSERT_GT(new_size, 0u);
      EXPECT_FALSE(new_size == old_size && std::memcmp(old_ticket, new_ticket, old_size) == 0);
      s.session = renewed;
      TlsClient third(port(), certs().ca, s);
      ASSERT_TRUE(third.handshake());
      EXPECT_TRUE(SSL_session_reused(third.ssl()));
    }
    SSL_SESSION_free(renewed);
    SSL_SESSION_free(session);
  }
}

TEST_F(ServerTlsTest, ClientCertificateRequired) {
  ServerTlsOptions t = base_tls();
  t.client_verify = ServerTlsOptions::ClientVerify::required;
  t.client_ca_file = certs().ca;
  start(t);
  // Refused: in the handshake, or (1.3) at the first read after it.
  const std::string refused = get("/");
  EXPECT_EQ(refused.find("200 OK"), std::string::npos) << refused;
  ClientSetup s;
  s.cert = certs().client_cert;
  s.key = certs().client_key;
  EXPECT_EQ(body_of(get("/mtls", s)), "https /mtls");
}

TEST_F(ServerTlsTest, ReloadSwapsTheCertificateForNewHandshakes) {
  char dir[] = "/tmp/httpkit-reload-XXXXXX";
  const std::string d = mkdtemp(dir);
  ServerTlsOptions t = base_tls();
  t.cert_file = d + "/cert.pem";
  t.key_file = d + "/key.pem";
  auto use = [&](const std::string& cert, const std::string& key) {
    ASSERT_EQ(std::system(
                  ("cp " + cert + " " + t.cert_file + " && cp " + key + " " + t.key_file).c_str()),
              0);
  };
  use(certs().cert, certs().key);
  start(t, /*split=*/true);
  EXPECT_NE(server_->port(), server_->tls_port());
  TlsClient old(port(), certs().ca);
  ASSERT_TRUE(old.handshake());
  EXPECT_EQ(old.peer_common_name(), "localhost");
  use(certs().other_cert, certs().other_key);
  std::string error;
  ASSERT_TRUE(server_->reload_tls(&error)) << error;
  TlsClient fresh(port(), certs().ca);
  ASSERT_TRUE(fresh.handshake());
  EXPECT_EQ(fresh.peer_common_name(), "other");
  ASSERT_TRUE(old.send("GET /old HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(body_of(old.response()), "https /old");
  // A broken file keeps the current certificates.
  ASSERT_EQ(std::system(("echo broken > " + t.cert_file).c_str()), 0);
  EXPECT_FALSE(server_->reload_tls(&error));
  EXPECT_FALSE(error.empty());
  TlsClient after(port(), certs().ca);
  ASSERT_TRUE(after.handshake());
  EXPECT_EQ(after.peer_common_name(), "other");
  std::system(("rm -rf " + d).c_str());
}

}  // namespace
}  // namespace httpkit
