#include "http/response_parser.hpp"

#include <algorithm>

#include "http/char_class.hpp"
#include "http/list_elements.hpp"

namespace httpkit::http {
namespace {

using ascii::iequals;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

struct Fault {
  ResponseError error = ResponseError::none;
  std::string_view detail;

  explicit operator bool() const { return error != ResponseError::none; }
};

constexpr Fault bad_framing(std::string_view detail) {
  return {ResponseError::bad_framing, detail};
}


// What the fields of a response head mean for its framing and connection
// (RFC 9112 §6, §9.3; RFC 9110 §7.6.1, §7.8, §8.6).
class ResponseFieldRules {
 public:
  explicit ResponseFieldRules(uint8_t version_minor) : version_minor_(version_minor) {}

  Fault on_field(std::string_view name, std::string_view value) {
    switch (name.size()) {
      case 7:
        if (iequals(name, "upgrade")) upgrade_seen_ = upgrade_seen_ || !value.empty();
        break;
      case 10:
        if (iequals(name, "connection")) on_connection(value);
        break;
      case 14:
        if (iequals(name, "content-length")) return on_content_length(value);
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) return on_transfer_encoding(value);
        break;
    }
    return {};
  }

  Fault finish(const SentRequest& request, ResponseHeadView& out) const {
    const uint16_t status = out.status;
    out.interim = status < 200 && status != 101;
    out.upgraded = status == 101;
    out.tunnel = request.connect && status >= 200 && status < 300;
    if (out.upgraded && !upgrade_seen_) return {ResponseError::bad_header, "101 without Upgrade"};

    // RFC 9112 §6.3, in its order: responses that never have a body first,
    // then Transfer-Encoding, then Content-Length, then the close.
    const bool never_body =
        request.head || status < 200 || status == 204 || status == 304 || out.tunnel;
    if (never_body) {
      out.framing = ResponseFraming::none;
    } else if (transfer_encoding_seen_) {
      // A coding other than chunked last leaves only the close to end the body.
      out.framing = chunked_last_ ? ResponseFraming::chunked : ResponseFraming::until_close;
    } else if (content_length_seen_) {
      out.framing = ResponseFraming::content_length;
      out.content_length = content_length_;
    } else {
      out.framing = ResponseFraming::until_close;
    }

    out.keep_alive = !connection_close_ && (version_minor_ >= 1 || connection_keep_alive_) &&
                     out.framing != ResponseFraming::until_close && !out.upgraded && !out.tunnel;
    return {};
  }

 private:
  Fault on_content_length(std::string_view value) {
    // RFC 9112 §6.3 item 3: both fields may be smuggling; treat as an error.
    if (transfer_encoding_seen_) return bad_framing("both Transfer-Encoding and Content-Length");
    if (value.empty()) return bad_framing("empty Content-Length");
    uint64_t length = 0;
    for (char c : value) {
      // A list ("5, 5") is refused like any other non-digit, as requests are.
      if (!is_digit(c)) return bad_framing("invalid Content-Length");
      const auto digit = static_cast<uint64_t>(c - '0');
      if (length > (UINT64_MAX - digit) / 10) return bad_framing("Content-Length overflows");
      length = length * 10 + digit;
    }
    if (content_length_seen_ && length != content_length_) {
      return bad_framing("conflicting Content-Length");
    }
    content_length_seen_ = true;
    content_length_ = length;
    return {};
  }

  Fault on_transfer_encoding(std::string_view value) {
    if (content_length_seen_) return bad_framing("both Transfer-Encoding and Content-Length");
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing.
    if (version_minor_ == 0) return bad_framing("Transfer-Encoding in an HTTP/1.0 response");
    transfer_encoding_seen_ = true;
    ListElements codings(value);
    std::string_view coding;
    bool any = false;
    while (codings.next(coding)) {
      const std::size_t semicolon = coding.find(';');
      const std::string_view name = ascii::trim_ows(coding.substr(0, semicolon));
      if (name.empty() || !ascii::all_of(name, ascii::kTokenChar)) {
        return bad_framing("invalid transfer coding");
      }
      const bool chunked = iequals(name, "chunked");
      if (chunked && chunked_seen_) return bad_framing("chunked applied twice");
      if (chunked && semicolon != std::string_view::npos)
        return bad_framing("parameters on chunked");
      chunked_seen_ = chunked_seen_ || chunked;
      chunked_last_ = chunked;
      any = true;
    }
    if (!any) return bad_framing("Transfer-Encoding without a coding");
    return {};
  }

