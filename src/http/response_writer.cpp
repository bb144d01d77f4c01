#include "http/response_writer.hpp"

#include <charconv>
#include <cstring>

#include "http/text.hpp"

namespace httpkit::http {
namespace {

using text::iequals;

void append_number(std::string& out, uint64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

// A handler's header must not be able to end the head early or smuggle
// another field in: the name is a token, the value has no CR, LF or NUL.
bool is_safe_field(const Header& h) {
  return text::is_token(h.name) && text::is_safe_field_value(h.value);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

bool is_framing_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection") || iequals(name, "date") || iequals(name, "server") ||
         iequals(name, "keep-alive");
}

bool asks_to_close(std::span<const Header> headers) {
  for (const Header& h : headers)
    if (iequals(h.name, "connection") && text::list_has(h.value, "close")) return true;
  return false;
}

void append_response_head(std::string& out, const ResponseHead& head) {
  int status = head.status < 100 || head.status > 999 ? 500 : head.status;
  out.append("HTTP/1.1 ");
  append_number(out, uint64_t(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");
  if (head.server) append_field(out, "Server", *head.server);
  if (!head.date.empty()) append_field(out, "Date", head.date);
  // A 101 leaves HTTP behind: its Connection: Upgrade stays, no keep-alive talk.
  const bool switching = head.status == 101;
  for (const Header& h : head.headers) {
    const bool owned = is_framing_header(h.name) && !(switching && iequals(h.name, "connection"));
    if (owned || !is_safe_field(h)) continue;
    append_field(out, h.name, h.value);
  }
  switch (head.framing) {
    case BodyFraming::content_length:
      out.append("Content-Length: ");
      append_number(out, head.content_length);
      out.append("\r\n");
      break;
    case BodyFraming::chunked: out.append("Transfer-Encoding: chunked\r\n"); break;
    case BodyFraming::until_close:
    case BodyFraming::none: break;
  }
  // HTTP/1.1 keeps alive by default and HTTP/1.0 closes by default: say so
  // only where the default does not hold. A 101 leaves HTTP behind.
  if (!switching && !head.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (!switching && head.version_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void append_switching_protocols_head(std::string& out, std::span<const Header> fields,
                                     std::string_view date,
                                     std::optional<std::string_view> server) {
  ResponseHead head;
  head.status = 101;
  head.framing = BodyFraming::none;
  head.date = date;
  head.server = server;
  head.headers = fields;
  append_response_head(out, head);
}

void append_simple_response(std::string& out, int status, std::string_view body,
                            std::string_view date, std::optional<std::string_view> server,
                            bool keep_alive, int version_minor) {
  static const Header kTextPlain[] = {{"Content-Type", "text/plain; charset=utf-8"}};
  ResponseHead head;
  head.status = status;
  head.version_minor = version_minor;
  head.content_length = body.size();
  head.keep_alive = keep_alive;
  head.date = date;
  head.server = server;
  head.headers = kTextPlain;
  append_response_head(out, head);
  out.append(body);
}

void HttpDate::format(std::time_t t, char out[29]) {
  static const char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  auto two = [](char* p, int v) {
    p[0] = char('0' + v / 10);
    p[1] = char('0' + v % 10);
  };
  std::memcpy(out, kDays[tm.tm_wday], 3);
  out[3] = ',';
  out[4] = ' ';
  two(out + 5, tm.tm_mday);
  out[7] = ' ';
  std::memcpy(out + 8, kMonths[tm.tm_mon], 3);
  out[11] = ' ';
  int year = tm.tm_year + 1900;
  two(out + 12, year / 100);
  two(out + 14, year % 100);
  out[16] = ' ';
  two(out + 17, tm.tm_hour);
  out[19] = ':';
  two(out + 20, tm.tm_min);
  out[22] = ':';
  two(out + 23, tm.tm_sec);
  std::memcpy(out + 25, " GMT", 4);
}

std::string_view HttpDate::now() {
  std::time_t t = std::time(nullptr);
  if (t != cached_second_) {
    cached_second_ = t;
    format(t, text_);
  }
  return {text_, sizeof text_};
}

}  // namespace httpkit::http
