// The WebSocket opening handshake (RFC 6455 §4) and the negotiation of
// permessage-deflate (RFC 7692 §7) and subprotocols, for both ends.
//
// Pure: header views in, a description of the answer out. Response heads
// are written by http/response_writer.hpp (append_switching_protocols_head
// for the 101); the client adds headers() to its own request. SHA-1, base64 and the
// client's random key come from OpenSSL's libcrypto.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "httpkit/header_view.hpp"
#include "httpkit/response.hpp"
#include "ws/deflate.hpp"

namespace httpkit::ws {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string compute_accept_key(std::string_view key);

// A Sec-WebSocket-Key must be base64 of exactly 16 bytes (RFC 6455 §4.1).
bool is_valid_client_key(std::string_view key);

// What an endpoint is willing to do with permessage-deflate. The server
// answers an offer with it, the client builds its offer from it.
//
// The no_context_takeover defaults are for memory (see deflate.hpp): a
// server that always says server_no_context_takeover and
// client_no_context_takeover — both allowed in a response whether or not
// the client offered them (RFC 7692 §7.1.1.1, §7.1.1.2) — compresses and
// inflates every message on its loop's shared zlib contexts and pins none
// per connection. Set them false for better compression of streams of
// small similar messages, at ~205 KiB per connection with 15-bit windows
// and ZlibOptions' mem_level 6 (see deflate.hpp; smaller windows less).
struct DeflatePolicy {
  bool enabled = true;
  bool server_no_context_takeover = true;
  bool client_no_context_takeover = true;
  // Largest windows to agree to, 8..15. Smaller saves memory only where a
  // context is kept per connection.
  uint8_t server_max_window_bits = 15;
  uint8_t client_max_window_bits = 15;
};

// ---------------------------------------------------------------- server

struct UpgradeOptions {
  std::vector<std::string> subprotocols;  // supported, most preferred first
  DeflatePolicy deflate;
};

struct UpgradeResponse {
  int status = 400;                      // 101 to switch; 400, or 426 for an unsupported version
  std::string_view error;                // why not 101 (static text, usable as the body)
  std::string accept;                    // Sec-WebSocket-Accept
  std::string subprotocol;               // Sec-WebSocket-Protocol, empty for none
  std::string extensions;                // Sec-WebSocket-Extensions, empty for none
  std::optional<DeflateParams> deflate;  // set when permessage-deflate was agreed

  // The headers to send with `status`: for 101 Upgrade, Connection,
  // Sec-WebSocket-Accept and the optional two; for 426
  // Sec-WebSocket-Version: 13; for 400 none.
  std::vector<Header> headers() const;

  // The whole response, ready to write, without Date or Server: for 101
  // the head alone; for 400 and 426 with `error` as a text body and
  // Connection: close. Written by http/response_writer.hpp.
  void append_response(std::string& out) const;
};

// The checks of accept_upgrade alone: status 101 with `accept` set, or
// 400/426 with `error`; no subprotocol or extension is negotiated.
UpgradeResponse check_upgrade_request(std::string_view method, int version_minor,
                                      std::span<const HeaderView> headers);

// Checks an upgrade request (RFC 6455 §4.2.1) — GET, HTTP/1.1 or later,
// Upgrade: websocket, Connection: upgrade, a valid Sec-WebSocket-Key, and
// Sec-WebSocket-Version: 13 — and, when it is good, chooses a subprotocol
// and a permessage-deflate offer.
UpgradeResponse accept_upgrade(std::string_view method, int version_minor,
                               std::span<const HeaderView> headers, const UpgradeOptions& options);

// The subprotocol to answer with: the first of `supported` (preference
// order) that the client listed in any Sec-WebSocket-Protocol header;
// empty when none. Names compare exactly.
std::string_view select_subprotocol(std::span<const HeaderView> headers,
                                    std::span<const std::string> supported);

struct DeflateAgreement {
  DeflateParams params;
  std::string response;  // the Sec-WebSocket-Extensions value
};

// Takes the first acceptable permessage-deflate offer of the
// Sec-WebSocket-Extensions headers; an offer with an unknown, repeated or
// malformed parameter is skipped for the next. Other extensions are
// declined, and so is everything when the header is not well-formed.
std::optional<DeflateAgreement> negotiate_deflate(std::span<const HeaderView> headers,
                                                  const DeflatePolicy& policy);

// ---------------------------------------------------------------- client

struct ClientHandshake {
  std::string key;                        // Sec-WebSocket-Key
  std::string expected_accept;            // what the server must answer
  std::vector<std::string> subprotocols;  // offered
  DeflatePolicy deflate;                  // offered unless !deflate.enabled

  // Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version and the
  // optional Sec-WebSocket-Protocol and Sec-WebSocket-Extensions (Host and
  // the request line are the client's).
  std::vector<Header> headers() const;
};

// A handshake with a fresh random key (or the given 16-byte nonce, for tests).
ClientHandshake make_client_handshake(std::vector<std::string> subprotocols = {},
                                      const DeflatePolicy& deflate = {});
ClientHandshake make_client_handshake(std::span<const uint8_t, 16> nonce,
                                      std::vector<std::string> subprotocols = {},
                                      const DeflatePolicy& deflate = {});

// The Sec-WebSocket-Extensions value a client offers under `policy`.
std::string deflate_offer(const DeflatePolicy& policy);

struct UpgradeResult {
  bool ok = false;
  std::string_view error;                // why the response is refused (static text)
  std::string subprotocol;               // the server's choice, empty for none
  std::optional<DeflateParams> deflate;  // what to run with, when agreed
};

// Checks a server's answer (RFC 6455 §4.1): 101, Upgrade, Connection, the
// expected Sec-WebSocket-Accept, only extensions and a subprotocol that
// were offered, permessage-deflate parameters within what was asked.
UpgradeResult check_upgrade_response(int status, std::span<const HeaderView> headers,
                                     const ClientHandshake& request);

// ------------------------------------------------ Sec-WebSocket-Extensions

struct ExtensionParam {
  std::string_view name;
  std::string value;  // unquoted
  bool has_value = false;
};

struct Extension {
  std::string_view name;
  std::vector<ExtensionParam> params;
};

// Parses one Sec-WebSocket-Extensions value (RFC 6455 §9.1: a comma list
// of `token *( ";" token [ "=" ( token / quoted-string ) ] )`), appending
// to `out`. False, with `out` unspecified, when it is not well-formed.
bool parse_extensions(std::string_view value, std::vector<Extension>& out);

}  // namespace httpkit::ws
