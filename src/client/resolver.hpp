// Name resolution that never blocks a loop: getaddrinfo runs on a few
// threads of its own, answers come back to the loop as posted tasks, and a
// short-lived cache (plus coalescing of lookups in flight) keeps repeat
// requests off those threads. IPv4 and IPv6 both, in getaddrinfo's order.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io/event_loop.hpp"

namespace httpkit::client {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  // With `port` filled in, ready for connect().
  Address with_port(uint16_t port) const;
  std::string text() const;  // "127.0.0.1" / "::1"
};

struct Resolution {
  std::vector<Address> addresses;
  std::string error;  // set when there are no addresses
};

// An IP literal as an address, or nothing.
bool parse_ip_literal(const std::string& text, Address& out);

class Resolver {
 public:
  using Callback = std::function<void(const Resolution&)>;

  Resolver(io::EventLoop& loop, int threads, std::chrono::milliseconds ttl,
           const std::vector<std::pair<std::string, std::string>>& overrides);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Loop thread only. IP literals, overrides and fresh cache entries are
  // answered at once: returns true with `out` filled.
  bool lookup_now(const std::string& host, Resolution& out);
  // Otherwise: `callback` runs on the loop later, unless cancel(ticket).
  uint64_t lookup_async(const std::string& host, Callback callback);
  void cancel(uint64_t ticket);

  uint64_t lookups_started() const { return lookups_started_; }

 private:
  struct Work;  // shared with the threads: queue, loop pointer, stop flag
  struct CacheEntry {
    Resolution resolution;
    uint64_t expires_ms = 0;
  };
  struct Waiter {
    uint64_t ticket;
    Callback callback;
  };

  void complete(const std::string& host, Resolution resolution);
  void start_threads();

  io::EventLoop& loop_;
  int thread_count_;
  std::chrono::milliseconds ttl_;
  std::shared_ptr<Work> work_;
  std::shared_ptr<Resolver*> self_;  // posted answers find the resolver through a weak_ptr
  bool threads_started_ = false;
  uint64_t next_ticket_ = 1;
  uint64_t lookups_started_ = 0;
  std::unordered_map<std::string, std::vector<Address>> overrides_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::unordered_map<std::string, std::vector<Waiter>> pending_;
  std::unordered_map<uint64_t, std::string> ticket_host_;
};

}  // namespace httpkit::client
