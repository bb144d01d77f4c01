// The HTTP server as one event loop sees it: its listener, its
// connections, and the request/response cycle on each of them.
#pragma once

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
#include "server/connection.hpp"
#include "server/connection_table.hpp"
#include "server/handler_pool.hpp"

namespace httpkit::server {

// What every loop of a process shares (read-only once running).
struct SharedState {
  Handler handler;
  ServerOptions options;
  ConnectionTable table;
  std::unique_ptr<HandlerPool> pool;  // null: handlers run inline
  http::ParseLimits parse_limits;
  http::ChunkedLimits chunked_limits;
  std::size_t max_connections_per_loop;

  SharedState(Handler h, const ServerOptions& o, std::size_t per_loop_limit);
};

// What the response to a request needs to know about that request.
struct ResponseContext {
  int version_minor = 1;
  bool keep_alive = true;
  bool head_method = false;
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

 private:
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
  void close_connection(Connection& c);

  // Request side.
  bool consume(Connection& c, char* data, std::size_t size);
  void drain_input(Connection& c);
  std::size_t process(Connection& c, char* base, std::size_t size, RequestProgress& progress);
  Step advance(Connection& c, RequestProgress& p, char* base, std::size_t size,
               std::size_t& request_end);
  void stash(Connection& c, const RequestProgress& p, const char* base, std::size_t size);
  void dispatch(Connection& c, const RequestProgress& p, const char* base);
  void fail(Connection& c, int status, std::string_view reason);

  // Response side.
  void write_response(Connection& c, const ResponseContext& ctx, const Response& response);
  void complete_async(int fd, uint32_t generation, const ResponseContext& ctx,
                      const Response& response);
  void flush(Connection& c);
  void write_with_body(Connection& c, std::string_view body);
  void send_file(Connection& c, int file_fd, off_t offset, std::size_t length);
  bool continue_output(Connection& c);
  void update_timer(Connection& c);

  bool busy(const Connection& c) const {
    return c.phase == Phase::busy || c.output || c.close_after_write;
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
  http::HttpDate date_;
};

}  // namespace httpkit::server
