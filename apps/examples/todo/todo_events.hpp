// GET /api/events: the store's changes as server-sent events, to every
// browser that listens, whichever event loop holds its connection.
//
//   event: created            (or updated, deleted)
//   id: 7                     (the store's version after the change)
//   data: {"id":3,"title":"buy milk","done":false}
//
// Each listener is an httpkit channel with an EventStream on it (the
// text/event-stream head and a heartbeat comment that keeps proxies from
// timing it out), subscribed to one Topic. A change is formatted once and
// published once; the Topic hands it to each loop, which writes it to its
// own channels.
#pragma once

#include <memory>

#include "httpkit/channel.hpp"
#include "httpkit/request.hpp"
#include "httpkit/response.hpp"
#include "todo_store.hpp"

namespace todo {

class TodoFeed {
 public:
  TodoFeed();

  // The route's handler: takes the connection as a channel.
  httpkit::Response listen(const httpkit::Request& request) const;

  // Sends `change` to every listener. Returns at once; safe from any thread.
  void publish(const Change& change);

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::shared_ptr<const httpkit::ChannelHandlers> handlers_;
};

}  // namespace todo
