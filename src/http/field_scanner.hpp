// The header section of a message head (RFC 9112 §5): field lines up to
// and including the blank line that ends the head. One scanner for the
// request and the response parsers, as picohttpparser's parse_headers
// serves both; each parser reads its start line, then hands the rest here.
//
// Pure and zero-copy: fields are views into the bytes, stored in the
// caller's array. Every field also goes to a FieldRules, which judges what
// it means for the framing. Internal to src/http.
#pragma once

#include <cstddef>
#include <cstdint>

#include "http/field_rules.hpp"
#include "http/request_parser.hpp"

namespace httpkit::http {

enum class ScanStatus : uint8_t {
  complete,    // past the blank line; the fields are all in
  incomplete,  // out of bytes (the parser decides whether that breaks a limit)
  fault,       // see FieldScanner::fault()
};

// Strict in the same ways for both directions: no obs-fold (a zero-copy
// parser cannot replace it by SP, RFC 9112 §5.2), no whitespace before the
// first field or before a colon, names are tokens, values hold no control
// byte but HTAB, lines end in CRLF (a bare CR or LF is refused), and no
// more fields than the caller's capacity.
class FieldScanner {
 public:
  FieldScanner(HeaderField* fields, std::size_t capacity, FieldRules& rules)
      : fields_(fields), capacity_(capacity), rules_(rules) {}

  // Scans the field lines in [p, end). On `complete`, `p` points just past
  // the blank line; otherwise it is where the scan stopped. Once out of
  // bytes, the caller re-runs the whole parse over the grown buffer with a
  // fresh scanner, as the parsers here do.
  ScanStatus scan(const char*& p, const char* end);

  std::size_t count() const { return count_; }
  const Fault& fault() const { return fault_; }

 private:
  ScanStatus fail(FaultKind kind, std::string_view detail) {
    fault_ = {kind, detail};
    return ScanStatus::fault;
  }

  HeaderField* const fields_;
  const std::size_t capacity_;
  FieldRules& rules_;
  std::size_t count_ = 0;
  Fault fault_;
};

// The whole header section as both parsers read it: the fields scanned and
// stored, then, once they are all in, what the rules make of them.
struct FieldSection {
  ScanStatus status = ScanStatus::incomplete;
  std::size_t count = 0;  // fields stored, whatever the status
  Fault fault;            // on `fault`: the scanner's or the rules'
  FieldSummary summary;   // on `complete`
};

FieldSection scan_field_section(const char*& p, const char* end, HeaderField* fields,
                                std::size_t capacity, MessageKind kind, uint8_t version_minor);

}  // namespace httpkit::http
