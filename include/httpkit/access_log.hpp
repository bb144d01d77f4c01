// The access log: one line per response in the combined log format
// (Apache's and nginx's default), buffered and written by a thread of its
// own, so a slow disk never stalls an event loop.
//
//   auto log = std::make_shared<httpkit::AccessLog>("/var/log/app/access.log");
//   httpkit::Server server(httpkit::wrap_access_log(app, log), options);
//   // logrotate: mv access.log access.log.1; kill -USR1 <pid>
//   httpkit::AccessLog::reopen_on_signal(SIGUSR1);
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "httpkit/server.hpp"

namespace httpkit {

class AccessLog {
 public:
  struct Options {
    std::size_t max_buffered = 8u << 20;          // lines beyond this are dropped, and counted
    std::chrono::milliseconds flush_every{1000};  // longest a line waits in memory
  };

  // Opens (appends to, creates 0644) `path`. Throws std::system_error.
  explicit AccessLog(std::string path);
  AccessLog(std::string path, Options options);
  ~AccessLog();  // writes what is buffered, then closes
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Queues one line (a newline is added). Safe from any thread.
  void write(std::string_view line);
  // Asks the writer to reopen the file (after a rotation). Async-signal-safe.
  void reopen();
  // Waits until everything queued so far is written.
  void flush();
  // Lines dropped because the buffer was full (a stalled disk).
  std::size_t dropped() const;

  // Makes `signal` call reopen() on every AccessLog alive (SIGUSR1 by
  // convention). Call once, before starting threads that block signals.
  static void reopen_on_signal(int signal);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The combined log format line for a request and its response:
//   127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 2326 "ref" "agent"
// with the request id appended when wrap_request_id chose one.
std::string combined_log_line(const Request& request, const Response& response,
                              std::chrono::system_clock::time_point when);

// Logs every response of `next` to `log`.
Handler wrap_access_log(Handler next, std::shared_ptr<AccessLog> log);

}  // namespace httpkit
