#include "http/request_parser.hpp"

#include <algorithm>
#include <cstring>

#include "http/field_rules.hpp"
#include "http/field_scanner.hpp"
#include "http/text.hpp"

namespace httpkit::http {
namespace {

// Methods this server recognizes (IANA HTTP Method Registry, plus PURGE,
// SOURCE and the SSDP ones that real clients send). Anything else is a 501
// (RFC 9110 §9.1). Left out on purpose: CONNECT, since an origin server opens
// no tunnels, and PRI, which only starts the HTTP/2 connection preface.
// clang-format off
constexpr std::string_view kKnownMethods[] = {
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "QUERY",
    // WebDAV, versioning, access control, calendars, search, redirect refs
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT",
    "ACL", "BIND", "REBIND", "UNBIND", "LINK", "UNLINK", "MERGE", "CHECKIN", "CHECKOUT",
    "UNCHECKOUT", "VERSION-CONTROL", "MKACTIVITY", "LABEL", "UPDATE", "MKWORKSPACE",
    "MKCALENDAR", "BASELINE-CONTROL", "ORDERPATCH", "MKREDIRECTREF", "UPDATEREDIRECTREF",
    // outside the registry, but sent by real clients
    "PURGE", "SOURCE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE"};
// clang-format on

bool is_known_method(std::string_view method) {
  // Constant-size compares compile to a load or two; GET and POST are most traffic.
  if (method.size() == 3 && std::memcmp(method.data(), "GET", 3) == 0) return true;
  if (method.size() == 4 && std::memcmp(method.data(), "POST", 4) == 0) return true;
  return std::find(std::begin(kKnownMethods), std::end(kKnownMethods), method) !=
         std::end(kKnownMethods);
}

using text::is_alpha;
using text::is_digit;

// origin-form ("/..."), asterisk-form ("*") or absolute-form ("scheme:...").
// The authority-form belongs to CONNECT, which is refused before we get here.
bool has_target_form(std::string_view target) {
  if (target.front() == '/' || target == "*") return true;
  if (!is_alpha(target.front())) return false;
  for (char c : target.substr(1)) {
    if (c == ':') return true;
    if (!text::is_alnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

// The status a fault in the header section answers with: 501 for a coding
// we do not implement, 431 for too many fields, 400 for the rest.
ParseError error_of(FaultKind kind) {
  if (kind == FaultKind::unsupported) return ParseError::not_implemented;
  return kind == FaultKind::too_many_fields ? ParseError::headers_too_large
                                            : ParseError::bad_request;
}

// Splits at the first '?'. A fragment has no business in a request-target;
// when a client sends one anyway it is kept out of path and query.
void split_target(RequestHead& out) {
  const std::string_view t = out.target;
  const std::size_t fragment = std::min(t.find('#'), t.size());
  const std::size_t question = t.find('?');
  if (question < fragment) {
    out.path = t.substr(0, question);
    out.query = t.substr(question + 1, fragment - question - 1);
  } else {
    out.path = t.substr(0, fragment);
  }
}

// One pass over the head. Every step either advances `p_` and returns true,
// or records in `stop_` why it stopped (out of bytes, or a fault) and returns
// false. Faults are reported at the first byte that shows them, and bytes
// past a limit are never looked at, so a head split anywhere parses the same.
class HeadParser {
 public:
  HeadParser(std::string_view buf, const ParseLimits& limits, HeaderField* headers,
             std::size_t capacity, RequestHead& out)
      : begin_(buf.data()),
        p_(buf.data()),
        end_(buf.data() + std::min(buf.size(), limits.max_head_bytes)),
        truncated_(buf.size() > limits.max_head_bytes),
        max_request_line_(limits.max_request_line),
        headers_(headers),
        capacity_(capacity),
        out_(out) {}

  ParseResult parse() {
    if (!skip_empty_lines() || !parse_request_line()) return stop_;
    const FieldSection fields =
        scan_field_section(p_, end_, headers_, capacity_, MessageKind::request, out_.version_minor);
    out_.num_headers = fields.count;
    if (fields.status == ScanStatus::incomplete) need_more();
    if (fields.status == ScanStatus::fault) fail(error_of(fields.fault.kind), fields.fault.detail);
    if (fields.status != ScanStatus::complete) return stop_;
    const FieldSummary& summary = fields.summary;
    out_.framing = summary.framing == BodyFraming::chunked          ? BodyFraming::chunked
                   : summary.framing == BodyFraming::content_length ? BodyFraming::content_length
                                                                     : BodyFraming::none;
    out_.content_length = summary.content_length;
    out_.keep_alive = summary.keep_alive;
    out_.upgrade = summary.upgrade;
    out_.expect_continue = summary.expect_continue;
    split_target(out_);
    out_.head_length = static_cast<std::size_t>(p_ - begin_);
    return {ParseStatus::complete};
  }

 private:
  bool need_more() {
    // Out of bytes inside the head limit is "wait"; at the limit it is final.
    stop_ = truncated_ ? ParseResult{ParseStatus::error, ParseError::headers_too_large,
                                     "request head too large"}
                       : ParseResult{ParseStatus::incomplete};
    return false;
  }

  bool fail(ParseError error, std::string_view detail) {
    stop_ = {ParseStatus::error, error, detail};
    return false;
  }

  // RFC 9112 §2.2: a server should ignore empty lines before the request line.
  bool skip_empty_lines() {
    while (p_ < end_ && *p_ == '\r') {
      if (!step_over_crlf()) return false;
    }
    return true;
  }

  // The request line's content must end by `line_end`; running into it with
  // bytes still to come means the line is too long.
  bool out_of_line(const char* line_end) {
    return line_end < end_ ? fail(ParseError::uri_too_long, "request line too long") : need_more();
  }

  // At a CR: steps over it and the LF that must follow (bare CR is refused).
  bool step_over_crlf() {
    if (++p_ == end_) return need_more();
    if (*p_ != '\n') return fail(ParseError::bad_request, "CR not followed by LF");
    ++p_;
    return true;
  }

  bool parse_request_line() {
    const char* line_end =
        static_cast<std::size_t>(end_ - p_) > max_request_line_ ? p_ + max_request_line_ : end_;
    const char* method = p_;
    while (p_ < line_end && text::is_token_char(*p_)) {
      ++p_;
    }
    if (p_ == line_end) return out_of_line(line_end);
    if (*p_ != ' ' || p_ == method) return fail(ParseError::bad_request, "invalid method");
    out_.method = {method, static_cast<std::size_t>(p_ - method)};
    if (!is_known_method(out_.method)) {
      return fail(ParseError::not_implemented,
                  out_.method == "CONNECT" ? "CONNECT is not served" : "unknown method");
    }
    ++p_;

    const char* target = p_;
    p_ = text::skip_target_chars(p_, line_end);
    if (p_ == line_end) return out_of_line(line_end);
    if (*p_ != ' ' || p_ == target) return fail(ParseError::bad_request, "invalid request-target");
    out_.target = {target, static_cast<std::size_t>(p_ - target)};
    if (!has_target_form(out_.target)) {
      return fail(ParseError::bad_request, "invalid request-target");
    }
    ++p_;

    if (!parse_version(line_end)) return false;
    if (p_ == end_) return need_more();
    if (*p_ != '\r') {
      return fail(ParseError::bad_request, "request line does not end after the version");
    }
    return step_over_crlf();
  }

  // "HTTP/" DIGIT "." DIGIT.
  bool parse_version(const char* line_end) {
    // HTTP/1.1 and HTTP/1.0 are nearly all there is: check them at once.
    if (line_end - p_ >= 8) {
      const bool v11 = std::memcmp(p_, "HTTP/1.1", 8) == 0;
      if (v11 || std::memcmp(p_, "HTTP/1.0", 8) == 0) {
        out_.version_minor = v11 ? 1 : 0;
        p_ += 8;
        return true;
      }
    }
    // Otherwise byte by byte, so that garbage shows as early as it can.
    static constexpr std::string_view kVersion = "HTTP/#.#";  // '#' is a digit
    const char* version = p_;
    for (char expected : kVersion) {
      if (p_ == line_end) return out_of_line(line_end);
      const bool ok = expected == '#' ? is_digit(*p_) : *p_ == expected;
      if (!ok) return fail(ParseError::bad_request, "invalid HTTP version");
      ++p_;
    }
    if (version[5] != '1') {
      return fail(ParseError::version_not_supported, "HTTP major version is not 1");
    }
    // RFC 9110 §6.2: a later 1.x is served as the highest minor we implement.
    out_.version_minor = version[7] == '0' ? 0 : 1;
    return true;
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;  // the buffer, cut at the head limit
  const bool truncated_;   // bytes exist past `end_`
  const std::size_t max_request_line_;
  HeaderField* const headers_;
  const std::size_t capacity_;
  RequestHead& out_;
  ParseResult stop_{ParseStatus::incomplete};
};

}  // namespace

int status_of(ParseError e) {
  switch (e) {
    case ParseError::none:
      return 200;
    case ParseError::bad_request:
      return 400;
    case ParseError::uri_too_long:
      return 414;
    case ParseError::headers_too_large:
      return 431;
    case ParseError::not_implemented:
      return 501;
    case ParseError::version_not_supported:
      return 505;
  }
  return 400;
}

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::none:
      return "OK";
    case ParseError::bad_request:
      return "Bad Request";
    case ParseError::uri_too_long:
      return "URI Too Long";
    case ParseError::headers_too_large:
      return "Request Header Fields Too Large";
    case ParseError::not_implemented:
      return "Not Implemented";
    case ParseError::version_not_supported:
      return "HTTP Version Not Supported";
  }
  return "Bad Request";
}

std::size_t find_head_end(std::string_view buf, std::size_t scan_from) {
  const char* const data = buf.data();
  const std::size_t size = buf.size();
  std::size_t start = 0;
  while (start + 2 <= size && data[start] == '\r' && data[start + 1] == '\n') {
    start += 2;
  }
  // The blank line's LF is the last of "\r\n\r\n" after a non-empty request
  // line, so at least 4 bytes past `start`; and it was not there before.
  std::size_t i = std::max(start + 4, scan_from);
  while (i < size) {
    const void* lf = std::memchr(data + i, '\n', size - i);
    if (lf == nullptr) return 0;
    i = static_cast<std::size_t>(static_cast<const char*>(lf) - data);
    if (data[i - 1] == '\r' && data[i - 2] == '\n' && data[i - 3] == '\r') return i + 1;
    ++i;
  }
  return 0;
}

ParseResult parse_request_head(std::string_view buf, const ParseLimits& limits,
                               HeaderField* headers, std::size_t max_headers, RequestHead& out) {
  out = RequestHead{};
  out.headers = headers;
  HeadParser parser(buf, limits, headers, std::min(max_headers, limits.max_headers), out);
  return parser.parse();
}

}  // namespace httpkit::http
