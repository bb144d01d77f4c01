#include "ws/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

#include "http/response_writer.hpp"
#include "http/text.hpp"

namespace httpkit::ws {

namespace {

// RFC 6455 §1.3: the GUID every accept key is made with.
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::string_view kDeflateName = "permessage-deflate";

using http::text::iequals;
using http::text::is_ows;
using http::text::is_token;
using http::text::is_token_char;
using http::text::trim_ows;

// True when any header `name` lists `token` (ASCII case-insensitive).
bool has_token(std::span<const HeaderView> headers, std::string_view name, std::string_view token) {
  for (const HeaderView& h : headers) {
    if (iequals(h.name, name) && http::text::list_has(h.value, token)) return true;
  }
  return false;
}

// The value of the only header `name`; nullopt when absent or repeated.
std::optional<std::string_view> single_header(std::span<const HeaderView> headers,
                                              std::string_view name) {
  std::optional<std::string_view> value;
  for (const HeaderView& h : headers) {
    if (!iequals(h.name, name)) continue;
    if (value) return std::nullopt;
    value = h.value;
  }
  return value;
}

std::string base64(const unsigned char* bytes, int length) {
  std::string out(4 * ((length + 2) / 3) + 1, '\0');  // EVP_EncodeBlock writes a NUL
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes, length);
  out.resize(written);
  return out;
}

// The permessage-deflate parameters of one offer or response, as sent.
struct DeflateWireParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::optional<uint8_t> server_max_window_bits;
  bool client_max_window_bits = false;  // present, with or without a value
  std::optional<uint8_t> client_max_window_bits_value;
};

// RFC 7692 §7.1.2: a decimal 8..15 without leading zeros.
std::optional<uint8_t> parse_window_bits(std::string_view s) {
  uint64_t bits = 0;
  if (s.size() > 2 || s.starts_with('0')) return std::nullopt;
  if (http::text::parse_decimal(s, bits) != http::text::Decimal::ok) return std::nullopt;
  if (bits < 8 || bits > 15) return std::nullopt;
  return static_cast<uint8_t>(bits);
}

// False for an unknown or repeated parameter or a value where none belongs,
// a missing one where one must be, or a window size out of range.
bool read_deflate_params(const Extension& ext, DeflateWireParams& out) {
  bool seen_server_bits = false;
  for (const ExtensionParam& p : ext.params) {
    if (p.name == "server_no_context_takeover") {
      if (p.has_value || out.server_no_context_takeover) return false;
      out.server_no_context_takeover = true;
    } else if (p.name == "client_no_context_takeover") {
      if (p.has_value || out.client_no_context_takeover) return false;
      out.client_no_context_takeover = true;
    } else if (p.name == "server_max_window_bits") {
      if (seen_server_bits || !p.has_value) return false;
      seen_server_bits = true;
      out.server_max_window_bits = parse_window_bits(p.value);
      if (!out.server_max_window_bits) return false;
    } else if (p.name == "client_max_window_bits") {
      if (out.client_max_window_bits) return false;
      out.client_max_window_bits = true;
      if (p.has_value) {
        out.client_max_window_bits_value = parse_window_bits(p.value);
        if (!out.client_max_window_bits_value) return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

uint8_t clamp_window_bits(uint8_t bits) {
  return std::clamp<uint8_t>(bits, 8, 15);
}

std::string format_deflate_response(const DeflateParams& p, bool with_server_bits,
                                    bool with_client_bits) {
  std::string s(kDeflateName);
  if (p.server_no_context_takeover) s += "; server_no_context_takeover";
  if (p.client_no_context_takeover) s += "; client_no_context_takeover";
  if (with_server_bits) s += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
  if (with_client_bits) s += "; client_max_window_bits=" + std::to_string(p.client_max_window_bits);
  return s;
}

UpgradeResult refuse(std::string_view why) {
  UpgradeResult r;
  r.error = why;
  return r;
}

}  // namespace

std::string compute_accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kAcceptGuid.size());
  input.append(key).append(kAcceptGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_length, EVP_sha1(), nullptr) != 1) {
    return {};  // libcrypto without SHA-1: no accept key can match
  }
  return base64(digest, static_cast<int>(digest_length));
}

