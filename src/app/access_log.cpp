#include "httpkit/access_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <mutex>
#include <system_error>
#include <thread>

#include "httpkit/middleware.hpp"

namespace httpkit {
namespace {

// Bumped by the signal handler; each log's writer compares it with the
// value it last saw (a lock-free atomic is async-signal-safe).
std::atomic<uint64_t> g_reopen_generation{0};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

extern "C" void on_reopen_signal(int) {
  g_reopen_generation.fetch_add(1);
}

int open_log(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "access log " + path);
  return fd;
}

void write_fully(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk loses lines, never the server
    bytes.remove_prefix(std::size_t(n));
  }
}

// Quotes and control bytes escaped as nginx does (\x22), so a client
// cannot forge lines or fields.
void append_escaped(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
}

std::string body_bytes(const Request& request, const Response& response) {
  if (request.method() == "HEAD") return "0";
  if (auto* s = std::get_if<std::string>(&response.body)) return std::to_string(s->size());
  if (auto* v = std::get_if<std::string_view>(&response.body)) return std::to_string(v->size());
  if (auto* f = std::get_if<FileBody>(&response.body)) {
    if (f->length) return std::to_string(*f->length);
    // The rest of the file from `offset`: serve_files hands it over open.
    struct stat st {};
    const int rc = f->file ? ::fstat(f->file->fd(), &st) : ::stat(f->path.c_str(), &st);
    if (rc == 0 && uint64_t(st.st_size) >= f->offset)
      return std::to_string(uint64_t(st.st_size) - f->offset);
  }
  if (std::holds_alternative<std::monostate>(response.body)) return "0";
  return "-";  // a channel: its size is not known when it starts
}

}  // namespace

struct AccessLog::State {
  std::string path;
  Options options;
  int fd;
  std::mutex mutex;
  std::condition_variable wake;     // the writer: lines, reopen or stop
  std::condition_variable written;  // flush(): the writer caught up
  std::string pending;
  uint64_t queued = 0, done = 0;  // bytes queued and written, ever
  uint64_t flush_target = 0;      // flush() waits until `done` reaches it
  bool stopping = false;
  std::atomic<bool> reopen_asked{false};
  std::atomic<std::size_t> dropped{0};
  uint64_t seen_generation = g_reopen_generation.load();
  std::thread writer;

  void run() {
    std::string batch;
    std::unique_lock lock(mutex);
    for (;;) {
      // A predicate, not a bare wait: a flush() or stop that came while the
      // writer was busy writing must not wait for the next period.
      wake.wait_for(lock, options.flush_every, [&] { return stopping || flush_target > done; });
      batch.swap(pending);
      const uint64_t upto = queued;
      const bool last = stopping;
      lock.unlock();
      const uint64_t generation = g_reopen_generation.load();
      if (reopen_asked.exchange(false) || generation != seen_generation) {
        seen_generation = generation;
        try {
          const int fresh = open_log(path);
          ::close(fd);
          fd = fresh;
        } catch (const std::system_error&) {
          // Keep writing to the old file rather than lose lines.
        }
      }
      write_fully(fd, batch);
      batch.clear();
      lock.lock();
      done = upto;
      written.notify_all();
      if (last && pending.empty()) return;
    }
  }
};

AccessLog::AccessLog(std::string path) : AccessLog(std::move(path), Options{}) {}

AccessLog::AccessLog(std::string path, Options options) : state_(std::make_unique<State>()) {
  state_->fd = open_log(path);
  state_->path = std::move(path);
  state_->options = options;
  state_->writer = std::thread([s = state_.get()] { s->run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_one();
  state_->writer.join();
  ::close(state_->fd);
}

void AccessLog::write(std::string_view line) {
  std::lock_guard lock(state_->mutex);
  if (state_->pending.size() + line.size() + 1 > state_->options.max_buffered) {
    state_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  state_->pending.append(line).push_back('\n');
  state_->queued += line.size() + 1;
}

void AccessLog::reopen() {
  state_->reopen_asked.store(true);
}

void AccessLog::flush() {
  std::unique_lock lock(state_->mutex);
  const uint64_t target = state_->queued;
  state_->flush_target = std::max(state_->flush_target, target);
  state_->wake.notify_one();
  state_->written.wait(lock, [&] { return state_->done >= target; });
}

std::size_t AccessLog::dropped() const {
  return state_->dropped.load();
}

void AccessLog::reopen_on_signal(int signal) {
  struct sigaction action {};
  action.sa_handler = on_reopen_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(signal, &action, nullptr);
}

std::string combined_log_line(const Request& request, const Response& response,
                              std::chrono::system_clock::time_point when) {
  static const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[40];
  std::snprintf(date, sizeof date, "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string line;
  line.reserve(160);
  const std::string& addr = request.remote_addr();
  line += addr.empty() ? "-" : addr;
  line += " - - ";
  line += date;
  line += " \"";
  append_escaped(line, request.method());
  line += ' ';
  append_escaped(line, request.target());
  line += ' ';
  line += request.protocol();
  line += "\" ";
  line += std::to_string(response.status);
  line += ' ';
  line += body_bytes(request, response);
  line += " \"";
  append_escaped(line, request.header("referer").value_or("-"));
  line += "\" \"";
  append_escaped(line, request.header("user-agent").value_or("-"));
  line += '"';
  if (const std::string_view id = current_request_id(); !id.empty()) {
    line += " \"";
    append_escaped(line, id);
    line += '"';
  }
  return line;
}

Handler wrap_access_log(Handler next, std::shared_ptr<AccessLog> log) {
  return [next = std::move(next), log = std::move(log)](const Request& request) {
    Response response = next(request);
    log->write(combined_log_line(request, response, std::chrono::system_clock::now()));
    return response;
  };
}

}  // namespace httpkit
