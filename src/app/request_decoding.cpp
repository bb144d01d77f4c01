// wrap_decode_request: request bodies with a Content-Encoding, decoded in
// bounded pieces up to a limit (middleware.hpp).
#include <string>
#include <vector>

#include "http/content_coding.hpp"
#include "http/content_decoder.hpp"
#include "httpkit/middleware.hpp"

namespace httpkit {
namespace {

// What a 415 offers (RFC 9110 §12.5.3): the codings ContentDecoder knows.
constexpr std::string_view kAccepted = "gzip, deflate, br, zstd";

Response unsupported_coding() {
  Response r = Response::text("Unsupported Media Type: Content-Encoding\n", 415);
  r.header("Accept-Encoding", std::string(kAccepted));
  return r;
}

}  // namespace

Handler wrap_decode_request(Handler next, RequestDecodingOptions options) {
  return [next = std::move(next), max = options.max_decoded](const Request& request) -> Response {
    http::ContentEncoding coding;
    for (const HeaderView& h : request.headers())
      if (iequals(h.name, "content-encoding"))
        coding = http::parse_content_encoding(h.value, coding);
    // A streamed body is the handler's to decode (it sees it as sent).
    if (coding.kind == http::ContentEncoding::Kind::none || request.body_pending())
      return next(request);
    if (coding.kind != http::ContentEncoding::Kind::one) return unsupported_coding();

    http::ContentDecoder decoder(coding.coding);
    std::string decoded;
    bool too_large = false;
    const auto status = decoder.feed(request.body(), [&](std::string_view piece) {
      if (piece.size() > max - decoded.size()) {
        too_large = true;
        return false;  // pause, and never resume: the rest stays coded
      }
      // Grow by doubling, but never past the limit: the bomb defence is
      // what is held, capacity included.
      if (decoded.size() + piece.size() > decoded.capacity())
        decoded.reserve(
            std::min(max, std::max(decoded.capacity() * 2, decoded.size() + piece.size())));
      decoded.append(piece);
      return true;
    });
    if (too_large)
      return Response::text(
          "Content Too Large: the decoded body passes " + std::to_string(max) + " bytes\n", 413);
    if (status == http::ContentDecoder::Status::error)
      return Response::text("Bad Request: " + decoder.error() + "\n", 400);
    // No bytes at all is no content, not a stream cut short: some clients
    // label every request body, the empty ones too.
    if (!decoder.finished() && !request.body().empty())
      return Response::text(
          "Bad Request: the " + std::string(to_string(coding.coding)) + " body ends early\n", 400);

    // The decoded representation (RFC 9110 §8.4): no Content-Encoding, its
    // own length. Transfer-Encoding goes too: the body is whole now, and a
    // request with both framings would read as a smuggling attempt.
    std::vector<HeaderView> fields;
    fields.reserve(request.headers().size() + 1);
    for (const HeaderView& h : request.headers())
      if (!iequals(h.name, "content-encoding") && !iequals(h.name, "content-length") &&
          !iequals(h.name, "transfer-encoding"))
        fields.push_back(h);
    const std::string length = std::to_string(decoded.size());
    fields.push_back({"Content-Length", length});
    return next(request.with_body(std::move(decoded), fields));
  };
}

}  // namespace httpkit