  void on_connection(std::string_view value) {
    ListElements options(value);
    std::string_view option;
    while (options.next(option)) {
      if (iequals(option, "close")) {
        connection_close_ = true;
      } else if (iequals(option, "keep-alive")) {
        connection_keep_alive_ = true;
      }
    }
  }

  uint8_t version_minor_;
  bool content_length_seen_ = false;
  bool transfer_encoding_seen_ = false;
  bool chunked_seen_ = false;
  bool chunked_last_ = false;  // the last coding of all Transfer-Encoding fields so far
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool upgrade_seen_ = false;
  uint64_t content_length_ = 0;
};

// One pass over the head, in the manner of the request parser: every step
// advances `p_` and returns true, or records in `stop_` why it stopped and
// returns false. Bytes past a limit are never looked at.
class HeadParser {
 public:
  HeadParser(std::string_view buf, const ResponseLimits& limits, HeaderField* headers,
             std::size_t capacity, ResponseHeadView& out)
      : begin_(buf.data()),
        p_(buf.data()),
        end_(buf.data() + std::min(buf.size(), limits.max_head_bytes)),
        truncated_(buf.size() > limits.max_head_bytes),
        max_status_line_(limits.max_status_line),
        headers_(headers),
        capacity_(capacity),
        out_(out) {}

  ResponseParseResult parse(const SentRequest& request) {
    if (!parse_status_line()) return stop_;
    ResponseFieldRules rules(out_.version_minor);
    if (!parse_fields(rules)) return stop_;
    if (Fault fault = rules.finish(request, out_)) {
      fail(fault.error, fault.detail);
      return stop_;
    }
    out_.head_length = static_cast<std::size_t>(p_ - begin_);
    return {ParseStatus::complete};
  }

 private:
  bool need_more() {
    stop_ = truncated_ ? ResponseParseResult{ParseStatus::error, ResponseError::head_too_large,
                                             "response head too large"}
                       : ResponseParseResult{ParseStatus::incomplete};
    return false;
  }

  bool fail(ResponseError error, std::string_view detail) {
    stop_ = {ParseStatus::error, error, detail};
    return false;
  }

  // At a CR: steps over it and the LF that must follow (a bare CR is refused).
  bool step_over_crlf(ResponseError error) {
    if (++p_ == end_) return need_more();
    if (*p_ != '\n') return fail(error, "CR not followed by LF");
    ++p_;
    return true;
  }

