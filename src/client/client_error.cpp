// The client's errors as text: one to_string per kind, and the line a
// program prints for a failed request.
#include <string>

#include "httpkit/client.hpp"

namespace httpkit {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::none:
      return "none";
    case ErrorKind::invalid_request:
      return "invalid request";
    case ErrorKind::dns:
      return "dns";
    case ErrorKind::connect:
      return "connect";
    case ErrorKind::tls:
      return "tls";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::reset:
      return "reset";
    case ErrorKind::protocol:
      return "protocol";
    case ErrorKind::proxy:
      return "proxy";
    case ErrorKind::body_too_large:
      return "body too large";
    case ErrorKind::too_many_redirects:
      return "too many redirects";
    case ErrorKind::overloaded:
      return "overloaded";
    case ErrorKind::cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string_view to_string(TimeoutKind kind) {
  switch (kind) {
    case TimeoutKind::none:
      return "none";
    case TimeoutKind::connect:
      return "connect";
    case TimeoutKind::pool:
      return "pool";
    case TimeoutKind::idle:
      return "idle";
    case TimeoutKind::total:
      return "total";
  }
  return "unknown";
}

std::string to_string(const ClientError& error) {
  std::string out(to_string(error.kind));
  if (error.timeout != TimeoutKind::none) out += " (" + std::string(to_string(error.timeout)) + ")";
  if (!error.message.empty()) out += ": " + error.message;
  return out;
}

}  // namespace httpkit
