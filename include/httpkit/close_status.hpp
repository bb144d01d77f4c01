// Why a channel or a WebSocket closed, as http-kit names it: the server's
// Channel (channel.hpp) and the WebSocket client (websocket_client.hpp)
// report the same statuses. The WebSocket ones mirror RFC 6455's codes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace httpkit {

enum class CloseStatus : uint8_t {
  server_close,         // the server (or the handler) closed it
  client_close,         // the peer went away without a WebSocket close
  normal,               // 1000
  going_away,           // 1001
  protocol_error,       // 1002
  unsupported,          // 1003
  no_status,            // 1005: a close frame without a code
  abnormal,             // 1006: the connection dropped
  invalid_payload,      // 1007
  policy_violation,     // 1008
  message_too_big,      // 1009
  mandatory_extension,  // 1010
  internal_error,       // 1011
  unknown,              // any other code
};

inline std::string_view to_string(CloseStatus status) {
  switch (status) {
    case CloseStatus::server_close:
      return "server-close";
    case CloseStatus::client_close:
      return "client-close";
    case CloseStatus::normal:
      return "normal";
    case CloseStatus::going_away:
      return "going-away";
    case CloseStatus::protocol_error:
      return "protocol-error";
    case CloseStatus::unsupported:
      return "unsupported";
    case CloseStatus::no_status:
      return "no-status-received";
    case CloseStatus::abnormal:
      return "abnormal";
    case CloseStatus::invalid_payload:
      return "invalid-payload-data";
    case CloseStatus::policy_violation:
      return "policy-violation";
    case CloseStatus::message_too_big:
      return "message-too-big";
    case CloseStatus::mandatory_extension:
      return "mandatory-extension";
    case CloseStatus::internal_error:
      return "internal-server-error";
    case CloseStatus::unknown:
      return "unknown";
  }
  return "unknown";
}

// What a channel's on_close receives: the status as above, and for a
// WebSocket what the peer said in its close frame. It converts to
// CloseStatus, so a handler written for (const ChannelPtr&, CloseStatus)
// still fits.
struct CloseInfo {
  CloseStatus status = CloseStatus::server_close;
  // The code of the peer's close frame (1005 when its frame had none),
  // 1006 when no close frame came from it (the connection dropped, or our
  // close went unanswered); 0 on an HTTP channel.
  uint16_t code = 0;
  std::string reason;  // the peer's close reason (UTF-8, at most 123 bytes)

  operator CloseStatus() const { return status; }
};

inline CloseStatus close_status_of(uint16_t websocket_code) {
  switch (websocket_code) {
    case 1000:
      return CloseStatus::normal;
    case 1001:
      return CloseStatus::going_away;
    case 1002:
      return CloseStatus::protocol_error;
    case 1003:
      return CloseStatus::unsupported;
    case 1005:
      return CloseStatus::no_status;
    case 1006:
      return CloseStatus::abnormal;
    case 1007:
      return CloseStatus::invalid_payload;
    case 1008:
      return CloseStatus::policy_violation;
    case 1009:
      return CloseStatus::message_too_big;
    case 1010:
      return CloseStatus::mandatory_extension;
    case 1011:
      return CloseStatus::internal_error;
    default:
      return CloseStatus::unknown;
  }
}

}  // namespace httpkit
