// Which (source address, source port, destination address) each connection
// uses. httpkit-load binds every socket to a tuple it picked itself, so the
// kernel never searches for a free port and its ephemeral range
// (ip_local_port_range) stays untouched for everything else on the machine.
//
// Tuple i uses source address 127.0.1.1 + i / P (skipping .0 and .255 in the
// last byte), the (i % P)-th port outside the ephemeral range (P of them),
// and destination host + i % K. Workers get disjoint, contiguous slices.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace httpkit::load {

struct Endpoint {
  uint32_t address = 0;  // host byte order
  uint16_t port = 0;
};

struct Tuple {
  Endpoint source;
  Endpoint destination;
};

struct Slice {
  uint64_t begin = 0;
  uint64_t end = 0;  // one past the last tuple
};

class AddressPlan {
 public:
  // `ephemeral_low..high` is the kernel's range to stay out of.
  AddressPlan(uint32_t destination, uint16_t port, unsigned dest_addresses, uint16_t ephemeral_low,
              uint16_t ephemeral_high);

  // Reads /proc/sys/net/ipv4/ip_local_port_range (32768-60999 if unreadable).
  static AddressPlan for_this_machine(uint32_t destination, uint16_t port, unsigned dest_addresses);

  Tuple at(uint64_t index) const;

  // The tuples of worker `worker` of `workers`, each of which opens
  // `per_worker` connections; the slice has room to skip busy tuples.
  Slice slice(int worker, std::size_t per_worker) const;

  std::size_t ports_per_source() const { return ports_.size(); }
  // How many source addresses `workers` workers of `per_worker` connections use.
  std::size_t sources_used(int workers, std::size_t per_worker) const;

 private:
  std::vector<uint16_t> ports_;
  uint32_t destination_;
  uint16_t port_;
  unsigned dest_addresses_;
};

sockaddr_in to_sockaddr(const Endpoint& e);
// "127.0.1.1" for printing.
const char* format_address(uint32_t address, char (&out)[16]);
// Parses a dotted IPv4 address into host byte order; false if invalid.
bool parse_ipv4(const char* text, uint32_t& out);

}  // namespace httpkit::load
