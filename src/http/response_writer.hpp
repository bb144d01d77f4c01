// Serialises a response head (status line and header section). Pure: it
// appends bytes to a string and knows nothing of sockets.
#pragma once

#include "http/body_framing.hpp"

#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "httpkit/response.hpp"

namespace httpkit::http {

std::string_view reason_phrase(int status);

struct ResponseHead {
  int status = 200;
  int version_minor = 1;  // the request's; the status line is always HTTP/1.1
  BodyFraming framing = BodyFraming::content_length;
  uint64_t content_length = 0;
  bool keep_alive = true;
  std::string_view date;                   // IMF-fixdate, see HttpDate; empty: no Date
  std::optional<std::string_view> server;  // Server header value
  std::span<const Header> headers;         // the handler's, framing ones skipped
};

// True for the header names the server owns and drops from a handler's list
// (Connection is kept in a 101).
bool is_framing_header(std::string_view name);

// True when the handler's headers ask for the connection to close.
bool asks_to_close(std::span<const Header> headers);

// The one writer of response heads: status line, Server, Date, the fields
// (unsafe ones skipped), the framing and, where the version's default does
// not hold, Connection.
void append_response_head(std::string& out, const ResponseHead& head);

// The head of a 101 Switching Protocols (RFC 9110 §15.2.2): status line,
// Server, Date (when not empty), then `fields` as given (for WebSocket:
// Upgrade, Connection, Sec-WebSocket-Accept and the optional
// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions), and no body framing.
void append_switching_protocols_head(std::string& out, std::span<const Header> fields,
                                     std::string_view date,
                                     std::optional<std::string_view> server = std::nullopt);

// A complete small response with a text body, e.g. for errors.
void append_simple_response(std::string& out, int status, std::string_view body,
                            std::string_view date, std::optional<std::string_view> server,
                            bool keep_alive, int version_minor = 1);

// "Sun, 06 Nov 1994 08:49:37 GMT", recomputed once per second.
class HttpDate {
 public:
  std::string_view now();
  static void format(std::time_t t, char out[29]);
  // An HTTP-date in any of its three forms (RFC 9110 §5.6.7: IMF-fixdate,
  // RFC 850, asctime); nullopt if it is none of them.
  static std::optional<std::time_t> parse(std::string_view text);

 private:
  std::time_t cached_second_ = -1;
  char text_[29] = {};
};

}  // namespace httpkit::http
