// The WebSocket workload on one connection (httpkit-load --websocket):
// an RFC 6455 upgrade on --ws-path, checked down to Sec-WebSocket-Accept,
// then, once per idle period, one masked text message of --length bytes
// whose echo must come back as a text message of exactly those bytes.
// With --deflate the upgrade offers permessage-deflate (RFC 7692) with no
// context takeover either way, the server must agree, and its echo may
// come compressed: it is inflated on the worker's shared zlib context.
//
// No I/O here, like http_exchange.hpp: the worker hands bytes in and sends
// the bytes this writes (the upgrade, the message, pongs). What a
// connection needs between reads fits its WsProgress (connection.hpp):
// the key is rebuilt from a 32-bit nonce, and the payload is a slice of one
// shared pattern chosen by (nonce, messages done), so the echo is checked
// byte for byte without keeping a copy. Bytes that must wait (a head or
// frame header split over reads, a split ping, a compressed echo, what the
// socket did not take) live in a WsHeldBytes that exists only meanwhile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "load_connection.hpp"
#include "options.hpp"
#include "random.hpp"
#include "shared_stats.hpp"
#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/handshake.hpp"

namespace httpkit::load {

// Bytes one connection must keep for a moment; freed as soon as all are empty.
struct WsHeldBytes {
  std::string incoming;    // a response head or frame header that arrived in pieces
  std::string ping;        // a ping's payload that arrived in pieces
  std::string compressed;  // the compressed echo's payload so far
  std::string unsent;      // bytes the socket has not taken yet, in order
};

class WsExchange {
 public:
  static constexpr std::size_t kMaxHead = 8192;  // a longer 101 head is wrong
  static constexpr uint32_t kMaxMessage = kMaxWsMessage;
  static constexpr uint32_t kPatternOffsets = 1 << 16;  // where a payload may start

  struct Result {
    enum Status : uint8_t {
      more,      // nothing completed (pings may have been answered)
      upgraded,  // the 101 was good: idle, then send the first message
      echoed,    // the message in flight came back intact
      failed,
    } status;
    LoadFailure error = LoadFailure::wrong_response;  // when failed
  };

  // What the payload bytes of the frame being read are (WsProgress::frame_kind).
  enum class FrameKind : uint8_t {
    none,     // no frame is open: the next bytes are a header
    echo,     // part of the echo
    ping,     // to be answered with a pong of the same payload
    ignored,  // an unsolicited pong
  };

  struct Settings {
    Range length;              // of each message, at most kMaxMessage
    bool deflate = false;      // offer and require permessage-deflate
    std::string path = "/ws";  // request target of the upgrade
    std::string host;          // the Host header
  };

  explicit WsExchange(Settings settings);

  // Starts a connection afresh: writes its upgrade request to `out`.
  void start_upgrade(LoadConnection& c, Random& random, std::string& out) const;
  // Picks the next message (after the upgrade) and appends its masked frame to `out`.
  void start_message(LoadConnection& c, Random& random, std::string& out) const;

  // Takes the next bytes from the server, all of them: the 101, then
  // frames. Appends what must be answered (pongs) to `reply`. Anything but
  // the 101, the echo of the message in flight, pings and pongs fails.
  Result on_bytes(LoadConnection& c, const char* data, std::size_t size, std::string& reply);

  // What it means that the server closed now.
  LoadFailure error_on_close(const LoadConnection& c) const;

  // The payload of the message in flight (also what its echo must be).
  static std::string_view message_payload(const LoadConnection& c);
  // The Sec-WebSocket-Key of a connection, derived from its nonce.
  ws::ClientHandshake handshake_of(const LoadConnection& c) const;

  // A close frame, 1001 "going away", for when the run stops.
  static void append_goodbye(std::string& out);

  // Bytes the socket did not take, kept in order until it does.
  static void hold_unsent(LoadConnection& c, std::string_view bytes);
  static std::string_view unsent(const LoadConnection& c);
  static void drop_unsent(LoadConnection& c, std::size_t sent);

  // Frees what a connection holds.
  static void release(LoadConnection& c);

 private:
  enum class HeaderStep : uint8_t { complete, incomplete, failed };

  Result on_head(LoadConnection& c, const char* data, std::size_t size, std::size_t& used) const;
  HeaderStep on_frame_header(LoadConnection& c, const char* data, std::size_t size,
                             std::size_t& used, LoadFailure& error) const;
  Result on_payload(LoadConnection& c, std::string_view piece, bool frame_ends, std::string& reply);
  Result on_echo(LoadConnection& c, std::string_view piece, bool frame_ends);
  bool inflates_to_payload(const LoadConnection& c, std::string_view compressed);

  Settings settings_;
  ws::DeflatePolicy offer_;  // enabled only with --deflate
  ws::FrameRules rules_;
  // One zlib inflater for every connection of the worker: the server
  // starts each message afresh (server_no_context_takeover, insisted on).
  ws::SharedDeflateContext shared_zlib_;
  ws::DeflateContext deflate_;
  std::string inflated_;  // scratch for one inflated echo
};

}  // namespace httpkit::load
