#include "http/field_rules.hpp"

#include "http/char_class.hpp"
#include "http/list_elements.hpp"

namespace httpkit::http {
namespace {

using ascii::iequals;

constexpr Fault bad(std::string_view detail) {
  return {ParseError::bad_request, detail};
}

}  // namespace

Fault FieldRules::on_field(std::string_view name, std::string_view value) {
  // Dispatch on the length first: most fields are none of these.
  switch (name.size()) {
    case 4:
      if (iequals(name, "host")) return on_host(value);
      break;
    case 6:
      if (iequals(name, "expect")) on_expect(value);
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
  if (host_seen_) return bad("more than one Host field");
  host_seen_ = true;
  // uri-host [ ":" port ]; an empty value is allowed (RFC 9110 §7.2).
  if (!ascii::all_of(value, ascii::kHostChar)) return bad("invalid Host value");
  return {};
}

Fault FieldRules::on_content_length(std::string_view value) {
  if (transfer_encoding_seen_) return bad("both Transfer-Encoding and Content-Length");
  if (value.empty()) return bad("empty Content-Length");
  uint64_t length = 0;
  for (char c : value) {
    // A list ("5, 5") is refused like any other non-digit.
    if (c < '0' || c > '9') return bad("invalid Content-Length");
    const auto digit = static_cast<uint64_t>(c - '0');
    if (length > (UINT64_MAX - digit) / 10) return bad("Content-Length overflows");
    length = length * 10 + digit;
  }
  // Identical repeats are harmless (RFC 9110 §8.6); differing ones are smuggling.
  if (content_length_seen_ && length != content_length_) return bad("conflicting Content-Length");
  content_length_seen_ = true;
  content_length_ = length;
  return {};
}

Fault FieldRules::on_transfer_encoding(std::string_view value) {
  if (content_length_seen_) return bad("both Transfer-Encoding and Content-Length");
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
  if (version_minor_ == 0) return bad("Transfer-Encoding in an HTTP/1.0 request");
  transfer_encoding_seen_ = true;
  ListElements codings(value);
  std::string_view coding;
  while (codings.next(coding)) {
    const std::size_t semicolon = coding.find(';');
    const std::string_view name = ascii::trim_ows(coding.substr(0, semicolon));
    if (name.empty() || !ascii::all_of(name, ascii::kTokenChar)) {
      return bad("invalid transfer coding");
    }
    const bool chunked = iequals(name, "chunked");
    if (chunked_seen_) {
      return bad(chunked ? "chunked applied twice" : "chunked is not the final transfer coding");
    }
    if (chunked) {
      if (semicolon != std::string_view::npos) return bad("parameters on chunked");
      chunked_seen_ = true;
    } else {
      unknown_coding_seen_ = true;
    }
  }
  return {};
}

void FieldRules::on_expect(std::string_view value) {
  expect_continue_ = expect_continue_ || iequals(value, "100-continue");
}

void FieldRules::on_connection(std::string_view value) {
  ListElements options(value);
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

Fault FieldRules::finish(RequestHead& out) const {
  if (version_minor_ >= 1 && !host_seen_) return bad("HTTP/1.1 request without Host");

  out.framing = BodyFraming::none;
  if (transfer_encoding_seen_) {
    // RFC 9112 §6.3: unless chunked is the final coding the body's length
    // cannot be known, which MUST be a 400 and a close. Only then is a
    // coding we do not understand (gzip, chunked) the 501 of §6.1.
    if (!chunked_seen_) {
      return bad(unknown_coding_seen_ ? "chunked is not the final transfer coding"
                                      : "Transfer-Encoding without a coding");
    }
    if (unknown_coding_seen_) {
      return {ParseError::not_implemented, "unsupported transfer coding"};
    }
    out.framing = BodyFraming::chunked;
  } else if (content_length_seen_) {
    out.framing = BodyFraming::content_length;
    out.content_length = content_length_;
  }

  // "close" wins over anything; HTTP/1.0 stays open only when asked to.
  out.keep_alive = !connection_close_ && (version_minor_ >= 1 || connection_keep_alive_);
  out.upgrade = connection_upgrade_ && upgrade_field_seen_;
  // RFC 9110 §10.1.1: a 100-continue from an HTTP/1.0 client is ignored.
  out.expect_continue = expect_continue_ && version_minor_ >= 1;
  return {};
}

}  // namespace httpkit::http
