// One request from submission to callback: its hops (redirects), its retry,
// its timers, and the response it builds as the reader hands it over.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "client/body_source.hpp"
#include "client/redirect.hpp"
#include "client/request_encoder.hpp"
#include "client/response_reader.hpp"
#include "client/route.hpp"
#include "client/url.hpp"
#include "httpkit/client.hpp"
#include "io/timer_wheel.hpp"

namespace httpkit::client {

class ClientCore;
class UpstreamConnection;
class WsSession;
struct HostPool;
struct Exchange;

struct ExchangeTimer : io::TimerNode {
  Exchange* owner = nullptr;
};

enum class ExchangePhase : uint8_t {
  created,
  queued,      // waiting for a free connection (pool timeout)
  connecting,  // its own connection is being established (connect timeout)
  sending,     // request going out (idle timeout)
  receiving,   // request sent, response coming (idle timeout)
  done,
};

struct Exchange final : ResponseSink {
  Exchange(uint64_t exchange_id, RequestOptions options, ResponseCallback cb);

  // Parses the URL and proxy, adds the query params and encodes the body.
  // Runs on the submitting thread. Returns an error message or nullopt.
  std::optional<std::string> prepare();

  HeadAction on_head(const http::ResponseHeadView& head) override;
  Verdict on_body(std::string_view piece) override;

  std::string_view body_to_send() const {
    return send_body ? std::string_view(body.bytes) : std::string_view();
  }
  std::size_t request_size() const { return head.size() + body_to_send().size(); }
  bool request_sent() const {
    return written >= request_size() &&
           (!send_body || source.kind() == BodySource::Kind::none || source.done());
  }
  std::chrono::microseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 started);
  }

  const uint64_t id;
  std::shared_ptr<Exchange> self;  // the core's hold on a request in flight
  Exchange* live_prev = nullptr;   // the core's list of requests in flight
  Exchange* live_next = nullptr;
  RequestOptions opts;
  ResponseCallback callback;
  ClientCore* core = nullptr;

  // The current hop.
  Url url;
  std::optional<Url> proxy;
  std::string method;
  bool send_body = true;
  bool strip_credentials = false;
  EncodedBody body;
  BodySource source;  // body_file / body_stream, sent after `head`
  std::string head;
  std::size_t written = 0;
  Route route;

  HostPool* pool = nullptr;
  UpstreamConnection* conn = nullptr;
  ExchangePhase phase = ExchangePhase::created;
  ResponseReader reader;
  ClientResponse result;
  RedirectStep redirect;   // decided from the head, taken when the body is drained
  ClientError sink_error;  // why the sink stopped the reader
  uint64_t body_bytes = 0;
  uint64_t last_progress_ms = 0;  // the idle timer is re-armed lazily from this
  int redirects = 0;
  bool retried = false;
  bool fresh_connection = false;  // the retry: do not take an idle connection
  bool paused = false;            // streaming backpressure
  bool keep_alive = true;
  bool stream_mode = false;
  std::optional<std::string> prepare_error;
  std::shared_ptr<WsSession> ws;  // a WebSocket handshake: the 101 hands the connection over

  ExchangeTimer phase_timer;     // pool / connect / idle, by phase
  ExchangeTimer deadline_timer;  // total_timeout
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

}  // namespace httpkit::client
