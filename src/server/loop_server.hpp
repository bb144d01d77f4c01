// The HTTP server as one event loop sees it: its connections and their
// life from accept to close. The work is split by protocol:
//
//   acceptor.cpp              new connections (class Acceptor)
//   loop_server.cpp           events, deadlines, lifetime, graceful stop
//   http1_connection.cpp      the HTTP/1 request cycle
//   response_output.cpp       response heads and bodies onto the stream
//   websocket_connection.cpp  frames in and out after the 101
//   channel_plumbing.cpp      what a Channel's sends do to its connection
//
// Bytes move only through io::Stream, so a layer (TLS) under a connection
// changes nothing here.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/chunked_decoder.hpp"
#include "http/request_parser.hpp"
#include "http/response_writer.hpp"
#include "httpkit/server.hpp"
#include "io/event_loop.hpp"
#include "io/heap_trim.hpp"
#include "io/scheduled_tasks.hpp"
#include "io/stream.hpp"
#include "server/acceptor.hpp"
#include "server/connection_table.hpp"
#include "server/handler_pool.hpp"
#include "server/server_channel.hpp"
#include "server/server_connection.hpp"
#include "server/server_log.hpp"

namespace httpkit::server {

struct BodyStream;
class BodyStreamHandle;

// The deadlines that can end a connection, counted per process and logged
// when it stops: the first thing to look at when clients report closes.
enum class Deadline : uint8_t { first_request, head, body, idle, write, handshake, count };

inline std::string_view deadline_event(Deadline d) {
  static constexpr std::string_view kEvents[] = {
      server_events::timeout_first_request, server_events::timeout_head,
      server_events::timeout_body,          server_events::timeout_idle,
      server_events::timeout_write,         server_events::timeout_handshake};
  static_assert(std::size(kEvents) == std::size_t(Deadline::count));
  return kEvents[std::size_t(d)];
}

// What every loop of a process shares (read-only once running).
struct SharedState {
  Handler handler;
  ServerOptions options;
  ConnectionTable table;
  std::unique_ptr<HandlerPool> pool;  // null: handlers run inline
  http::ParseLimits parse_limits;
  http::ChunkedLimits chunked_limits;
  std::size_t max_connections;               // this process, all loops together
  std::atomic<std::size_t> connections{0};   // open in this process
  std::atomic<std::size_t> queued_total{0};  // bytes queued by all channels
  std::array<std::atomic<uint64_t>, std::size_t(Deadline::count)> deadline_closes{};
  // The layer each new connection from a layered listener gets (TLS);
  // null: plain bytes. Set before the loops start.
  std::function<std::unique_ptr<io::StreamLayer>()> layer_factory;

  SharedState(Handler h, const ServerOptions& o, std::size_t process_limit);
};

// A listening socket of a loop, whether its connections get the layer, and
// whether the process's other loops accept from it too.
struct Listener {
  std::shared_ptr<ListenSocket> socket;
  bool layered;
  bool shared = false;
};

class LoopServer {
 public:
  // One listener, layered when the shared state has a layer factory.
  LoopServer(SharedState& shared, int listen_fd);
  LoopServer(SharedState& shared, const std::vector<Listener>& listeners);
  ~LoopServer();

  // Runs the loop on the calling thread until the drain completes.
  void run();
  // Thread-safe: stop accepting, close idle connections, finish the rest
  // within stop_timeout (or `timeout`; again while draining, a shorter
  // one brings the cut forward).
  void begin_stop();
  void begin_stop(std::chrono::milliseconds timeout);

  std::size_t connection_count() const { return connections_.load(std::memory_order_relaxed); }

  // For the acceptor.
  bool has_room() const {
    return shared_.connections.load(std::memory_order_relaxed) < shared_.max_connections;
  }
  void adopt(int fd, bool layered);

  // For channels (any thread unless noted).
  const ServerOptions& options() const { return options_; }
  std::atomic<std::size_t>& queued_total() { return shared_.queued_total; }
  bool in_loop_thread() const { return loop_.in_loop_thread(); }
  void post(io::EventLoop::Task task) { loop_.post(std::move(task)); }
  ScheduledTask schedule(std::chrono::milliseconds delay, std::function<void()> task) {
    return ScheduledTask(tasks_.schedule(delay, std::move(task)));
  }
  void channel_apply(ServerChannel& channel, ServerChannel::Outgoing out);  // loop thread

 private:
  friend class ServingScope;
  enum class Step : uint8_t { need_more, complete, failed };

