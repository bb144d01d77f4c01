#include "address_plan.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

namespace httpkit::load {
namespace {

constexpr uint32_t kFirstSource = (127u << 24) | (0u << 16) | (1u << 8) | 1u;  // 127.0.1.1
constexpr uint16_t kLowestPort = 1025;     // below it: privileged, well-known services
constexpr unsigned kHostsPerSubnet = 254;  // .1 .. .254 in the last byte
// Spare tuples per worker beyond its connections: ports some listener holds
// (EADDRINUSE) or a lingering TIME_WAIT pins (EADDRNOTAVAIL) are skipped.
constexpr double kSpareShare = 0.10;
constexpr uint64_t kSpareMin = 256;

// The n-th source address: 127.0.1.1, ..., 127.0.1.254, 127.0.2.1, ...
uint32_t source_address(uint64_t n) {
  const uint32_t subnet = uint32_t(n / kHostsPerSubnet), host = uint32_t(n % kHostsPerSubnet);
  return kFirstSource + subnet * 256 + host;
}

}  // namespace

AddressPlan::AddressPlan(uint32_t destination, uint16_t port, unsigned dest_addresses,
                         uint16_t ephemeral_low, uint16_t ephemeral_high)
    : destination_(destination), port_(port), dest_addresses_(dest_addresses ? dest_addresses : 1) {
  for (uint32_t p = kLowestPort; p <= 65535; ++p) {
    if (p >= ephemeral_low && p <= ephemeral_high) continue;
    if (p == port) continue;  // the server listens on it (on 0.0.0.0, usually)
    ports_.push_back(uint16_t(p));
  }
}

AddressPlan AddressPlan::for_this_machine(uint32_t destination, uint16_t port,
                                          unsigned dest_addresses) {
  unsigned low = 32768, high = 60999;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%u %u", &low, &high) != 2) low = 32768, high = 60999;
    std::fclose(f);
  }
  return AddressPlan(destination, port, dest_addresses, uint16_t(low), uint16_t(high));
}

Tuple AddressPlan::at(uint64_t index) const {
  Tuple t;
  t.source.address = source_address(index / ports_.size());
  t.source.port = ports_[index % ports_.size()];
  t.destination.address = destination_ + uint32_t(index % dest_addresses_);
  t.destination.port = port_;
  return t;
}

Slice AddressPlan::slice(int worker, std::size_t per_worker) const {
  const uint64_t stride =
      per_worker + std::max<uint64_t>(kSpareMin, uint64_t(per_worker * kSpareShare));
  return {uint64_t(worker) * stride, uint64_t(worker + 1) * stride};
}

std::size_t AddressPlan::sources_used(int workers, std::size_t per_worker) const {
  const uint64_t tuples = slice(workers - 1, per_worker).end;
  return std::size_t((tuples + ports_.size() - 1) / ports_.size());
}

sockaddr_in to_sockaddr(const Endpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(e.address);
  a.sin_port = htons(e.port);
  return a;
}

const char* format_address(uint32_t address, char (&out)[16]) {
  std::snprintf(out, sizeof out, "%u.%u.%u.%u", address >> 24, (address >> 16) & 255,
                (address >> 8) & 255, address & 255);
  return out;
}

bool parse_ipv4(const char* text, uint32_t& out) {
  in_addr a{};
  if (inet_pton(AF_INET, text, &a) != 1) return false;
  out = ntohl(a.s_addr);
  return true;
}

}  // namespace httpkit::load
