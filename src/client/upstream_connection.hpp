// One client connection: establishing it (DNS, TCP, proxy CONNECT, TLS),
// then carrying one request at a time, idling in its pool in between.
//
// A connection knows its socket and the bytes on it; what the bytes mean
// for a request is the Exchange's business and what to do next is the
// ClientCore's. It reports up through the core and never frees itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/resolver.hpp"
#include "client/response_reader.hpp"
#include "client/tls_layer.hpp"
#include "io/stream.hpp"
#include "io/timer_wheel.hpp"

namespace httpkit::client {

class ClientCore;
class UpstreamConnection;
class WsSession;
struct Exchange;
struct HostPool;

struct UpstreamTimer : io::TimerNode {
  UpstreamConnection* owner = nullptr;
};

enum class UpstreamState : uint8_t {
  resolving,    // waiting for the resolver
  connecting,   // TCP connect in progress
  tunnelling,   // CONNECT sent to the proxy, waiting for its 2xx
  handshaking,  // TLS handshake
  busy,         // carrying `exchange`
  idle,         // in the pool's idle list
  websocket,    // upgraded: `ws` owns the bytes now
  closed,
};

class UpstreamConnection {
 public:
  UpstreamConnection(ClientCore& core, HostPool& pool, uint64_t id);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  // Starts establishing the connection for the attached exchange.
  void dial();
  // Sends the attached exchange's request (the connection is established).
  void start_request();
  // The loop reported `events` on the socket.
  void on_event(uint32_t events);
  // Streaming resumed: hand on what was held back, then read the socket.
  void resume_reading();
  // Closes the socket and forgets the dial; reports nothing.
  void shut();

  int fd() const { return stream_.fd(); }
  // The socket, with TLS as its layer for https and wss.
  io::Stream& stream() { return stream_; }
  // One line for a failed receive or send: the TLS layer's reason, or
  // `op` and the errno.
  std::string failure_text(const io::IoResult& result, const char* op) const;
  // Bytes that came after an upgrade's 101 head.
  std::string take_inbox() { return std::move(inbox_); }
  std::shared_ptr<WsSession> ws;  // set when upgraded
  bool tls() const { return tls_ != nullptr; }

  // Intrusive timer: the keep-alive expiry while idle.
  UpstreamTimer idle_timer;
  ClientCore& core;
  HostPool& pool;
  const uint64_t id;
  Exchange* exchange = nullptr;
  UpstreamConnection* idle_prev = nullptr;  // the pool's idle list, most recently used first
  UpstreamConnection* idle_next = nullptr;
  UpstreamState state = UpstreamState::resolving;
  uint32_t requests = 0;      // requests sent on it: > 0 means a reused connection
  uint32_t generation = 0;    // changes whenever it starts or stops serving an exchange
  uint64_t keepalive_ms = 0;  // idle expiry, from the last exchange's options
  bool leftover = false;      // bytes came after the response: do not reuse
  bool upgraded = false;      // left its pool for a WebSocket session
  bool peer_closed = false;   // the last event said the peer shut its side: read to the end

 private:
  struct Dial {
    std::vector<Address> addresses;
    std::size_t next = 0;
    int last_errno = 0;
    std::string last_error;
    uint64_t ticket = 0;
    std::string proxy_out;  // the CONNECT request, until written
    std::size_t proxy_out_offset = 0;
    std::string proxy_in;  // the proxy's answer, until its head is complete
  };

  // Establishing (dial.cpp).
  void on_resolved(const Resolution& resolution);
  void connect_next();
  void on_connect_ready();
  void on_connected();
  void proxy_ready();
  void write_connect();
  void read_connect_answer();
  bool on_connect_answer();
  void start_tls(bool to_proxy);
  void continue_handshake();
  void established();
  void dial_failed(ErrorKind kind, std::string message, int sys_errno = 0);

  // Carrying a request (connection.cpp).
  void write_request();
  bool write_body_source(Exchange& ex);
  void read_response();
  // Acts on what the reader said; false when the connection is no longer
  // reading for the same exchange.
  bool handle(const ResponseReader::Result& result, char* data, std::size_t size);
  void check_idle();

  void close_stream();

  io::Stream stream_;
  std::unique_ptr<TlsLayer> tls_;        // the stream's layer, once TLS to the origin starts
  std::unique_ptr<TlsLayer> proxy_tls_;  // an https proxy's session (tls_ runs inside it)
  std::unique_ptr<Dial> dial_;
  std::string inbox_;  // bytes read but held back by a pause
};

}  // namespace httpkit::client
