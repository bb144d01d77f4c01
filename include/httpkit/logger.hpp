// How the server and the client report what they cannot return to a
// caller: a handler or a callback that threw, a worker process that died.
// Both take the same kind of Logger option; null means log_to_stderr.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string_view>

namespace httpkit {

enum class LogLevel : uint8_t { error, warning, info };

using Logger = std::function<void(LogLevel level, std::string_view message)>;

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
