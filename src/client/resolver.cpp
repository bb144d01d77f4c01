#include "client/resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace httpkit::client {
namespace {

constexpr std::size_t kMaxCacheEntries = 4096;

Resolution resolve_blocking(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  addrinfo* list = nullptr;
  Resolution r;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    r.error = "cannot resolve '" + host + "': " + gai_strerror(rc);
    return r;
  }
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
        ai->ai_addrlen > sizeof(sockaddr_storage))
      continue;
    Address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    bool duplicate = false;
    for (const Address& b : r.addresses)
      duplicate |= b.length == a.length && std::memcmp(&b.storage, &a.storage, a.length) == 0;
    if (!duplicate) r.addresses.push_back(a);
  }
  freeaddrinfo(list);
  if (r.addresses.empty()) r.error = "'" + host + "' has no IPv4 or IPv6 address";
  return r;
}

}  // namespace

// What the resolver threads share with it. The threads are detached: a
// lookup can take the resolver's whole retry schedule and a loop must never
// wait for it, so stopping only clears `loop` and late answers are dropped.
struct Resolver::Work {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::string> queue;
  io::EventLoop* loop = nullptr;  // null once the resolver is gone
  std::weak_ptr<Resolver*> resolver;
};

Address Address::with_port(uint16_t port) const {
  Address a = *this;
  if (a.family() == AF_INET) {
    reinterpret_cast<sockaddr_in&>(a.storage).sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6&>(a.storage).sin6_port = htons(port);
  }
  return a;
}

std::string Address::text() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(storage).sin_addr, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

bool parse_ip_literal(const std::string& text, Address& out) {
  out = Address{};
  auto& v4 = reinterpret_cast<sockaddr_in&>(out.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    out.length = sizeof(sockaddr_in);
    return true;
  }
  auto& v6 = reinterpret_cast<sockaddr_in6&>(out.storage);
  if (inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    out.length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

Resolver::Resolver(io::EventLoop& loop, int threads, std::chrono::milliseconds ttl,
                   const std::vector<std::pair<std::string, std::string>>& overrides)
    : loop_(loop),
      thread_count_(threads < 1 ? 1 : threads),
      ttl_(ttl),
      work_(std::make_shared<Work>()),
      self_(std::make_shared<Resolver*>(this)) {
  work_->loop = &loop;
  work_->resolver = self_;
  for (const auto& [host, ip] : overrides) {
    Address a;
    if (parse_ip_literal(ip, a)) overrides_[host].push_back(a);
  }
}

Resolver::~Resolver() {
  std::lock_guard lock(work_->mutex);
  work_->loop = nullptr;
  work_->queue.clear();
  work_->wake.notify_all();
}

void Resolver::start_threads() {
  threads_started_ = true;
  for (int i = 0; i < thread_count_; ++i) {
    std::thread([work = work_] {
      std::unique_lock lock(work->mutex);
      for (;;) {
        work->wake.wait(lock, [&] { return !work->queue.empty() || !work->loop; });
        if (!work->loop) return;
        std::string host = std::move(work->queue.front());
        work->queue.pop_front();
        lock.unlock();
        Resolution r = resolve_blocking(host);
        lock.lock();
        if (!work->loop) return;
        work->loop->post([resolver = work->resolver, host = std::move(host), r = std::move(r)] {
          if (auto self = resolver.lock()) (*self)->complete(host, std::move(r));
        });
      }
    }).detach();
  }
}

bool Resolver::lookup_now(const std::string& host, Resolution& out) {
  Address literal;
  if (parse_ip_literal(host, literal)) {
    out.addresses.assign(1, literal);
    out.error.clear();
    return true;
  }
  if (auto it = overrides_.find(host); it != overrides_.end()) {
    out.addresses = it->second;
    out.error.clear();
    return true;
  }
  auto it = cache_.find(host);
  if (it == cache_.end()) return false;
  if (it->second.expires_ms <= loop_.now_ms()) {
    cache_.erase(it);
    return false;
  }
  out = it->second.resolution;
  return true;
}

uint64_t Resolver::lookup_async(const std::string& host, Callback callback) {
  const uint64_t ticket = next_ticket_++;
  ticket_host_[ticket] = host;
  auto& waiters = pending_[host];
  waiters.push_back({ticket, std::move(callback)});
  if (waiters.size() == 1) {
    ++lookups_started_;
    if (!threads_started_) start_threads();
    std::lock_guard lock(work_->mutex);
    work_->queue.push_back(host);
    work_->wake.notify_one();
  }
  return ticket;
}

void Resolver::cancel(uint64_t ticket) {
  auto t = ticket_host_.find(ticket);
  if (t == ticket_host_.end()) return;
  auto p = pending_.find(t->second);
  if (p != pending_.end()) {
    std::erase_if(p->second, [&](const Waiter& w) { return w.ticket == ticket; });
  }
  ticket_host_.erase(t);
}

void Resolver::complete(const std::string& host, Resolution resolution) {
  if (resolution.error.empty() && ttl_.count() > 0) {
    if (cache_.size() >= kMaxCacheEntries) {
      std::erase_if(cache_, [&](const auto& e) { return e.second.expires_ms <= loop_.now_ms(); });
      if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    }
    cache_[host] = {resolution, loop_.now_ms() + uint64_t(ttl_.count())};
  }
  auto p = pending_.find(host);
  if (p == pending_.end()) return;
  std::vector<Waiter> waiters = std::move(p->second);
  pending_.erase(p);
  for (Waiter& w : waiters)
    ticket_host_.erase(w.ticket);
  for (Waiter& w : waiters)
    w.callback(resolution);
}

}  // namespace httpkit::client
