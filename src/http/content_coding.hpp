// Choosing a response's content-coding from Accept-Encoding (RFC 9110
// §12.5.3): q-values, "*", "identity", and the server's own preference
// among codings the client rates equally.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace httpkit::http {

enum class ContentCoding : uint8_t { identity, gzip, deflate, br, zstd };

std::string_view to_string(ContentCoding coding);

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
