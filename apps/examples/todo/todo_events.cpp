#include "todo_events.hpp"

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "httpkit/topic.hpp"

namespace todo {

struct TodoFeed::State {
  httpkit::Topic topic;
  std::mutex mutex;
  // An EventStream's heartbeat lasts as long as the EventStream, so each
  // one is kept here until its connection closes.
  std::unordered_map<const httpkit::Channel*, std::unique_ptr<httpkit::EventStream>> streams;

  void forget(const httpkit::Channel* channel) {
    std::unique_ptr<httpkit::EventStream> gone;  // destroyed outside the lock
    std::lock_guard lock(mutex);
    auto it = streams.find(channel);
    if (it == streams.end()) return;
    gone = std::move(it->second);
    streams.erase(it);
  }
};

namespace {

const char* event_name(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::created:
      return "created";
    case ChangeKind::updated:
      return "updated";
    case ChangeKind::deleted:
      return "deleted";
  }
  return "updated";
}

}  // namespace

TodoFeed::TodoFeed() : state_(std::make_shared<State>()) {
  // The callbacks hold the state weakly: a connection that outlives the
  // feed (at shutdown) finds nothing to update.
  std::weak_ptr<State> weak = state_;
  auto handlers = std::make_shared<httpkit::ChannelHandlers>();
  handlers->on_open = [weak](const httpkit::ChannelPtr& channel) {
    auto state = weak.lock();
    if (!state) return;
    // Sends the head first, then subscribes: no event can reach the
    // connection before its text/event-stream head.
    auto stream = std::make_unique<httpkit::EventStream>(channel, std::chrono::seconds(15));
    state->topic.subscribe(channel);
    {
      std::lock_guard lock(state->mutex);
      state->streams[channel.get()] = std::move(stream);
    }
    // A send may close the channel (and run on_close) before we stored
    // the stream; then nothing would ever remove it.
    if (!channel->open()) state->forget(channel.get());
  };
  handlers->on_close = [weak](const httpkit::ChannelPtr& channel, httpkit::CloseStatus) {
    if (auto state = weak.lock()) state->forget(channel.get());
  };
  handlers_ = std::move(handlers);
}

httpkit::Response TodoFeed::listen(const httpkit::Request& request) const {
  return httpkit::as_channel(request, handlers_);
}

void TodoFeed::publish(const Change& change) {
  const nlohmann::json data = change.todo;
  state_->topic.publish(httpkit::EventStream::format(data.dump(), event_name(change.kind),
                                                     std::to_string(change.version)));
}

}  // namespace todo
