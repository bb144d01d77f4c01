#include "http/field_scanner.hpp"

#include "http/text.hpp"

namespace httpkit::http {

ScanStatus FieldScanner::scan(const char*& p, const char* end) {
  // At a CR: steps over it and the LF that must follow (a bare CR is refused).
  const auto step_over_crlf = [&] {
    if (p + 1 == end) return ScanStatus::incomplete;
    if (p[1] != '\n') return fail(FaultKind::malformed, "CR not followed by LF");
    p += 2;
    return ScanStatus::complete;
  };
  for (;;) {
    if (p == end) return ScanStatus::incomplete;
    if (*p == '\r') return step_over_crlf();  // the blank line that ends the head
    if (text::is_ows(*p)) {
      // RFC 9112 §5.2: obs-fold (or whitespace before the first field) is refused.
      return fail(FaultKind::malformed, count_ == 0 ? "whitespace before the first header field"
                                                    : "obsolete line folding");
    }
    if (count_ == capacity_) return fail(FaultKind::too_many_fields, "too many header fields");

    const char* name = p;
    while (p < end && text::is_token_char(*p)) {
      ++p;
    }
    if (p == end) return ScanStatus::incomplete;
    // RFC 9112 §5.1: no whitespace between the name and the colon.
    if (*p != ':' || p == name) return fail(FaultKind::malformed, "invalid header field name");
    const std::string_view field_name{name, static_cast<std::size_t>(p - name)};
    ++p;

    while (p < end && text::is_ows(*p)) {
      ++p;
    }
    const char* value = p;
    p = text::skip_value_chars(p, end);
    if (p == end) return ScanStatus::incomplete;
    if (*p != '\r') {
      return fail(FaultKind::malformed, *p == '\n' ? "header line ends in a bare LF"
                                                   : "control character in header value");
    }
    const char* value_end = p;
    while (value_end > value && text::is_ows(value_end[-1])) {
      --value_end;
    }
    if (const ScanStatus s = step_over_crlf(); s != ScanStatus::complete) return s;

    const std::string_view field_value{value, static_cast<std::size_t>(value_end - value)};
    fields_[count_++] = {field_name, field_value};
    if (Fault fault = rules_.on_field(field_name, field_value)) {
      fault_ = fault;
      return ScanStatus::fault;
    }
  }
}

FieldSection scan_field_section(const char*& p, const char* end, HeaderField* fields,
                                std::size_t capacity, MessageKind kind, uint8_t version_minor) {
  FieldRules rules(kind, version_minor);
  FieldScanner scanner(fields, capacity, rules);
  FieldSection section;
  section.status = scanner.scan(p, end);
  section.count = scanner.count();
  if (section.status == ScanStatus::fault) {
    section.fault = scanner.fault();
  } else if (section.status == ScanStatus::complete) {
    section.fault = rules.finish(section.summary);
    if (section.fault) section.status = ScanStatus::fault;
  }
  return section;
}

}  // namespace httpkit::http
