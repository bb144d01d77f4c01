// Content-coding names (RFC 9110 §8.4.1): reading Content-Encoding, and
// choosing a response's coding from Accept-Encoding (§12.5.3): q-values,
// "*", "identity", and the server's own preference among codings the
// client rates equally. The one place that knows the names.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace httpkit::http {

enum class ContentCoding : uint8_t { identity, gzip, deflate, br, zstd };

std::string_view to_string(ContentCoding coding);

// The coding a name stands for, case-insensitively ("x-gzip" is gzip,
// §8.4.1.3); nullopt for a name we do not know.
std::optional<ContentCoding> coding_named(std::string_view name);

// What a message's Content-Encoding asks of its recipient. Fold every
// field line in (a repeated field is one list, RFC 9110 §5.3): `identity`
// entries and empty elements change nothing; two real codings are a
// stack (decoded by nobody here), and a name we do not know is unknown.
struct ContentEncoding {
  enum class Kind : uint8_t { none, one, stacked, unknown };
  Kind kind = Kind::none;
  ContentCoding coding = ContentCoding::identity;  // for `one`
};
ContentEncoding parse_content_encoding(std::string_view field_value, ContentEncoding so_far = {});

// The coding to send: the highest-rated of `offered` (in the server's order
// of preference, which breaks ties); identity when nothing offered is
// acceptable, or when the header is absent. `identity_allowed` is false
// when the client refused identity ("identity;q=0" or "*;q=0" without an
// identity entry): then, if no offered coding is acceptable either, the
// answer is 415-worthy and the caller may still send identity (RFC 9110
// lets a server ignore Accept-Encoding rather than fail).
struct CodingChoice {
  ContentCoding coding = ContentCoding::identity;
  bool identity_allowed = true;
};
CodingChoice choose_coding(std::string_view accept_encoding,
                           std::span<const ContentCoding> offered);

}  // namespace httpkit::http
