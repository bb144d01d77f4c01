#include "client/request_encoder.hpp"

#include "client/multipart.hpp"

namespace httpkit::client {
namespace {

using http::text::is_safe_field_value;

void add_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// Headers the client writes itself: the user's copies would contradict the
// framing it sends.
bool is_framing_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding");
}

bool is_credential_header(std::string_view name) {
  return iequals(name, "authorization") || iequals(name, "cookie") || iequals(name, "host") ||
         iequals(name, "proxy-authorization");
}

bool method_has_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v =
        uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool has_header(const RequestOptions& opts, std::string_view name) {
  for (const Header& h : opts.headers) {
    if (iequals(h.name, name)) return true;
  }
  return false;
}

void add_query_params(Url& url, const std::vector<Param>& params) {
  for (const Param& p : params) {
    if (!url.query.empty()) url.query.push_back('&');
    append_form_encoded(url.query, p.name);
    url.query.push_back('=');
    append_form_encoded(url.query, p.value);
  }
}

std::optional<std::string> encode_body(const RequestOptions& opts, EncodedBody& out) {
  out = EncodedBody{};
  if (!opts.multipart.empty()) {
    std::string boundary = random_boundary();
    out.content_type = "multipart/form-data; boundary=" + boundary;
    if (opts.form_params.empty()) return encode_multipart(opts.multipart, boundary, out.bytes);
    // http-kit's rule: form params given with multipart become text parts.
    std::vector<MultipartPart> parts = opts.multipart;
    for (const Param& p : opts.form_params)
      parts.push_back(MultipartPart::text(p.name, p.value));
    return encode_multipart(parts, boundary, out.bytes);
  }
  if (!opts.form_params.empty()) {
    out.content_type = "application/x-www-form-urlencoded";
    for (const Param& p : opts.form_params) {
      if (!out.bytes.empty()) out.bytes.push_back('&');
      append_form_encoded(out.bytes, p.name);
      out.bytes.push_back('=');
      append_form_encoded(out.bytes, p.value);
    }
    return std::nullopt;
  }
  out.bytes = opts.body;
  return std::nullopt;
}

std::optional<std::string> encode_head(const RequestOptions& opts, const Hop& hop,
                                       const EncodedBody& body, std::string& out) {
  const Url& url = *hop.url;
  out.clear();
  out.reserve(256);
  out.append(hop.method);
  out.push_back(' ');
  if (hop.proxy) {
    out.append(url.str());  // absolute-form (RFC 9112 §3.2.2)
  } else {
    out.append(url.path);
    if (!url.query.empty()) {
      out.push_back('?');
      out.append(url.query);
    }
  }
  out.append(" HTTP/1.1\r\n");

  bool user_host = false, user_agent = false, user_encoding = false, user_auth = false,
       user_type = false, user_connection = false;
  for (const Header& h : opts.headers) {
    if (!is_token(h.name)) return "invalid header name '" + h.name + "'";
    if (!is_safe_field_value(h.value)) return "header '" + h.name + "' contains CR, LF or NUL";
    if (is_framing_header(h.name)) continue;
    if (hop.strip_credentials && is_credential_header(h.name)) continue;
    user_host |= iequals(h.name, "host");
    user_agent |= iequals(h.name, "user-agent");
    user_encoding |= iequals(h.name, "accept-encoding");
    user_auth |= iequals(h.name, "authorization");
    user_type |= iequals(h.name, "content-type");
    user_connection |= iequals(h.name, "connection");
  }

  if (!user_host) add_field(out, "Host", url.authority());
  for (const Header& h : opts.headers) {
    if (is_framing_header(h.name)) continue;
    if (hop.strip_credentials && is_credential_header(h.name)) continue;
    if (!hop.send_body && iequals(h.name, "content-type")) continue;
    add_field(out, h.name, h.value);
  }
  if (!user_agent && !opts.user_agent.empty()) {
    if (!is_safe_field_value(opts.user_agent)) return "user_agent contains CR, LF or NUL";
    add_field(out, "User-Agent", opts.user_agent);
  }
  // What the response reader decodes (http::ContentDecoder).
  if (!user_encoding && opts.auto_decompress)
    add_field(out, "Accept-Encoding", "gzip, deflate, br, zstd");
  if (!user_auth && !hop.strip_credentials) {
    if (opts.basic_auth) {
      add_field(out, "Authorization",
                "Basic " + base64_encode(opts.basic_auth->user + ":" + opts.basic_auth->password));
    } else if (url.has_userinfo) {
      add_field(out, "Authorization", "Basic " + base64_encode(url.user + ":" + url.password));
    } else if (!opts.bearer_token.empty()) {
      if (!is_safe_field_value(opts.bearer_token)) return "bearer_token contains CR, LF or NUL";
      add_field(out, "Authorization", "Bearer " + opts.bearer_token);
    }
  }
  if (hop.proxy && hop.proxy->has_userinfo) {
    add_field(out, "Proxy-Authorization",
              "Basic " + base64_encode(hop.proxy->user + ":" + hop.proxy->password));
  }
  const bool with_body =
      hop.send_body && (body.external || !body.bytes.empty() || method_has_body(hop.method));
  if (with_body) {
    if (!user_type && !body.content_type.empty()) add_field(out, "Content-Type", body.content_type);
    if (body.chunked) {
      add_field(out, "Transfer-Encoding", "chunked");
    } else {
      add_field(out, "Content-Length",
                std::to_string(body.external ? body.length : body.bytes.size()));
    }
  }
  if (!hop.keep_alive && !user_connection) add_field(out, "Connection", "close");
  out.append("\r\n");
  return std::nullopt;
}

}  // namespace httpkit::client