bool is_valid_client_key(std::string_view key) {
  // 16 bytes are five full base64 quanta and one byte: 22 characters and
  // "==" padding. Any other length decodes to another size.
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

bool parse_extensions(std::string_view value, std::vector<Extension>& out) {
  std::size_t i = 0;
  const std::size_t n = value.size();
  auto skip_ows = [&] {
    while (i < n && is_ows(value[i]))
      ++i;
  };
  auto token = [&] {
    const std::size_t start = i;
    while (i < n && is_token_char(value[i]))
      ++i;
    return value.substr(start, i - start);
  };
  for (;;) {
    skip_ows();
    if (i == n) return true;
    if (value[i] == ',') {  // an empty list element
      ++i;
      continue;
    }
    Extension ext;
    ext.name = token();
    if (ext.name.empty()) return false;
    skip_ows();
    while (i < n && value[i] == ';') {
      ++i;
      skip_ows();
      ExtensionParam param;
      param.name = token();
      if (param.name.empty()) return false;
      skip_ows();
      if (i < n && value[i] == '=') {
        ++i;
        skip_ows();
        param.has_value = true;
        if (i < n && value[i] == '"') {
          ++i;
          while (i < n && value[i] != '"') {
            if (value[i] == '\\' && ++i == n) return false;
            param.value.push_back(value[i++]);
          }
          if (i == n) return false;  // no closing quote
          ++i;
          // §9.1: once unquoted, the value must still be a token.
          if (!is_token(param.value)) return false;
        } else {
          param.value = token();
          if (param.value.empty()) return false;
        }
        skip_ows();
      }
      ext.params.push_back(std::move(param));
    }
    out.push_back(std::move(ext));
    if (i == n) return true;
    if (value[i] != ',') return false;
    ++i;
  }
}

std::string_view select_subprotocol(std::span<const HeaderView> headers,
                                    std::span<const std::string> supported) {
  for (const std::string& candidate : supported) {
    for (const HeaderView& h : headers) {
      if (!iequals(h.name, "Sec-WebSocket-Protocol")) continue;
      http::text::ListElements offered(h.value);
      std::string_view name;
      while (offered.next(name)) {
        if (name == candidate) return candidate;
      }
    }
  }
  return {};
}

std::optional<DeflateAgreement> negotiate_deflate(std::span<const HeaderView> headers,
                                                  const DeflatePolicy& policy) {
  if (!policy.enabled) return std::nullopt;
  std::vector<Extension> offers;
  for (const HeaderView& h : headers) {
    if (iequals(h.name, "Sec-WebSocket-Extensions") && !parse_extensions(h.value, offers)) {
      return std::nullopt;
    }
  }
  const uint8_t server_cap = clamp_window_bits(policy.server_max_window_bits);
  const uint8_t client_cap = clamp_window_bits(policy.client_max_window_bits);
  for (const Extension& offer : offers) {
    if (!iequals(offer.name, kDeflateName)) continue;
    DeflateWireParams wire;
    if (!read_deflate_params(offer, wire)) continue;  // try the client's next offer

    DeflateParams p;
    // Both may be answered whether offered or not (RFC 7692 §7.1.1).
    p.server_no_context_takeover =
        wire.server_no_context_takeover || policy.server_no_context_takeover;
    p.client_no_context_takeover =
        wire.client_no_context_takeover || policy.client_no_context_takeover;
    // Our window: at most what the client asked for (§7.1.2.1), and we may
    // announce a smaller one unasked.
    bool with_server_bits = false;
    if (wire.server_max_window_bits) {
      p.server_max_window_bits = std::min(*wire.server_max_window_bits, server_cap);
      with_server_bits = true;
    } else if (server_cap < 15) {
      p.server_max_window_bits = server_cap;
      with_server_bits = true;
    }
    // The client's window may only be limited if it said it understands
    // the parameter (§7.1.2.2); its value, if any, is a hint we can take.
    bool with_client_bits = false;
    if (wire.client_max_window_bits) {
      const uint8_t bits = std::min(wire.client_max_window_bits_value.value_or(15), client_cap);
      if (bits < 15) {
        p.client_max_window_bits = bits;
        with_client_bits = true;
      }
    }
    return DeflateAgreement{p, format_deflate_response(p, with_server_bits, with_client_bits)};
  }
  return std::nullopt;
}

UpgradeResponse check_upgrade_request(std::string_view method, int version_minor,
                                      std::span<const HeaderView> headers) {
  UpgradeResponse r;
  r.status = 400;
  if (method != "GET") {
    r.error = "a WebSocket upgrade must be a GET";
    return r;
  }
  if (version_minor < 1) {
    r.error = "a WebSocket upgrade needs HTTP/1.1";
    return r;
  }
  if (!has_token(headers, "Upgrade", "websocket")) {
    r.error = "missing Upgrade: websocket";
    return r;
  }
  if (!has_token(headers, "Connection", "upgrade")) {
    r.error = "missing Connection: upgrade";
    return r;
  }
  // Before the key: a client of another version may build its key otherwise.
  const auto version = single_header(headers, "Sec-WebSocket-Version");
  if (!version || *version != "13") {
    r.status = 426;
    r.error = "unsupported Sec-WebSocket-Version; this server speaks 13";
    return r;
  }
  const auto key = single_header(headers, "Sec-WebSocket-Key");
  if (!key || !is_valid_client_key(*key)) {
    r.error = "missing or invalid Sec-WebSocket-Key";
    return r;
  }
  r.status = 101;
  r.accept = compute_accept_key(*key);
  return r;
}

UpgradeResponse accept_upgrade(std::string_view method, int version_minor,
                               std::span<const HeaderView> headers, const UpgradeOptions& options) {
  UpgradeResponse r = check_upgrade_request(method, version_minor, headers);
  if (r.status != 101) return r;
  r.subprotocol = select_subprotocol(headers, options.subprotocols);
  if (auto agreement = negotiate_deflate(headers, options.deflate)) {
    r.deflate = agreement->params;
    r.extensions = std::move(agreement->response);
  }
  return r;
}

std::vector<Header> UpgradeResponse::headers() const {
  std::vector<Header> out;
  if (status == 426) {
    out.push_back({"Sec-WebSocket-Version", "13"});
  } else if (status == 101) {
    out.push_back({"Upgrade", "websocket"});
    out.push_back({"Connection", "Upgrade"});
    out.push_back({"Sec-WebSocket-Accept", accept});
    if (!subprotocol.empty()) out.push_back({"Sec-WebSocket-Protocol", subprotocol});
    if (!extensions.empty()) out.push_back({"Sec-WebSocket-Extensions", extensions});
  }
  return out;
}

void UpgradeResponse::append_response(std::string& out) const {
  std::vector<Header> fields = headers();
  if (status == 101) {
    http::append_switching_protocols_head(out, fields, {});
    return;
  }
  fields.push_back({"Content-Type", "text/plain; charset=utf-8"});
  http::ResponseHead head;
  head.status = status == 426 ? 426 : 400;
  head.content_length = error.size() + 1;
  head.keep_alive = false;
  head.headers = fields;
  http::append_response_head(out, head);
  out.append(error).append("\n");
}

std::string deflate_offer(const DeflatePolicy& policy) {
  std::string s(kDeflateName);
  if (policy.server_no_context_takeover) s += "; server_no_context_takeover";
  if (policy.client_no_context_takeover) s += "; client_no_context_takeover";
  const uint8_t server_bits = clamp_window_bits(policy.server_max_window_bits);
  const uint8_t client_bits = clamp_window_bits(policy.client_max_window_bits);
  if (server_bits < 15) s += "; server_max_window_bits=" + std::to_string(server_bits);
  // Always: it tells the server we accept a limit on our window.
  s += "; client_max_window_bits";
  if (client_bits < 15) s += "=" + std::to_string(client_bits);
  return s;
}

ClientHandshake make_client_handshake(std::span<const uint8_t, 16> nonce,
                                      std::vector<std::string> subprotocols,
                                      const DeflatePolicy& deflate) {
  ClientHandshake h;
  h.key = base64(nonce.data(), static_cast<int>(nonce.size()));
  h.expected_accept = compute_accept_key(h.key);
  h.subprotocols = std::move(subprotocols);
  h.deflate = deflate;
  return h;
}

ClientHandshake make_client_handshake(std::vector<std::string> subprotocols,
                                      const DeflatePolicy& deflate) {
  std::array<uint8_t, 16> nonce;
  // RFC 6455 §4.1: the nonce must be random; without a CSPRNG, stop.
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) std::abort();
  return make_client_handshake(std::span<const uint8_t, 16>(nonce), std::move(subprotocols),
                               deflate);
}

