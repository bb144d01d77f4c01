// The connections to one pool key and the requests waiting for one.
#pragma once

#include <cstddef>
#include <deque>
#include <string>

#include "client/route.hpp"

namespace httpkit::client {

class UpstreamConnection;
struct Exchange;

struct HostPool {
  explicit HostPool(Route r) : route(std::move(r)) {}

  Route route;
  std::size_t open = 0;                     // resolving, connecting, busy or idle
  UpstreamConnection* idle_head = nullptr;  // most recently used first
  UpstreamConnection* idle_tail = nullptr;
  std::size_t idle_count = 0;
  std::deque<Exchange*> waiting;  // requests with no connection yet, oldest first
  bool filling = false;           // slot_freed() is running for this pool

  void push_idle(UpstreamConnection& c);
  void remove_idle(UpstreamConnection& c);
  UpstreamConnection* pop_idle_newest();
  UpstreamConnection* oldest_idle() const { return idle_tail; }
};

}  // namespace httpkit::client
