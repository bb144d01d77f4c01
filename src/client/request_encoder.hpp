// Turning RequestOptions into bytes: the body once per request (form,
// multipart or raw), the head once per hop (redirects change method, target
// and which credentials go along).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "client/url.hpp"
#include "http/text.hpp"
#include "httpkit/client.hpp"

namespace httpkit::client {

struct EncodedBody {
  std::string bytes;
  std::string content_type;  // for form and multipart bodies; empty otherwise
  // A body from a file or a stream (BodySource) instead of `bytes`.
  bool external = false;
  bool chunked = false;  // external, of unknown length
  uint64_t length = 0;   // external, when not chunked
};

// Encodes the body the options describe. Returns an error message (for
// ErrorKind::invalid_request) or nullopt. Reads multipart files: call it on
// the thread that made the request, not on a loop.
std::optional<std::string> encode_body(const RequestOptions& opts, EncodedBody& out);

// Appends opts.query_params to the URL's query.
void add_query_params(Url& url, const std::vector<Param>& params);

// One hop: what differs between the first request and each redirect.
struct Hop {
  const Url* url = nullptr;
  std::string_view method;
  bool send_body = true;           // false after a 301/302/303 turned it into a GET
  bool strip_credentials = false;  // a redirect crossed origins: no Authorization/Cookie/Host
  const Url* proxy = nullptr;      // plain http through a proxy: absolute-form target
  bool keep_alive = true;          // false: Connection: close
};

// Writes the request head for `hop`. Returns an error message for header
// names or values that would break the framing (CR, LF, NUL), else nullopt.
std::optional<std::string> encode_head(const RequestOptions& opts, const Hop& hop,
                                       const EncodedBody& body, std::string& out);

// Whether the user's headers already carry `name`.
bool has_header(const RequestOptions& opts, std::string_view name);

std::string base64_encode(std::string_view in);

// Idempotent methods (RFC 9110 §9.2.2): safe to send again on a new
// connection when a pooled one turned out stale.
bool is_idempotent(std::string_view method);

// A token (RFC 9110 §5.6.2): what a method and a field name must be.
using http::text::is_token;

}  // namespace httpkit::client
