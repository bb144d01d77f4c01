#include "http/field_rules.hpp"

#include "http/text.hpp"

namespace httpkit::http {
namespace {

using text::iequals;

constexpr Fault bad_framing(std::string_view detail) {
  return {FaultKind::bad_framing, detail};
}

}  // namespace

Fault FieldRules::on_field(std::string_view name, std::string_view value) {
  // Dispatch on the length first: most fields are none of these.
  switch (name.size()) {
    case 4:
      if (kind_ == MessageKind::request && iequals(name, "host")) return on_host(value);
      break;
    case 6:
      if (iequals(name, "expect")) {
        expect_continue_ = expect_continue_ || iequals(value, "100-continue");
      }
      break;
    case 7:
      if (iequals(name, "upgrade")) upgrade_field_seen_ = upgrade_field_seen_ || !value.empty();
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

Fault FieldRules::on_host(std::string_view value) {
  if (host_seen_) return {FaultKind::malformed, "more than one Host field"};
  host_seen_ = true;
  // uri-host [ ":" port ]; an empty value is allowed (RFC 9110 §7.2).
  if (!text::all_of(value, text::kHostChar)) return {FaultKind::malformed, "invalid Host value"};
  return {};
}

Fault FieldRules::on_content_length(std::string_view value) {
  // RFC 9112 §6.3 item 3: both fields may be smuggling; treat as an error.
  if (transfer_encoding_seen_) return bad_framing("both Transfer-Encoding and Content-Length");
  uint64_t length = 0;
  switch (text::parse_decimal(value, length)) {
    case text::Decimal::ok:
      break;
    case text::Decimal::empty:
      return bad_framing("empty Content-Length");
    case text::Decimal::not_digits:  // a list ("5, 5") too
      return bad_framing("invalid Content-Length");
    case text::Decimal::overflows:
      return bad_framing("Content-Length overflows");
  }
  // Identical repeats are harmless (RFC 9110 §8.6); differing ones are smuggling.
  if (content_length_seen_ && length != content_length_) {
    return bad_framing("conflicting Content-Length");
  }
  content_length_seen_ = true;
  content_length_ = length;
  return {};
}

Fault FieldRules::on_transfer_encoding(std::string_view value) {
  if (content_length_seen_) return bad_framing("both Transfer-Encoding and Content-Length");
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
  if (version_minor_ == 0) return bad_framing("Transfer-Encoding in an HTTP/1.0 message");
  transfer_encoding_seen_ = true;
  text::ListElements codings(value);
  std::string_view coding;
  while (codings.next(coding)) {
    const std::size_t semicolon = coding.find(';');
    const std::string_view name = text::trim_ows(coding.substr(0, semicolon));
    if (!text::is_token(name)) return bad_framing("invalid transfer coding");
    const bool chunked = iequals(name, "chunked");
    if (chunked && chunked_seen_) return bad_framing("chunked applied twice");
    // A request must end in chunked; a response may go on to the close.
    if (chunked_seen_ && kind_ == MessageKind::request) {
      return bad_framing("chunked is not the final transfer coding");
    }
    if (chunked && semicolon != std::string_view::npos) return bad_framing("parameters on chunked");
    chunked_seen_ = chunked_seen_ || chunked;
    unknown_coding_seen_ = unknown_coding_seen_ || !chunked;
    chunked_last_ = chunked;
    any_coding_ = true;
  }
  return {};
}

void FieldRules::on_connection(std::string_view value) {
  text::ListElements options(value);
  std::string_view option;
  while (options.next(option)) {
    if (iequals(option, "close")) {
      connection_close_ = true;
    } else if (iequals(option, "keep-alive")) {
      connection_keep_alive_ = true;
    } else if (iequals(option, "upgrade")) {
      connection_upgrade_ = true;
    }
  }
}

Fault FieldRules::finish(FieldSummary& out) const {
  const bool request = kind_ == MessageKind::request;
  if (request && version_minor_ >= 1 && !host_seen_) {
    return {FaultKind::malformed, "HTTP/1.1 request without Host"};
  }

  out.framing = BodyFraming::none;
  if (transfer_encoding_seen_) {
    if (!any_coding_) return bad_framing("Transfer-Encoding without a coding");
    if (!chunked_last_) {
      // RFC 9112 §6.3: a request's body length cannot be known, which MUST
      // be a 400 and a close; a response's runs to the close.
      if (request) return bad_framing("chunked is not the final transfer coding");
      out.framing = BodyFraming::until_close;
    } else if (request && unknown_coding_seen_) {
      // Only once chunked is final is a coding we do not know the 501 of §6.1.
      return {FaultKind::unsupported, "unsupported transfer coding"};
    } else {
      out.framing = BodyFraming::chunked;
    }
  } else if (content_length_seen_) {
    out.framing = BodyFraming::content_length;
    out.content_length = content_length_;
  }

  // "close" wins over anything; HTTP/1.0 stays open only when asked to.
  out.keep_alive = !connection_close_ && (version_minor_ >= 1 || connection_keep_alive_);
  out.upgrade_field = upgrade_field_seen_;
  out.upgrade = connection_upgrade_ && upgrade_field_seen_;
  // RFC 9110 §10.1.1: a 100-continue from an HTTP/1.0 client is ignored.
  out.expect_continue = request && expect_continue_ && version_minor_ >= 1;
  return {};
}

}  // namespace httpkit::http
