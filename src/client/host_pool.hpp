// The connections to one pool key and the requests waiting for one.
#pragma once

#include <cstddef>
#include <deque>
#include <string>

#include "client/route.hpp"

namespace httpkit::client_detail {

class Connection;
struct Exchange;

struct HostPool {
  explicit HostPool(Route r) : route(std::move(r)) {}

  Route route;
  std::size_t open = 0;             // resolving, connecting, busy or idle
  Connection* idle_head = nullptr;  // most recently used first
  Connection* idle_tail = nullptr;
  std::size_t idle_count = 0;
  std::deque<Exchange*> waiting;  // requests with no connection yet, oldest first
  bool filling = false;           // slot_freed() is running for this pool

  void push_idle(Connection& c);
  void remove_idle(Connection& c);
  Connection* pop_idle_newest();
  Connection* oldest_idle() const { return idle_tail; }
};

}  // namespace httpkit::client_detail