  bool parse_status_line() {
    const char* line_end =
        static_cast<std::size_t>(end_ - p_) > max_status_line_ ? p_ + max_status_line_ : end_;
    auto out_of_line = [&] {
      return line_end < end_ ? fail(ResponseError::head_too_large, "status line too long")
                             : need_more();
    };

    // "HTTP/" DIGIT "." DIGIT SP 3DIGIT, byte by byte so garbage shows early.
    static constexpr std::string_view kPrefix = "HTTP/#.# ###";  // '#' is a digit
    const char* version = p_;
    for (char expected : kPrefix) {
      if (p_ == line_end) return out_of_line();
      const bool ok = expected == '#' ? is_digit(*p_) : *p_ == expected;
      if (!ok) return fail(ResponseError::bad_status_line, "invalid status line");
      ++p_;
    }
    if (version[5] != '1') {
      return fail(ResponseError::unsupported_version, "HTTP major version is not 1");
    }
    out_.version_minor = version[7] == '0' ? 0 : 1;
    const char* code = version + 9;
    out_.status =
        static_cast<uint16_t>((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
    if (out_.status < 100 || out_.status > 599) {
      return fail(ResponseError::bad_status_line, "status code outside 100..599");
    }

    // [SP reason-phrase] CRLF. The SP before an empty reason is often left
    // out; clients ignore the reason anyway, so that is tolerated.
    if (p_ == line_end) return out_of_line();
    if (*p_ == ' ') {
      ++p_;
      const char* reason = p_;
      for (;;) {
        p_ = ascii::skip_value_chars_except_tab(p_, line_end);
        if (p_ == line_end || *p_ != '\t') break;
        ++p_;
      }
      if (p_ == line_end) return out_of_line();
      out_.reason = {reason, static_cast<std::size_t>(p_ - reason)};
    }
    if (*p_ != '\r') {
      return fail(ResponseError::bad_status_line,
                  *p_ == '\n' ? "status line ends in a bare LF" : "invalid status line");
    }
    return step_over_crlf(ResponseError::bad_status_line);
  }

  bool parse_fields(ResponseFieldRules& rules) {
    for (;;) {
      if (p_ == end_) return need_more();
      if (*p_ == '\r') return step_over_crlf(ResponseError::bad_header);  // end of the head
      if (ascii::is_ows(*p_)) {
        // obs-fold would have to be replaced by SP before use (RFC 9112
        // §5.2); a zero-copy parser cannot, so it refuses the response.
        return fail(ResponseError::bad_header, out_.num_headers == 0
                                                   ? "whitespace before the first header field"
                                                   : "obsolete line folding");
      }
      if (out_.num_headers == capacity_) {
        return fail(ResponseError::too_many_headers, "too many header fields");
      }

      const char* name = p_;
      while (p_ < end_ && ascii::is_token_char(*p_))
        ++p_;
      if (p_ == end_) return need_more();
      if (*p_ != ':' || p_ == name) {
        return fail(ResponseError::bad_header, "invalid header field name");
      }
      const std::string_view field_name{name, static_cast<std::size_t>(p_ - name)};
      ++p_;

      while (p_ < end_ && ascii::is_ows(*p_))
        ++p_;
      const char* value = p_;
      for (;;) {
        p_ = ascii::skip_value_chars_except_tab(p_, end_);
        if (p_ == end_ || *p_ != '\t') break;
        ++p_;
      }
      if (p_ == end_) return need_more();
      if (*p_ != '\r') {
        return fail(ResponseError::bad_header, *p_ == '\n' ? "header line ends in a bare LF"
                                                           : "control character in header value");
      }
      const char* value_end = p_;
      while (value_end > value && ascii::is_ows(value_end[-1]))
        --value_end;
      if (!step_over_crlf(ResponseError::bad_header)) return false;

      const std::string_view field_value{value, static_cast<std::size_t>(value_end - value)};
      headers_[out_.num_headers++] = {field_name, field_value};
      if (Fault fault = rules.on_field(field_name, field_value)) {
        return fail(fault.error, fault.detail);
      }
    }
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;  // the buffer, cut at the head limit
  const bool truncated_;   // bytes exist past `end_`
  const std::size_t max_status_line_;
  HeaderField* const headers_;
  const std::size_t capacity_;
  ResponseHeadView& out_;
  ResponseParseResult stop_{ParseStatus::incomplete};
};

}  // namespace

std::string_view describe(ResponseError e) {
  switch (e) {
    case ResponseError::none:
      return "no error";
    case ResponseError::bad_status_line:
      return "invalid status line";
    case ResponseError::unsupported_version:
      return "unsupported HTTP version";
    case ResponseError::bad_header:
      return "invalid header field";
    case ResponseError::bad_framing:
      return "untrustworthy message framing";
    case ResponseError::head_too_large:
      return "response head too large";
    case ResponseError::too_many_headers:
      return "too many header fields";
  }
  return "invalid response";
}

ResponseParseResult parse_response_head(std::string_view buf, const SentRequest& request,
                                        const ResponseLimits& limits, HeaderField* headers,
                                        std::size_t max_headers, ResponseHeadView& out) {
  out = ResponseHeadView{};
  out.headers = headers;
  HeadParser parser(buf, limits, headers, std::min(max_headers, limits.max_headers), out);
  return parser.parse(request);
}

}  // namespace httpkit::http
