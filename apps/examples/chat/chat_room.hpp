// The chat room: one message log shared by every loop, fanned out to
// WebSocket clients through a Topic and to long-polling clients through
// the log itself.
//
// Every message gets an increasing id. A long-poll asks for the messages
// after the last id it saw, so nothing is lost between two polls, and a
// client that sees a message twice (history and live) drops it by id.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "httpkit/channel.hpp"
#include "httpkit/topic.hpp"

namespace chat {

struct RoomOptions {
  std::size_t history = 1000;                      // messages kept for pollers that fall behind
  std::size_t backlog = 50;                        // messages a new client is shown
  std::chrono::milliseconds poll_timeout{25'000};  // an empty answer after this
};

class ChatRoom {
 public:
  explicit ChatRoom(RoomOptions options = {});

  // A WebSocket client joined: it gets the backlog, then every new message.
  void join(const httpkit::ChannelPtr& websocket);

  // Adds a message from any client, answers the waiting polls and publishes
  // it to the WebSocket clients. Returns its id.
  uint64_t post(std::string_view name, std::string_view text);

  // A long-poll for the messages after `since`: answered at once when there
  // are some, else when the next message comes or at the poll timeout.
  void poll(const httpkit::ChannelPtr& channel, uint64_t since);
  // The poll's connection closed: forget it.
  void forget_poll(const httpkit::Channel* channel);

 private:
  struct Message {
    uint64_t id;
    std::string json;  // {"id":..,"name":..,"text":..}
  };
  struct Waiter {
    httpkit::ChannelPtr channel;
    uint64_t since;
    httpkit::ScheduledTask timeout;
  };

  // {"messages":[...],"last":N} with the messages after `since` (at most
  // the backlog when `since` is 0). Caller holds mutex_.
  std::string batch_after(uint64_t since) const;
  void expire_poll(const httpkit::ChannelPtr& channel);
  static void answer_poll(const httpkit::ChannelPtr& channel, std::string batch);

  const RoomOptions options_;
  httpkit::Topic websockets_;

  // Sends never happen under this lock: a send may run the channel's
  // on_close inline, which comes back here.
  mutable std::mutex mutex_;
  std::deque<Message> log_;
  uint64_t last_id_ = 0;
  std::unordered_map<const httpkit::Channel*, Waiter> waiters_;
};

}  // namespace chat
