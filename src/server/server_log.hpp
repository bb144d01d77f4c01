// Where the server reports what it cannot return to a caller: the error,
// warn and event loggers of ServerOptions (logger.hpp), with their
// fallbacks. Every log or event site of the server goes through here.
#pragma once

#include <exception>
#include <string_view>

#include "httpkit/server.hpp"

namespace httpkit::server {

// Fills in null error and warn loggers from `logger` (itself defaulted to
// log_to_stderr), so that the sites below only test the event logger.
void resolve_loggers(ServerOptions& options);

void emit_event(const ServerOptions& options, std::string_view event);
// Cheap when no event logger is set: the sites are on hot paths.
inline void log_event(const ServerOptions& options, std::string_view event) {
  if (options.event_logger) emit_event(options, event);
}
void log_error(const ServerOptions& options, std::string_view message, std::exception_ptr error);
void log_warn(const ServerOptions& options, std::string_view message);
void log_info(const ServerOptions& options, std::string_view message);

// The message for a caught exception: its what(), or a note that it was
// not a std::exception.
std::string describe(std::exception_ptr error);

}  // namespace httpkit::server
