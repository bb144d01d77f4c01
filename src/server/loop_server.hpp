// The HTTP server as one event loop sees it: its listener, its
// connections, and the request/response cycle on each of them.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/chunked_decoder.hpp"
#include "http/request_parser.hpp"
#include "http/response_writer.hpp"
#include "httpkit/server.hpp"
#include "io/event_loop.hpp"
#include "io/scheduled_tasks.hpp"
#include "server/connection.hpp"
#include "server/connection_table.hpp"
#include "server/handler_pool.hpp"
#include "server/server_channel.hpp"

namespace httpkit::server {

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

  SharedState(Handler h, const ServerOptions& o, std::size_t process_limit);
};

class LoopServer {
 public:
  LoopServer(SharedState& shared, int listen_fd);
  ~LoopServer();

  // Runs the loop on the calling thread until the drain completes.
  void run();
  // Thread-safe: stop accepting, close idle connections, finish the rest
  // within stop_timeout.
  void begin_stop();

  std::size_t connection_count() const { return connections_.load(std::memory_order_relaxed); }

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
  static constexpr std::size_t kReadBufferSize = 64 * 1024;
  enum class Step : uint8_t { need_more, complete, failed };

  static void on_listener_event(void* self, int fd, uint32_t events);
  static void on_connection_event(void* self, int fd, uint32_t events);
  static void on_connection_timer(io::TimerNode* node);
  static void on_stop_timer(io::TimerNode* node);
  static void on_accept_retry(io::TimerNode* node);

  void accept_all();
  void on_readable(Connection& c);
  void on_writable(Connection& c);
  void resume(Connection& c);
  void close_connection(Connection& c, CloseStatus why = CloseStatus::server_close);

  // Request side.
  bool consume(Connection& c, char* data, std::size_t size);
  void drain_input(Connection& c);
  std::size_t process(Connection& c, char* base, std::size_t size, RequestProgress& progress);
  Step advance(Connection& c, RequestProgress& p, char* base, std::size_t size,
               std::size_t& request_end);
  void stash(Connection& c, const RequestProgress& p, const char* base, std::size_t size);
  void dispatch(Connection& c, const RequestProgress& p, const char* base);
  // Answers a request that cannot be served and ends the connection.
  void fail(Connection& c, int status, std::string_view reason, std::string_view request);

  // Response side.
  void write_response(Connection& c, const ResponseContext& ctx, const Response& response);
  void complete_async(int fd, uint32_t generation, const ResponseContext& ctx,
                      const Response& response);
  void flush(Connection& c);
  void write_with_body(Connection& c, std::string_view body);
  void send_file(Connection& c, int file_fd, off_t offset, std::size_t length);
  bool continue_output(Connection& c);
  void update_timer(Connection& c);

  // Channels (loop_channels.cpp).
  void start_channel(Connection& c, const ResponseContext& ctx, const ChannelBody& body);
  void http_channel_apply(Connection& c, ServerChannel& ch, ServerChannel::Outgoing& out);
  void finish_http_channel(Connection& c);
  void release_channel(Connection& c, CloseStatus why);
  void account_output(Connection& c, std::size_t leaving = 0);
  void emit(Connection& c, std::string_view bytes);

  // WebSocket (loop_websocket.cpp).
  void start_websocket(Connection& c, const ResponseContext& ctx, const ChannelBody& body);
  void ws_readable(Connection& c);
  void ws_consume(Connection& c, char* data, std::size_t size);
  void ws_apply(Connection& c, ServerChannel& ch, ServerChannel::Outgoing& out);
  void ws_close(Connection& c, ServerChannel& ch, uint16_t code, std::string_view reason);
  void ws_timer_fired(Connection& c);
  void arm_ws_timer(Connection& c);
  // A new connection's deflate context: the loop's shared one for its
  // window sizes when no context takeover was agreed, else its own.
  ws::DeflateContext* deflate_context(const ws::DeflateParams& params);

  bool busy(const Connection& c) const {
    return c.phase == Phase::busy || c.phase == Phase::websocket || c.output || c.close_after_write;
  }

  SharedState& shared_;
  const ServerOptions& options_;
  io::EventLoop loop_;
  int listen_fd_;
  uint8_t listener_kind_ = 0, connection_kind_ = 0;
  bool accepting_paused_ = false;
  bool draining_ = false;
  std::atomic<std::size_t> connections_{0};
  struct LoopTimer : io::TimerNode {
    LoopServer* self = nullptr;
  };
  LoopTimer stop_timer_, accept_retry_timer_;

  std::unique_ptr<char[]> read_buffer_;
  std::string out_;  // responses produced for the connection being served
  std::vector<http::HeaderField> header_storage_;
  http::RequestHead parsed_head_;           // the last head advance() parsed...
  const char* parsed_head_base_ = nullptr;  // ...and where its bytes were
  http::HttpDate date_;
  io::ScheduledTasks tasks_{loop_};
  ws::SharedDeflateContext shared_deflate_;  // for connections without context takeover
  // ...and the contexts that use it, one per (server, client) window bits 8..15.
  std::array<std::unique_ptr<ws::DeflateContext>, 64> stateless_deflate_;
  std::string frame_scratch_;      // a compressed message being framed
  Connection* serving_ = nullptr;  // the connection whose bytes out_ holds
  bool hangup_seen_ = false;       // the event being handled reported the peer's FIN
};

// Marks `c` as the connection the loop's output buffer is for, for the
// length of a scope. Entered for another connection (a handler sending to
// a second channel), it sets the first one's pending output aside.
class ServingScope {
 public:
  ServingScope(LoopServer& server, Connection& c)
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
  Connection* was_;
  bool nested_;
  std::string saved_;
};

}  // namespace httpkit::server