std::vector<Header> ClientHandshake::headers() const {
  std::vector<Header> out;
  out.push_back({"Upgrade", "websocket"});
  out.push_back({"Connection", "Upgrade"});
  out.push_back({"Sec-WebSocket-Key", key});
  out.push_back({"Sec-WebSocket-Version", "13"});
  if (!subprotocols.empty()) {
    std::string list;
    for (const std::string& p : subprotocols) {
      if (!list.empty()) list += ", ";
      list += p;
    }
    out.push_back({"Sec-WebSocket-Protocol", std::move(list)});
  }
  if (deflate.enabled) out.push_back({"Sec-WebSocket-Extensions", deflate_offer(deflate)});
  return out;
}

UpgradeResult check_upgrade_response(int status, std::span<const HeaderView> headers,
                                     const ClientHandshake& request) {
  if (status != 101) return refuse("the server did not switch protocols");
  if (!has_token(headers, "Upgrade", "websocket")) return refuse("missing Upgrade: websocket");
  if (!has_token(headers, "Connection", "upgrade")) return refuse("missing Connection: upgrade");
  const auto accept = single_header(headers, "Sec-WebSocket-Accept");
  if (!accept || *accept != request.expected_accept) {
    return refuse("missing or wrong Sec-WebSocket-Accept");
  }

  UpgradeResult r;
  std::vector<Extension> extensions;
  for (const HeaderView& h : headers) {
    if (iequals(h.name, "Sec-WebSocket-Extensions") && !parse_extensions(h.value, extensions)) {
      return refuse("malformed Sec-WebSocket-Extensions");
    }
  }
  for (const Extension& ext : extensions) {
    if (!iequals(ext.name, kDeflateName) || !request.deflate.enabled || r.deflate) {
      return refuse("the server chose an extension that was not offered");
    }
    const DeflatePolicy& asked = request.deflate;
    DeflateWireParams wire;
    if (!read_deflate_params(ext, wire) ||
        (wire.client_max_window_bits && !wire.client_max_window_bits_value)) {
      return refuse("invalid permessage-deflate parameters");
    }
    // What we asked of the server, it must have granted (RFC 7692 §7.1).
    if (asked.server_no_context_takeover && !wire.server_no_context_takeover) {
      return refuse("the server ignored server_no_context_takeover");
    }
    const uint8_t asked_server_bits = clamp_window_bits(asked.server_max_window_bits);
    if (asked_server_bits < 15 &&
        (!wire.server_max_window_bits || *wire.server_max_window_bits > asked_server_bits)) {
      return refuse("the server ignored server_max_window_bits");
    }
    DeflateParams p;
    p.server_no_context_takeover = wire.server_no_context_takeover;
    // Resetting our own context is always allowed; our offer said we would.
    p.client_no_context_takeover =
        wire.client_no_context_takeover || asked.client_no_context_takeover;
    p.server_max_window_bits = wire.server_max_window_bits.value_or(15);
    p.client_max_window_bits = std::min(wire.client_max_window_bits_value.value_or(15),
                                        clamp_window_bits(asked.client_max_window_bits));
    r.deflate = p;
  }

  bool seen_protocol = false;
  for (const HeaderView& h : headers) {
    if (!iequals(h.name, "Sec-WebSocket-Protocol")) continue;
    const std::string_view chosen = trim_ows(h.value);
    const bool offered = std::find(request.subprotocols.begin(), request.subprotocols.end(),
                                   chosen) != request.subprotocols.end();
    if (seen_protocol || !offered) return refuse("the server chose a subprotocol not offered");
    seen_protocol = true;
    r.subprotocol = chosen;
  }
  r.ok = true;
  return r;
}

}  // namespace httpkit::ws
