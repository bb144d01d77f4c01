#include "http/response_parser.hpp"

#include <algorithm>

#include "http/field_rules.hpp"
#include "http/field_scanner.hpp"
#include "http/text.hpp"

namespace httpkit::http {
namespace {

ResponseError error_of(FaultKind kind) {
  switch (kind) {
    case FaultKind::bad_framing:
    case FaultKind::unsupported:
      return ResponseError::bad_framing;
    case FaultKind::too_many_fields:
      return ResponseError::too_many_headers;
    default:
      return ResponseError::bad_header;
  }
}

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
    const FieldSection fields = scan_field_section(p_, end_, headers_, capacity_,
                                                   MessageKind::response, out_.version_minor);
    out_.num_headers = fields.count;
    if (fields.status == ScanStatus::incomplete) {
      need_more();
      return stop_;
    }
    const Fault fault =
        fields.status == ScanStatus::fault ? fields.fault : judge(request, fields.summary);
    if (fault) {
      fail(error_of(fault.kind), fault.detail);
      return stop_;
    }
    out_.head_length = static_cast<std::size_t>(p_ - begin_);
    return {ParseStatus::complete};
  }

 private:
  // What the status and the request add to the fields (RFC 9112 §6.3, in
  // its order: responses that never have a body first, then
  // Transfer-Encoding, then Content-Length, then the close).
  Fault judge(const SentRequest& request, const FieldSummary& fields) {
    const uint16_t status = out_.status;
    out_.interim = status < 200 && status != 101;
    out_.upgraded = status == 101;
    out_.tunnel = request.connect && status >= 200 && status < 300;
    if (out_.upgraded && !fields.upgrade_field)
      return {FaultKind::malformed, "101 without Upgrade"};

    const bool never_body =
        request.head || status < 200 || status == 204 || status == 304 || out_.tunnel;
    out_.framing = BodyFraming::until_close;
    if (never_body) {
      out_.framing = BodyFraming::none;
    } else if (fields.framing == BodyFraming::chunked) {
      out_.framing = BodyFraming::chunked;
    } else if (fields.framing == BodyFraming::content_length) {
      out_.framing = BodyFraming::content_length;
      out_.content_length = fields.content_length;
    }
    out_.keep_alive = fields.keep_alive && out_.framing != BodyFraming::until_close &&
                      !out_.upgraded && !out_.tunnel;
    return {};
  }

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
      const bool ok = expected == '#' ? text::is_digit(*p_) : *p_ == expected;
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
      p_ = text::skip_value_chars(p_, line_end);
      if (p_ == line_end) return out_of_line();
      out_.reason = {reason, static_cast<std::size_t>(p_ - reason)};
    }
    if (*p_ != '\r') {
      return fail(ResponseError::bad_status_line,
                  *p_ == '\n' ? "status line ends in a bare LF" : "invalid status line");
    }
    return step_over_crlf(ResponseError::bad_status_line);
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

std::string_view to_string(ResponseError e) {
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
