// The WebSocket client, with the names of the server's Channel (send,
// send_binary, ping, close, open(), on_receive, on_close with a
// CloseStatus), over the client's connections (TLS, proxy CONNECT tunnel,
// DNS, timeouts all as for HTTP requests).
//
//   auto ws = client.websocket({.url = "wss://example.com/chat"},
//       {.on_open = [](httpkit::WebSocket& ws) { ws.send("hello"); },
//        .on_receive = [](httpkit::WebSocket&, std::string_view m, bool) { ... },
//        .on_close = [](httpkit::WebSocket&, httpkit::CloseStatus, std::string_view) { ... }});
//
// Frames are masked with fresh keys from OpenSSL's CSPRNG (RFC 6455 §5.3);
// permessage-deflate is offered unless turned off. Handlers run on the
// client's loop; WebSocket's methods are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "httpkit/client.hpp"
#include "httpkit/close_status.hpp"

namespace httpkit {

namespace client {
class WsSession;
}

class WebSocket;

struct WebSocketHandlers {
  std::function<void(WebSocket&)> on_open{};
  std::function<void(WebSocket&, std::string_view message, bool binary)> on_receive{};
  // After the automatic pong.
  std::function<void(WebSocket&, std::string_view payload)> on_ping{};
  // A pong came: the answer to ping() or to the keep-alive ping, or an
  // unsolicited one (RFC 6455 §5.5.3 allows those).
  std::function<void(WebSocket&, std::string_view payload)> on_pong{};
  // Once, last: the status of the peer's close code (no_status if none),
  // abnormal when the connection ended without a close frame, or the status
  // of the code we failed it with. WebSocket::close_code() has the number
  // (e.g. an application's 4000-4999 code, which is CloseStatus::unknown).
  std::function<void(WebSocket&, CloseStatus status, std::string_view reason)> on_close{};
  // The connection or the handshake failed; on_close follows with abnormal.
  std::function<void(const ClientError& error)> on_error{};
};

struct WebSocketOptions {
  std::string url{};  // ws:// or wss:// (http:// and https:// are taken as the same)
  std::vector<Header> headers{};
  std::vector<std::string> subprotocols{};
  bool permessage_deflate = true;
  std::size_t max_message = 4u << 20;       // a bigger message closes with 1009
  std::size_t max_send_buffer = 16u << 20;  // send() returns false past this many unsent bytes
  std::chrono::milliseconds connect_timeout{60'000};  // connection and handshake
  std::chrono::milliseconds close_timeout{5'000};     // wait for the peer's close frame
  // Keep-alive: after this long with nothing received, send a ping; if no
  // pong comes within ping_timeout, the connection is taken as dead and
  // closed (on_close: abnormal). Zero turns it off.
  std::chrono::milliseconds ping_interval{0};
  std::chrono::milliseconds ping_timeout{10'000};
  std::string proxy_url{};
  TlsOptions tls{};
};

class WebSocket {
 public:
  WebSocket();
  // Queue a text message (send) or a binary one (send_binary), as the
  // server's Channel does. False when the socket is closing/closed or the
  // send buffer is full.
  bool send(std::string data);
  bool send_binary(std::string data);
  bool ping(std::string payload = {});
  // Starts the closing handshake with `code`. Idempotent: false when the
  // socket is already closing or closed.
  bool close(uint16_t code = 1000, std::string_view reason = {});
  bool open() const;
  // The close code on_close reported (0 before the close).
  uint16_t close_code() const;
  // What the handshake agreed.
  std::string subprotocol() const;
  bool deflate() const;

 private:
  friend class client::WsSession;
  friend class Client;
  bool queue(std::string data, bool binary);
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace httpkit
