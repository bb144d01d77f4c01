// The parts of the channel API that are not tied to a loop: as_channel,
// the process-wide task timer, server-sent events.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "httpkit/channel.hpp"
#include "io/event_loop.hpp"
#include "io/scheduled_tasks.hpp"
#include "server/websocket_accept.hpp"
#include "ws/handshake.hpp"

namespace httpkit {

namespace {

// One loop thread for schedule_task, started on first use.
class TimerThread {
 public:
  static TimerThread& instance() {
    static TimerThread timer;
    return timer;
  }
  std::function<void()> schedule(std::chrono::milliseconds delay, std::function<void()> task) {
    return tasks_->schedule(delay, std::move(task));
  }
  ~TimerThread() {
    loop_.post([this] { tasks_.reset(); });
    loop_.stop();
    thread_.join();
  }

 private:
  TimerThread() : tasks_(std::make_unique<io::ScheduledTasks>(loop_)) {
    std::mutex m;
    std::condition_variable cv;
    bool started = false;
    thread_ = std::thread([&] {
      loop_.post([&] {
        std::lock_guard lock(m);
        started = true;
        cv.notify_one();
      });
      loop_.run();
    });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return started; });  // in_loop_thread() is valid from here on
  }

  io::EventLoop loop_;
  std::unique_ptr<io::ScheduledTasks> tasks_;
  std::thread thread_;
};

}  // namespace

ScheduledTask schedule_task(std::chrono::milliseconds delay, std::function<void()> task) {
  return ScheduledTask(TimerThread::instance().schedule(delay, std::move(task)));
}

namespace {

bool asks_for_websocket(const Request& request) {
  for (std::string_view value : request.header_values("upgrade")) {
    while (!value.empty()) {
      std::size_t comma = value.find(',');
      std::string_view token = value.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
      if (iequals(token, "websocket")) return true;
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace

Response as_channel(const Request& request, std::shared_ptr<const ChannelHandlers> handlers) {
  Response response;
  if (!asks_for_websocket(request)) {
    response.body = ChannelBody{std::move(handlers), nullptr};
    return response;
  }
  ws::UpgradeOptions options;
  options.subprotocols = handlers->subprotocols;
  options.deflate.enabled = handlers->permessage_deflate;
  ws::UpgradeResponse upgrade =
      ws::accept_upgrade(request.method(), request.version_minor(), request.headers(), options);
  if (upgrade.status != 101) {
    if (handlers->on_handshake_error) handlers->on_handshake_error(request, upgrade.error);
    response = Response::text(std::string(upgrade.error) + "\n", upgrade.status);
    for (Header& h : upgrade.headers())
      response.headers.push_back(std::move(h));
    return response;
  }
  auto accept = std::make_shared<WebSocketAccept>();
  accept->headers = upgrade.headers();
  accept->deflate = upgrade.deflate;
  response.status = 101;
  response.body = ChannelBody{std::move(handlers), std::move(accept)};
  return response;
}

HandshakeCheck websocket_handshake_check(const Request& request) {
  const ws::UpgradeResponse r =
      ws::check_upgrade_request(request.method(), request.version_minor(), request.headers());
  return {r.status == 101, r.status, r.error};
}

// ------------------------------------------------------- server-sent events

std::string EventStream::format(std::string_view data, std::string_view event,
                                std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 24);
  auto field = [&out](std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.push_back('\n');
  };
  // A field value cannot hold a line break: strip them from event and id,
  // and split data into one `data:` line per line.
  auto one_line = [](std::string_view v) {
    std::string s(v);
    for (char& ch : s)
      if (ch == '\n' || ch == '\r') ch = ' ';
    return s;
  };
  if (!event.empty()) field("event", one_line(event));
  if (!id.empty()) field("id", one_line(id));
  std::size_t start = 0;
  for (;;) {
    std::size_t eol = data.find_first_of("\r\n", start);
    field("data", data.substr(start, eol == std::string_view::npos ? eol : eol - start));
    if (eol == std::string_view::npos) break;
    start = eol + ((data[eol] == '\r' && eol + 1 < data.size() && data[eol + 1] == '\n') ? 2 : 1);
  }
  out.push_back('\n');
  return out;
}

EventStream::EventStream(ChannelPtr channel, std::chrono::milliseconds heartbeat)
    : channel_(std::move(channel)), heartbeat_(heartbeat) {
  Response head;
  head.header("Content-Type", "text/event-stream; charset=utf-8");
  head.header("Cache-Control", "no-cache");
  head.header("X-Accel-Buffering", "no");
  head.body = std::string(": stream opened\n\n");
  channel_->send_response(std::move(head), /*close_after=*/false);
  arm_heartbeat();
}

EventStream::~EventStream() {
  stopped_->store(true);
}

// Each beat schedules the next on the channel's loop; the chain ends when
// the stream is closed or destroyed, or the channel closes.
void EventStream::arm_heartbeat() {
  if (heartbeat_.count() <= 0) return;
  struct Beat {
    static void schedule(const ChannelPtr& ch, std::shared_ptr<std::atomic<bool>> stopped,
                         std::chrono::milliseconds every) {
      std::weak_ptr<Channel> weak = ch;
      ch->schedule(every, [weak, stopped, every] {
        auto channel = weak.lock();
        if (!channel || stopped->load() || !channel->open()) return;
        channel->send(": heartbeat\n\n", false);
        schedule(channel, stopped, every);
      });
    }
  };
  Beat::schedule(channel_, stopped_, heartbeat_);
}

bool EventStream::send(std::string_view data, std::string_view event, std::string_view id) {
  return channel_->send(format(data, event, id), false);
}

bool EventStream::comment(std::string_view text) {
  std::string line = ": ";
  line.append(text);
  line.append("\n\n");
  return channel_->send(std::move(line), false);
}

void EventStream::close() {
  stopped_->store(true);
  channel_->close();
}

}  // namespace httpkit