  // Lifetime and events (loop_server.cpp).
  static void on_connection_event(void* self, int fd, uint32_t events);
  static void on_connection_timer(io::TimerNode* node);
  static void on_stop_timer(io::TimerNode* node);
  io::Stream stream(const ServerConnection& c) {
    return io::Stream(loop_, c.fd, shared_.table.layer(c.fd));
  }
  // The connection served by this loop at `fd`, if it is still the one a
  // task from outside the loop's call stack was made for.
  ServerConnection* find(int fd, uint32_t generation);
  void close_connection(ServerConnection& c, CloseStatus why = CloseStatus::server_close);
  // The answer went out and the connection ends: at once, or, after an
  // error cut a request short, after lingering (lingering_close.cpp).
  void finish_connection(ServerConnection& c);
  void start_linger(ServerConnection& c);
  void linger_readable(ServerConnection& c);
  void release_closed();
  void on_writable(ServerConnection& c);
  void resume(ServerConnection& c);
  void update_timer(ServerConnection& c);
  void arm(ServerConnection& c, std::chrono::milliseconds delay);
  void arm_stall(ServerConnection& c, std::chrono::milliseconds delay, bool in_body);
  // False while the connection's TLS handshake runs (its deadline applies).
  bool handshake_over(ServerConnection& c);
  void count(Deadline d) {
    shared_.deadline_closes[std::size_t(d)].fetch_add(1, std::memory_order_relaxed);
    log_event(options_, deadline_event(d));
  }

  // The HTTP/1 request cycle (http1_connection.cpp).
  void on_readable(ServerConnection& c, bool peer_closing);
  void consume(ServerConnection& c, char* data, std::size_t size);
  void drain_input(ServerConnection& c);
  std::size_t process(ServerConnection& c, char* base, std::size_t size, RequestProgress& progress);
  Step advance(ServerConnection& c, RequestProgress& p, char* base, std::size_t size,
               std::size_t& request_end);
  void stash(ServerConnection& c, const RequestProgress& p, const char* base, std::size_t size);
  void dispatch(ServerConnection& c, const RequestProgress& p, const char* base);
  // Answers a request that cannot be served and ends the connection.
  void fail(ServerConnection& c, int status, std::string_view reason, std::string_view request);
  void complete_async(int fd, uint32_t generation, const ResponseContext& ctx,
                      const Response& response);
  // A handler's answer to a request: refuses a streamed body it did not take.
  void answer(ServerConnection& c, const ResponseContext& ctx, const Response& response);
  bool plan_body(ServerConnection& c, const http::RequestHead& head, RequestProgress& p);

  // Streamed request bodies (request_body_stream.cpp).
  friend class BodyStreamHandle;
  void begin_body_stream(ServerConnection& c, const RequestProgress& p, bool expect_continue,
                         const ResponseContext& ctx);
  void start_body_stream(ServerConnection& c, const ResponseContext& ctx, const ReceiveBody& body);
  // Hands body bytes from `data` to the handler; returns how many it took
  // (fewer when paused, answered or at the body's end).
  std::size_t feed_body(ServerConnection& c, char* data, std::size_t size);
  bool deliver(ServerConnection& c, BodyStream& s, std::string_view piece);
  void end_body(ServerConnection& c, BodyStream& s);
  // Ends the stream early; `status` (0: none) is answered if it can be.
  void abort_body(ServerConnection& c, BodyAbort reason, int status);
  void drop_body_stream(ServerConnection& c);
  void hold_body(ServerConnection& c);
  BodyStream* body_stream(const ServerConnection& c);
  void body_pause_changed(BodyStreamHandle& handle);
  void body_respond(BodyStreamHandle& handle, Response response);

  // Responses onto the stream (response_output.cpp).
  void write_response(ServerConnection& c, const ResponseContext& ctx, const Response& response);
  void flush(ServerConnection& c);
  void write_with_body(ServerConnection& c, std::string_view body);
  void send_file(ServerConnection& c, std::shared_ptr<const OpenFile> file, off_t offset,
                 std::size_t length);
  bool continue_output(ServerConnection& c);

  // Channels (channel_plumbing.cpp).
  void start_channel(ServerConnection& c, const ResponseContext& ctx, const ChannelBody& body);
  void http_channel_apply(ServerConnection& c, ServerChannel& ch, ServerChannel::Outgoing& out);
  void finish_http_channel(ServerConnection& c);
  void release_channel(ServerConnection& c, CloseStatus why);
  void account_output(ServerConnection& c, std::size_t leaving = 0);
  void emit(ServerConnection& c, std::string_view bytes);

