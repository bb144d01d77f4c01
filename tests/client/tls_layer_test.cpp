// The client's TLS layer (client/tls_layer.hpp) over io::Stream, against a
// blocking OpenSSL server on a RawServer thread with a certificate made
// here: bodies of many records, keep-alive reuse, a failed verification,
// and the close_notify the layer sends when the connection closes.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <unistd.h>

#include "httpkit/client.hpp"
#include "raw_server.hpp"

namespace httpkit {
namespace {

// A self-signed certificate for 127.0.0.1 and a server context using it.
struct ServerTls {
  SSL_CTX* ctx = nullptr;

  ServerTls() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~ServerTls() { SSL_CTX_free(ctx); }
};

std::string body_of(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    body[i] = char('a' + (i * 7 + i / 13) % 26);
  return body;
}

// Serves every request on the connection with `body`, until the client
// closes; counts the close_notify alerts it receives.
void serve(SSL_CTX* ctx, int fd, const std::string& body, std::atomic<int>& close_notifies) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    std::string in;
    char buf[4096];
    for (;;) {
      const std::size_t end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        in.erase(0, end + 4);
        const std::string out =
            "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        if (SSL_write(ssl, out.data(), int(out.size())) <= 0) break;
        continue;
      }
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) {
        if (SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN) ++close_notifies;
        break;
      }
      in.append(buf, std::size_t(n));
    }
  }
  SSL_free(ssl);
  ERR_clear_error();
}

std::string url(uint16_t port) {
  return "https://127.0.0.1:" + std::to_string(port) + "/";
}

TEST(TlsLayer, ManyRecordsAndKeepAlive) {
  ServerTls tls;
  const std::string body = body_of(300'000);  // ~19 records, several reads each
  std::atomic<int> close_notifies{0};
  test::RawServer server([&](int fd, int) { serve(tls.ctx, fd, body, close_notifies); });
  {
    Client client;
    RequestOptions o;
    o.url = url(server.port());
    o.tls.insecure = true;
    for (int i = 0; i < 3; ++i) {
      ClientResponse r = client.fetch(o);
      ASSERT_TRUE(r.ok()) << to_string(r.error);
      EXPECT_EQ(r.status, 200);
      EXPECT_TRUE(r.body == body) << "body of " << r.body.size() << " bytes differs";
      EXPECT_GT(r.timing.tls.count(), 0);
    }
    EXPECT_EQ(client.stats().connections_opened, 1u);
    EXPECT_EQ(client.stats().requests_reused, 2u);
  }  // closing the client closes the connection: one close_notify
  for (int i = 0; i < 200 && close_notifies.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(close_notifies.load(), 1);
}

TEST(TlsLayer, UntrustedCertificateFailsTheHandshake) {
  ServerTls tls;
  std::atomic<int> close_notifies{0};
  test::RawServer server([&](int fd, int) { serve(tls.ctx, fd, "x", close_notifies); });
  Client client;
  RequestOptions o;
  o.url = url(server.port());
  ClientResponse r = client.fetch(o);
  EXPECT_EQ(r.error.kind, ErrorKind::tls) << to_string(r.error);
  EXPECT_NE(r.error.message.find("certificate verify failed"), std::string::npos)
      << r.error.message;
}

TEST(TlsLayer, PlainServerIsATlsError) {
  test::RawServer server([](int fd, int) {
    const char answer[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    char buf[1024];
    (void)!read(fd, buf, sizeof buf);
    (void)!write(fd, answer, sizeof answer - 1);
  });
  Client client;
  RequestOptions o;
  o.url = url(server.port());
  o.tls.insecure = true;
  ClientResponse r = client.fetch(o);
  EXPECT_EQ(r.error.kind, ErrorKind::tls) << to_string(r.error);
  EXPECT_NE(r.error.message.find("TLS handshake with 127.0.0.1:"), std::string::npos)
      << r.error.message;
}

}  // namespace
}  // namespace httpkit
