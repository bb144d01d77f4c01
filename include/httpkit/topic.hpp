// Publish/subscribe across threads: a message published to a topic
// reaches every subscribed channel on every event loop of the process,
// each through its own loop (one posted task per loop, not per channel).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "httpkit/channel.hpp"

namespace httpkit {

class Topic {
 public:
  Topic();
  ~Topic();
  Topic(const Topic&) = delete;
  Topic& operator=(const Topic&) = delete;

  // Safe from any thread. A channel that closes leaves the topic by itself.
  void subscribe(const ChannelPtr& channel);
  void unsubscribe(const ChannelPtr& channel);

  // Sends `message` to every subscriber (text, or binary on WebSocket;
  // on HTTP channels a chunk that keeps the response open). Returns at
  // once; each subscriber's queue limits apply as for send().
  void publish(std::string message, bool binary = false);

  // Subscribers at the last count (approximate while loops are busy).
  std::size_t size() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace httpkit
