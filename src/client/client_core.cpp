#include "client/client_core.hpp"

#include <future>

namespace httpkit::client {

ClientCore::ClientCore(ClientConfig config, io::EventLoop* external_loop)
    : config_(std::move(config)),
      owned_loop_(external_loop ? nullptr : std::make_unique<io::EventLoop>()),
      loop_(external_loop ? external_loop : owned_loop_.get()),
      loop_thread_(std::this_thread::get_id()) {
  if (config_.max_connections == 0) config_.max_connections = 1;
  header_storage_.resize(std::max<std::size_t>(config_.max_response_headers, 1));
  kind_ = loop_->register_kind(&ClientCore::on_io, this);
  resolver_ = std::make_unique<Resolver>(*loop_, config_.resolver_threads, config_.dns_cache_ttl,
                                         config_.resolve);
}

ClientCore::~ClientCore() {
  // shutdown() ran (Client's destructor); free what it parked.
  dead_exchanges_.clear();
  dead_connections_.clear();
  connections_.clear();
  resolver_.reset();
}

void ClientCore::start() {
  if (!owned_loop_) return;
  std::promise<void> running;
  auto ready = running.get_future();
  thread_ = std::thread([this, &running] {
    loop_thread_ = std::this_thread::get_id();
    running.set_value();
    loop_->run();
  });
  ready.wait();
}

void ClientCore::shutdown() {
  auto stop_everything = [this] {
    bury();
    shut_down_ = true;
    std::vector<std::shared_ptr<Exchange>> live;
    for (Exchange* ex = live_; ex; ex = ex->live_next)
      live.push_back(ex->self);
    for (auto& ex : live) {
      if (ex->phase != ExchangePhase::done) fail(*ex, ErrorKind::cancelled, "the client shut down");
    }
    std::vector<UpstreamConnection*> open;
    for (auto& [id, c] : connections_)
      open.push_back(c.get());
    for (UpstreamConnection* c : open) {
      if (c->state != UpstreamState::closed) close_connection(*c);
    }
    pools_.clear();
  };
  if (owned_loop_) {
    if (!thread_.joinable()) return;
    loop_->post([this, stop_everything] {
      stop_everything();
      loop_->stop();
    });
    thread_.join();
  } else {
    stop_everything();
  }
  bury();
}

void ClientCore::bury() {
  if (!dead_connections_.empty()) dead_connections_.clear();
  if (!dead_exchanges_.empty()) dead_exchanges_.clear();
  if (!maybe_empty_pools_.empty()) sweep_pools();
}

void ClientCore::post_to_loop(std::function<void(ClientCore&)> task) {
  loop_->post([weak = weak_from_this(), task = std::move(task)] {
    if (auto self = weak.lock()) {
      self->bury();
      task(*self);
    }
  });
}

// ------------------------------------------------------------ thread-safe

void ClientCore::submit(std::shared_ptr<Exchange> ex) {
  ex->core = this;
  if (shut_down_) {
    // No loop to run the callback on any more: answer here.
    ClientResponse r;
    r.error = {ErrorKind::cancelled, TimeoutKind::none, 0, "the client shut down"};
    r.url = ex->opts.url;
    r.opts = std::move(ex->opts);
    guarded([&] { ex->callback(std::move(r)); }, "response callback");
    return;
  }
  if (on_loop_thread()) {
    ++submitting_;
    begin(std::move(ex));
    --submitting_;
    return;
  }
  post_to_loop([ex](ClientCore& core) { core.begin(ex); });
}

void ClientCore::cancel(std::weak_ptr<Exchange> exchange) {
  post_to_loop([exchange](ClientCore& core) {
    auto ex = exchange.lock();
    if (ex && ex->phase != ExchangePhase::done) core.fail(*ex, ErrorKind::cancelled, "cancelled");
  });
}

void ClientCore::pause(std::weak_ptr<Exchange> exchange) {
  post_to_loop([exchange](ClientCore&) {
    if (auto ex = exchange.lock(); ex && ex->phase != ExchangePhase::done) ex->paused = true;
  });
}

void ClientCore::resume(std::weak_ptr<Exchange> exchange) {
  post_to_loop([exchange](ClientCore&) {
    auto ex = exchange.lock();
    if (!ex || !ex->paused || ex->phase == ExchangePhase::done) return;
    ex->paused = false;
    if (ex->conn) ex->conn->resume_reading();
  });
}

ClientStats ClientCore::stats() const {
  ClientStats s;
  s.connections_opened = connections_opened_.load(std::memory_order_relaxed);
  s.requests_sent = requests_sent_.load(std::memory_order_relaxed);
  s.requests_reused = requests_reused_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.open_connections = open_connections_.load(std::memory_order_relaxed);
  s.idle_connections = idle_connections_.load(std::memory_order_relaxed);
  return s;
}

// ------------------------------------------------------------ descriptors

bool ClientCore::register_fd(UpstreamConnection& c) {
  const int fd = c.fd();
  if (std::size_t(fd) >= by_fd_.size()) by_fd_.resize(std::size_t(fd) + 1024, nullptr);
  by_fd_[std::size_t(fd)] = &c;
  return loop_->add(fd, io::kReadable | io::kWritable, kind_);
}

void ClientCore::unregister_fd(int fd) {
  if (fd < 0 || std::size_t(fd) >= by_fd_.size()) return;
  loop_->remove(fd);
  by_fd_[std::size_t(fd)] = nullptr;
}

UpstreamConnection* ClientCore::connection_by_id(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void ClientCore::log(LogLevel level, std::string_view message) const {
  const std::string line = "client: " + std::string(message);
  if (config_.logger) {
    config_.logger(level, line);
  } else {
    log_to_stderr(level, line);
  }
}

void ClientCore::on_io(void* self_ptr, int fd, uint32_t events) {
  auto* self = static_cast<ClientCore*>(self_ptr);
  self->bury();
  if (std::size_t(fd) >= self->by_fd_.size()) return;
  if (UpstreamConnection* c = self->by_fd_[std::size_t(fd)]) c->on_event(events);
}

}  // namespace httpkit::client
