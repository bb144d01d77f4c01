#include "server/server_log.hpp"

#include <string>

namespace httpkit::server {

void resolve_loggers(ServerOptions& options) {
  if (!options.logger) options.logger = log_to_stderr;
  if (!options.error_logger)
    options.error_logger = [logger = options.logger](std::string_view message,
                                                     std::exception_ptr error) {
      if (!error) return logger(LogLevel::error, message);
      logger(LogLevel::error, std::string(message) + ": " + describe(error));
    };
  if (!options.warn_logger)
    options.warn_logger = [logger = options.logger](std::string_view message) {
      logger(LogLevel::warning, message);
    };
}

// A logger that throws must not take a loop thread down with it.
void log_error(const ServerOptions& options, std::string_view message, std::exception_ptr error) {
  try {
    if (options.error_logger) options.error_logger(message, std::move(error));
  } catch (...) {
  }
}

void emit_event(const ServerOptions& options, std::string_view event) {
  try {
    options.event_logger(event);
  } catch (...) {
  }
}

void log_warn(const ServerOptions& options, std::string_view message) {
  try {
    if (options.warn_logger) options.warn_logger(message);
  } catch (...) {
  }
}

void log_info(const ServerOptions& options, std::string_view message) {
  try {
    if (options.logger) options.logger(LogLevel::info, message);
  } catch (...) {
  }
}

std::string describe(std::exception_ptr error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "something not a std::exception";
  }
}

}  // namespace httpkit::server
