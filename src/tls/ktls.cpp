#include "tls/ktls.hpp"

#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>
#include <string>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

namespace httpkit::tls {
namespace {

template <class Info>
void fill(Info& info, const TrafficKeys& write) {
  // TLS 1.3's nonce is the 12-byte IV xor the sequence: the kernel takes
  // the IV as salt (4 bytes) + iv (8 bytes) and the sequence as rec_seq.
  std::memcpy(info.salt, write.iv().data(), sizeof info.salt);
  std::memcpy(info.iv, write.iv().data() + sizeof info.salt, sizeof info.iv);
  std::memcpy(info.key, write.key().data(), sizeof info.key);
  const uint64_t seq = write.sequence();
  for (std::size_t i = 0; i < sizeof info.rec_seq; ++i)
    info.rec_seq[i] = static_cast<unsigned char>(seq >> (8 * (sizeof info.rec_seq - 1 - i)));
}

}  // namespace

bool ktls_available() {
  static const bool available = [] {
    std::ifstream ulps("/proc/sys/net/ipv4/tcp_available_ulp");
    std::string name;
    while (ulps >> name)
      if (name == "tls") return true;
    return false;
  }();
  return available;
}

bool enable_ktls_tx(int fd, const TrafficKeys& write) {
  if (!ktls_available()) return false;
  if (write.suite() == CipherSuite::chacha20_poly1305_sha256) return false;
  if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof "tls") != 0) return false;
  int rc;
  if (write.suite() == CipherSuite::aes_128_gcm_sha256) {
    tls12_crypto_info_aes_gcm_128 info{};
    info.info.version = TLS_1_3_VERSION;
    info.info.cipher_type = TLS_CIPHER_AES_GCM_128;
    fill(info, write);
    rc = setsockopt(fd, SOL_TLS, TLS_TX, &info, sizeof info);
    explicit_bzero(&info, sizeof info);
  } else {
    tls12_crypto_info_aes_gcm_256 info{};
    info.info.version = TLS_1_3_VERSION;
    info.info.cipher_type = TLS_CIPHER_AES_GCM_256;
    fill(info, write);
    rc = setsockopt(fd, SOL_TLS, TLS_TX, &info, sizeof info);
    explicit_bzero(&info, sizeof info);
  }
  return rc == 0;
}

}  // namespace httpkit::tls
