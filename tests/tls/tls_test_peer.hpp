// For the server's TLS tests: certificates made by the test (with the
// openssl tool, into a temporary directory) and a blocking OpenSSL client
// whose version, SNI, ALPN, session and client certificate the test picks.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace httpkit::test {

// A CA, leaves for "localhost", "*.wild.example" and a client, signed by it.
struct TestCertificates {
  std::string dir;
  std::string ca, cert, key, wild_cert, wild_key, other_cert, other_key, client_cert, client_key;

  TestCertificates() {
    char name[] = "/tmp/httpkit-tls-XXXXXX";
    dir = mkdtemp(name);
    ca = dir + "/ca.pem";
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
        " -keyout " +
        dir + "/ca.key -out " + ca + " -subj /CN=httpkit-test-ca");
    leaf("localhost", "DNS:localhost,IP:127.0.0.1", cert, key);
    leaf("wild", "DNS:*.wild.example", wild_cert, wild_key);
    leaf("other", "DNS:localhost", other_cert, other_key);
    leaf("client", "DNS:client", client_cert, client_key);
  }
  ~TestCertificates() { run("rm -rf " + dir); }

 private:
  static void run(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) std::abort();
  }
  void leaf(const std::string& cn, const std::string& san, std::string& cert_out,
            std::string& key_out) {
    const std::string base = dir + "/" + cn;
    cert_out = base + ".pem";
    key_out = base + ".key";
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key_out +
        " -out " + base + ".csr -subj /CN=" + cn);
    run("printf 'subjectAltName=" + san + "' > " + base + ".ext");
    run("openssl x509 -req -in " + base + ".csr -CA " + ca + " -CAkey " + dir +
        "/ca.key -CAcreateserial -days 2 -out " + cert_out + " -extfile " + base + ".ext");
  }
};

struct ClientSetup {
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string sni = "localhost";
  std::string alpn = std::string("\x08http/1.1", 9);  // wire format; empty: none
  SSL_SESSION* session = nullptr;                     // to resume
  std::string cert, key;                              // a client certificate
};

class TlsClient {
 public:
  TlsClient(uint16_t port, const std::string& ca, const ClientSetup& s = {}) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx_, 0);  // lets the test offer TLS 1.0 and 1.1
    SSL_CTX_set_min_proto_version(ctx_, s.min_version);
    SSL_CTX_set_max_proto_version(ctx_, s.max_version);
    SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!s.cert.empty()) {
      SSL_CTX_use_certificate_file(ctx_, s.cert.c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(ctx_, s.key.c_str(), SSL_FILETYPE_PEM);
    }
    if (!s.alpn.empty())
      SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(s.alpn.data()),
                              unsigned(s.alpn.size()));
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (!s.sni.empty()) SSL_set_tlsext_host_name(ssl_, s.sni.c_str());
    if (s.session) SSL_set_session(ssl_, s.session);
  }
  ~TlsClient() {
    // A session freed without close_notify is marked not resumable.
    if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    close(fd_);
    ERR_clear_error();
  }

  bool handshake() { return connected_ && SSL_connect(ssl_) == 1; }
  SSL* ssl() { return ssl_; }
  int fd() const { return fd_; }

  bool send(std::string_view bytes) {
    std::size_t n = 0;
    return SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n) == 1 && n == bytes.size();
  }
  // Reads one response (Content-Length framed) whole: head and body.
  std::string response() {
    for (;;) {
      const std::size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const std::size_t cl = buffer_.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(buffer_.substr(cl + 16));
        if (buffer_.size() >= end + 4 + length) {
          std::string out = buffer_.substr(0, end + 4 + length);
          buffer_.erase(0, out.size());
          return out;
        }
      }
      if (!read_some()) return "closed: " + buffer_;
    }
  }
  bool read_some() {
    char chunk[16384];
    std::size_t n = 0;
    if (SSL_read_ex(ssl_, chunk, sizeof chunk, &n) != 1) return false;
    buffer_.append(chunk, n);
    return true;
  }
  std::string& buffer() { return buffer_; }
  std::string peer_common_name() {
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (!cert) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

// True if the server closes `fd` (EOF or reset) within `ms`.
inline bool closed_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    if (poll(&p, 1, ms) != 1) return false;
    char c[4096];
    const ssize_t n = recv(fd, c, sizeof c, 0);
    if (n <= 0) return true;
  }
}

}  // namespace httpkit::test
