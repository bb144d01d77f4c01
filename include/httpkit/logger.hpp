// How the server and the client report what they cannot return to a
// caller: a handler or a callback that threw, a worker process that died.
// Both take the same kind of Logger option; null means log_to_stderr.
//
// The server also has http-kit's three finer hooks (ServerOptions): an
// error logger that gets the exception itself, a warn logger, and an event
// logger that gets a stable name (server_events below) for each notable
// thing the server did, for counters and alerts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <string_view>

namespace httpkit {

enum class LogLevel : uint8_t { error, warning, info };

using Logger = std::function<void(LogLevel level, std::string_view message)>;

// http-kit's error-logger: `error` is what was thrown (null when there was
// no exception, e.g. a worker process that failed to start).
using ErrorLogger = std::function<void(std::string_view message, std::exception_ptr error)>;
// http-kit's warn-logger.
using WarnLogger = std::function<void(std::string_view message)>;
// http-kit's event-logger: one call per event, with a name from server_events.
// Called on loop and worker threads: keep it short (count, don't block).
using EventLogger = std::function<void(std::string_view event)>;

// The event names the server emits. They are stable: match on them.
namespace server_events {
// A handler threw; the client got a 500 (the exception goes to the error logger).
inline constexpr std::string_view handler_threw = "httpkit.server.handler.threw";
// The worker queue (or a custom executor) refused a request: 503.
inline constexpr std::string_view queue_full = "httpkit.server.status.503.queue-full";
// max_connections (or the descriptor limit) reached: accepting pauses.
inline constexpr std::string_view connection_limit = "httpkit.server.connection-limit";
// A worker process exited while the server was running; it is restarted.
inline constexpr std::string_view worker_died = "httpkit.server.worker.died";
// A channel's peer read too slowly: the queue overflowed and it was closed.
inline constexpr std::string_view channel_overflow_closed =
    "httpkit.server.channel.overflow-closed";
// A connection closed by a deadline, one name per kind of deadline.
inline constexpr std::string_view timeout_first_request = "httpkit.server.timeout.first-request";
inline constexpr std::string_view timeout_head = "httpkit.server.timeout.head";  // 408
inline constexpr std::string_view timeout_body = "httpkit.server.timeout.body";  // 408
inline constexpr std::string_view timeout_idle = "httpkit.server.timeout.idle";
inline constexpr std::string_view timeout_write = "httpkit.server.timeout.write";
inline constexpr std::string_view timeout_handshake = "httpkit.server.timeout.handshake";
// A graceful stop's timeout ran out and closed connections still busy.
inline constexpr std::string_view stop_timeout = "httpkit.server.stop.timeout";
}  // namespace server_events

inline std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warning:
      return "warning";
    case LogLevel::info:
      return "info";
  }
  return "?";
}

inline void log_to_stderr(LogLevel level, std::string_view message) {
  const std::string_view l = to_string(level);
  std::fprintf(stderr, "httpkit %.*s: %.*s\n", int(l.size()), l.data(), int(message.size()),
               message.data());
}

}  // namespace httpkit