  // Streamed HTTP output: output filters and stream bodies (http_stream.cpp).
  void start_stream(ServerConnection& c, const ResponseContext& ctx, const Response& response);
  void post_pull(ServerChannel& ch);
  bool write_stream_head(ServerConnection& c, ServerChannel& ch, int status,
                         std::span<const Header> headers, const std::string_view* whole);
  bool write_stream_piece(ServerConnection& c, ServerChannel& ch, std::string_view data, bool flush,
                          bool last);
  void pull_stream(ServerConnection& c, ServerChannel& ch);
  void fail_stream(ServerConnection& c, std::string_view why);

  // WebSocket (websocket_connection.cpp).
  void start_websocket(ServerConnection& c, const ResponseContext& ctx, const ChannelBody& body);
  void ws_readable(ServerConnection& c, bool peer_closing);
  void ws_consume(ServerConnection& c, char* data, std::size_t size);
  void ws_apply(ServerConnection& c, ServerChannel& ch, ServerChannel::Outgoing& out);
  void ws_close(ServerConnection& c, ServerChannel& ch, uint16_t code, std::string_view reason);
  void ws_timer_fired(ServerConnection& c);
  void arm_ws_timer(ServerConnection& c);
  // The loop owns every deflate context. A channel gets the shared one for
  // its window sizes when no context takeover was agreed, else one of its
  // own, kept until the channel is released.
  void attach_deflate(ServerChannel& ch, const ws::DeflateParams& params);
  void detach_deflate(ServerChannel& ch);

  bool busy(const ServerConnection& c) const {
    return c.phase == Phase::busy || c.phase == Phase::websocket || c.output || c.close_after_write;
  }

  SharedState& shared_;
  const ServerOptions& options_;
  io::EventLoop loop_;
  io::HeapTrim heap_trim_{loop_};  // after bursts of TLS handshakes
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  uint8_t connection_kind_ = 0;
  bool draining_ = false;
  uint64_t stop_deadline_ms_ = 0;  // when draining: the loop's time of the cut
  std::atomic<std::size_t> connections_{0};
  struct StopTimer {
    io::TimerNode node;
    LoopServer* self = nullptr;
  } stop_timer_;
  std::vector<int> closed_;  // closed this iteration; released after it
  // Streamed bodies by fd (ServerConnection::streaming says there is one),
  // and those ended this iteration, freed after it like closed_.
  std::unordered_map<int, std::unique_ptr<BodyStream>> body_streams_;
  std::vector<std::unique_ptr<BodyStream>> retired_streams_;

  std::string out_;  // responses produced for the connection being served
  std::vector<http::HeaderField> header_storage_;
  http::RequestHead parsed_head_;           // the last head advance() parsed...
  const char* parsed_head_base_ = nullptr;  // ...and where its bytes were
  http::HttpDate date_;
  io::ScheduledTasks tasks_{loop_};
  ws::SharedDeflateContext shared_deflate_;  // for connections without context takeover
  // ...and the contexts that use it, one per (server, client) window bits 8..15.
  std::array<std::unique_ptr<ws::DeflateContext>, 64> stateless_deflate_;
  // ...and those of channels that keep context.
  std::unordered_map<const ws::DeflateContext*, std::unique_ptr<ws::DeflateContext>> kept_deflate_;
  std::string frame_scratch_;            // a compressed message being framed
  ServerConnection* serving_ = nullptr;  // the connection whose bytes out_ holds
};

// Marks `c` as the connection the loop's output buffer is for, for the
// length of a scope. Entered for another connection (a handler sending to
// a second channel), it sets the first one's pending output aside.
class ServingScope {
 public:
  ServingScope(LoopServer& server, ServerConnection& c)
      : server_(server), was_(server.serving_), nested_(was_ == &c) {
    if (nested_) return;
    if (was_) saved_.swap(server_.out_);
    server_.serving_ = &c;
  }
  ~ServingScope() {
    if (nested_) return;
    server_.serving_ = was_;
    if (was_) server_.out_.swap(saved_);
  }
  ServingScope(const ServingScope&) = delete;
  bool nested() const { return nested_; }
  // Entered while the loop serves another connection (whose request views
  // point into the loop's shared header storage).
  bool inside_another() const { return was_ && !nested_; }

 private:
  LoopServer& server_;
  ServerConnection* was_;
  bool nested_;
  std::string saved_;
};

}  // namespace httpkit::server
