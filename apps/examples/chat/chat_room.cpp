#include "chat_room.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace chat {

ChatRoom::ChatRoom(RoomOptions options) : options_(options) {}

std::string ChatRoom::batch_after(uint64_t since) const {
  // Ids are consecutive, so the first message after `since` is found by index.
  const uint64_t first_id = log_.empty() ? last_id_ + 1 : log_.front().id;
  std::size_t begin = since < first_id ? 0 : std::size_t(since + 1 - first_id);
  if (since == 0 && log_.size() > options_.backlog) begin = log_.size() - options_.backlog;
  std::string out = "{\"messages\":[";
  for (std::size_t i = begin; i < log_.size(); ++i) {
    if (i != begin) out.push_back(',');
    out.append(log_[i].json);
  }
  out.append("],\"last\":");
  out.append(std::to_string(last_id_));
  out.push_back('}');
  return out;
}

void ChatRoom::join(const httpkit::ChannelPtr& websocket) {
  std::string backlog;
  {
    // Snapshot and subscribe together: a message posted after the snapshot
    // is published after the subscription, so it cannot slip between.
    std::lock_guard lock(mutex_);
    if (!log_.empty()) backlog = batch_after(0);
    websockets_.subscribe(websocket);
  }
  if (!backlog.empty()) websocket->send(std::move(backlog));
}

uint64_t ChatRoom::post(std::string_view name, std::string_view text) {
  std::string live;
  std::vector<std::pair<Waiter, std::string>> answers;
  uint64_t id;
  {
    std::lock_guard lock(mutex_);
    id = ++last_id_;
    // Serialized once, here; batches splice the stored text together.
    // (The caller checked that name and text are UTF-8, which dump needs.)
    nlohmann::json message{{"id", id}, {"name", name}, {"text", text}};
    log_.push_back({id, message.dump()});
    if (log_.size() > options_.history) log_.pop_front();

    for (auto& [channel, waiter] : waiters_) {
      std::string batch = batch_after(waiter.since);
      answers.emplace_back(std::move(waiter), std::move(batch));
    }
    waiters_.clear();
    live = "{\"messages\":[" + log_.back().json + "],\"last\":" + std::to_string(id) + "}";
  }
  for (auto& [waiter, batch] : answers) {
    waiter.timeout.cancel();
    answer_poll(waiter.channel, std::move(batch));
  }
  websockets_.publish(std::move(live));
  return id;
}

void ChatRoom::poll(const httpkit::ChannelPtr& channel, uint64_t since) {
  std::weak_ptr<httpkit::Channel> weak = channel;
  auto timeout = channel->schedule(options_.poll_timeout, [this, weak] {
    if (auto ch = weak.lock()) expire_poll(ch);
  });
  std::string batch;
  {
    std::lock_guard lock(mutex_);
    if (since > last_id_) since = 0;  // a cursor from before a restart
    if (last_id_ > since) {
      batch = batch_after(since);
    } else {
      waiters_[channel.get()] = Waiter{channel, since, timeout};
      return;
    }
  }
  timeout.cancel();
  answer_poll(channel, std::move(batch));
}

void ChatRoom::expire_poll(const httpkit::ChannelPtr& channel) {
  std::string empty;
  {
    std::lock_guard lock(mutex_);
    auto it = waiters_.find(channel.get());
    if (it == waiters_.end() || it->second.channel != channel) return;  // answered already
    waiters_.erase(it);
    empty = "{\"messages\":[],\"last\":" + std::to_string(last_id_) + "}";
  }
  answer_poll(channel, std::move(empty));
}

void ChatRoom::forget_poll(const httpkit::Channel* channel) {
  httpkit::ScheduledTask timeout;
  {
    std::lock_guard lock(mutex_);
    auto it = waiters_.find(channel);
    if (it == waiters_.end()) return;
    timeout = std::move(it->second.timeout);
    waiters_.erase(it);  // drops our reference to the channel
  }
  timeout.cancel();
}

void ChatRoom::answer_poll(const httpkit::ChannelPtr& channel, std::string batch) {
  httpkit::Response response(200, std::move(batch));
  response.header("Content-Type", "application/json");
  response.header("Cache-Control", "no-store");
  channel->send_response(std::move(response), /*close_after=*/true);
}

}  // namespace chat
