// What the header fields of a message head mean for its framing and its
// connection (RFC 9112 §3.2, §6, §9; RFC 9110 §7.2, §7.6.1, §7.8, §8.6,
// §10.1.1), for requests and responses alike: one rule set, with the
// differences the RFC makes between the two as its parameter.
//
// The field scanner hands every field to `FieldRules` as it goes by;
// conflicts that one field makes with an earlier one are reported at once,
// the rest when the head is complete. Internal to src/http.
#pragma once

#include "http/body_framing.hpp"

#include <cstdint>
#include <string_view>

namespace httpkit::http {

// What is wrong with a head, whichever way it travels. Each parser turns it
// into its own error (a status for requests, a ResponseError for responses).
enum class FaultKind : uint8_t {
  none = 0,
  malformed,        // syntax of a line or a field; Host; a 101 without Upgrade
  bad_framing,      // Content-Length / Transfer-Encoding that cannot be trusted
  unsupported,      // a transfer coding we do not implement before chunked (501)
  too_many_fields,  // over the field limit
};

struct Fault {
  FaultKind kind = FaultKind::none;
  std::string_view detail;  // static text, for logs

  explicit operator bool() const { return kind != FaultKind::none; }
};

enum class MessageKind : uint8_t { request, response };

struct FieldSummary {
  BodyFraming framing = BodyFraming::none;
  uint64_t content_length = 0;
  bool keep_alive = true;        // the version's default, adjusted by Connection options
  bool upgrade_field = false;    // a non-empty Upgrade field
  bool upgrade = false;          // that, and Connection: upgrade
  bool expect_continue = false;  // requests only: Expect: 100-continue from HTTP/1.1
};

class FieldRules {
 public:
  FieldRules(MessageKind kind, uint8_t version_minor)
      : kind_(kind), version_minor_(version_minor) {}

  // `value` is already stripped of surrounding whitespace.
  Fault on_field(std::string_view name, std::string_view value);

  // Judges what only the whole head can tell. For a request: Host is
  // required from HTTP/1.1 on, and a Transfer-Encoding whose final coding
  // is not chunked is a 400 (§6.3), and only then an unknown coding before
  // chunked a 501 (§6.1). For a response, a final coding other than chunked
  // means the close ends the body.
  Fault finish(FieldSummary& out) const;

 private:
  Fault on_host(std::string_view value);
  Fault on_content_length(std::string_view value);
  Fault on_transfer_encoding(std::string_view value);
  void on_connection(std::string_view value);

  MessageKind kind_;
  uint8_t version_minor_;
  bool host_seen_ = false;
  bool content_length_seen_ = false;
  bool transfer_encoding_seen_ = false;
  bool any_coding_ = false;           // some Transfer-Encoding field named a coding
  bool chunked_seen_ = false;         // chunked appeared among the codings
  bool chunked_last_ = false;         // ... and is the last coding so far
  bool unknown_coding_seen_ = false;  // a coding other than chunked appeared
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool connection_upgrade_ = false;
  bool upgrade_field_seen_ = false;
  bool expect_continue_ = false;
  uint64_t content_length_ = 0;
};

}  // namespace httpkit::http
