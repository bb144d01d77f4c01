#include "httpkit/topic.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "server/loop_server.hpp"
#include "server/server_channel.hpp"

namespace httpkit {

// The subscribers that live on one loop. Only that loop's thread touches
// `members`, so publishing takes no lock per subscriber.
struct LoopGroup {
  server::LoopServer* loop = nullptr;  // null for channels not of a server loop
  std::vector<std::weak_ptr<Channel>> members;
};

struct Topic::Impl {
  mutable std::mutex mutex;
  std::unordered_map<server::LoopServer*, std::shared_ptr<LoopGroup>> groups;
  std::atomic<std::size_t> count{0};

  std::shared_ptr<LoopGroup> group_of(server::LoopServer* loop) {
    std::lock_guard lock(mutex);
    auto& group = groups[loop];
    if (!group) {
      group = std::make_shared<LoopGroup>();
      group->loop = loop;
    }
    return group;
  }

  // Runs `task` on the group's loop (now, if this is that loop's thread).
  static void on_loop(const std::shared_ptr<LoopGroup>& group, std::function<void()> task) {
    if (!group->loop || group->loop->in_loop_thread()) {
      task();
    } else {
      group->loop->post(std::move(task));
    }
  }
};

namespace {

server::LoopServer* loop_of(const ChannelPtr& channel) {
  auto* server_channel = dynamic_cast<server::ServerChannel*>(channel.get());
  return server_channel ? &server_channel->loop() : nullptr;
}

}  // namespace

Topic::Topic() : impl_(std::make_shared<Impl>()) {}
Topic::~Topic() = default;

void Topic::subscribe(const ChannelPtr& channel) {
  auto group = impl_->group_of(loop_of(channel));
  std::weak_ptr<Impl> weak_impl = impl_;
  std::weak_ptr<Channel> weak = channel;
  Impl::on_loop(group, [group, weak, weak_impl] {
    group->members.push_back(weak);
    if (auto impl = weak_impl.lock()) impl->count.fetch_add(1, std::memory_order_relaxed);
  });
}

void Topic::unsubscribe(const ChannelPtr& channel) {
  auto group = impl_->group_of(loop_of(channel));
  std::weak_ptr<Impl> weak_impl = impl_;
  Channel* target = channel.get();
  Impl::on_loop(group, [group, target, weak_impl] {
    auto& m = group->members;
    auto it = std::find_if(m.begin(), m.end(), [target](const std::weak_ptr<Channel>& w) {
      auto ch = w.lock();
      return ch.get() == target;
    });
    if (it == m.end()) return;
    m.erase(it);
    if (auto impl = weak_impl.lock()) impl->count.fetch_sub(1, std::memory_order_relaxed);
  });
}

void Topic::publish(std::string message, bool binary) {
  std::vector<std::shared_ptr<LoopGroup>> groups;
  {
    std::lock_guard lock(impl_->mutex);
    groups.reserve(impl_->groups.size());
    for (auto& [loop, group] : impl_->groups)
      groups.push_back(group);
  }
  auto shared = std::make_shared<const std::string>(std::move(message));
  std::weak_ptr<Impl> weak_impl = impl_;
  for (auto& group : groups) {
    Impl::on_loop(group, [group, shared, binary, weak_impl] {
      // Collect first, send after: a send may close a channel, and its
      // on_close may unsubscribe, which edits the list.
      std::vector<ChannelPtr> live;
      auto& m = group->members;
      std::size_t before = m.size();
      m.erase(std::remove_if(m.begin(), m.end(),
                             [&](const std::weak_ptr<Channel>& w) {
                               auto ch = w.lock();
                               if (!ch || !ch->open()) return true;
                               live.push_back(std::move(ch));
                               return false;
                             }),
              m.end());
      if (auto impl = weak_impl.lock())
        impl->count.fetch_sub(before - m.size(), std::memory_order_relaxed);
      for (const ChannelPtr& ch : live) {
        if (binary) {
          ch->send_binary(*shared);
        } else {
          ch->send(*shared, false);
        }
      }
    });
  }
}

std::size_t Topic::size() const {
  return impl_->count.load(std::memory_order_relaxed);
}

}  // namespace httpkit
