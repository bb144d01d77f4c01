// The worker's connect and response deadlines look at the socket once more
// before they count a timeout: a worker busy with other connections can
// reach its timers before events already waiting for it. A handshake that
// completed, a response that arrived, or room to send the rest of a
// request is not a timeout; silence, or a peer that still takes nothing,
// is one. Each case is set up for real on a loopback connection, then the
// timers run before the worker's loop looks at epoll (worker_probe.hpp).
// Responses in both workloads: HTTP and WebSocket.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/benchmark_text.hpp"
#include "worker_probe.hpp"
#include "ws/frame.hpp"
#include "ws_exchange.hpp"
#include "ws_server_side.hpp"

namespace httpkit::load {
namespace {

using test::WorkerUnderTest;

constexpr uint32_t kLength = 100;

LoadOptions deadline_options(Workload workload = Workload::http) {
  LoadOptions o;
  o.workload = workload;
  o.length = {kLength, kLength};
  // Only expire_timers() ends a wait or an idle period.
  o.idle_ms = {60000, 60000};
  o.connect_timeout_ms = 60000;
  o.response_timeout_ms = 60000;
  return o;
}

TEST(ConnectDeadline, AHandshakeAlreadyCompleteIsNotATimeout) {
  WorkerUnderTest w(deadline_options());
  ASSERT_TRUE(w.open());
  pollfd p{w.client_fd(), POLLOUT, 0};
  ASSERT_EQ(poll(&p, 1, test::kWaitMs), 1);  // connected; the worker has not seen it

  w.expire_timers();
  EXPECT_EQ(w.errors(LoadFailure::connect_timeout), 0u);
  EXPECT_EQ(w.slot().established.get(), 1u);
  EXPECT_EQ(w.slot().requests_sent.get(), 1u);
  EXPECT_EQ(w.connection().state, LoadState::awaiting);
}

TEST(ConnectDeadline, AConnectStillUnansweredIsATimeout) {
  WorkerUnderTest w(deadline_options(), 0, 0);
  ASSERT_TRUE(w.fill_backlog());
  ASSERT_TRUE(w.open());
  ASSERT_FALSE(test::writable(w.client_fd()));  // the SYN was dropped: the queue is full

  w.expire_timers();
  EXPECT_EQ(w.errors(LoadFailure::connect_timeout), 1u);
  EXPECT_EQ(w.slot().established.get(), 0u);
  EXPECT_EQ(w.connection().state, LoadState::unused);
}

// One workload as the peer plays it.
struct Script {
  const char* name;
  Workload workload;
  // After connect(): the peer's part until the first request is in flight.
  std::function<bool(WorkerUnderTest&)> begin;
  // The server's whole, right answer to the request in flight.
  std::function<std::string(WorkerUnderTest&)> answer;
  // How many whole requests the peer's bytes hold (after begin()'s), and
  // how many bytes they span.
  std::function<std::size_t(std::string_view, std::size_t& used)> requests_in;
};

const std::string kHttpRequest =
    "GET /?length=" + std::to_string(kLength) + " HTTP/1.1\r\nHost: localhost\r\n\r\n";

std::size_t http_requests_in(std::string_view bytes, std::size_t& used) {
  std::size_t n = 0;
  for (used = 0; bytes.substr(used).starts_with(kHttpRequest); used += kHttpRequest.size())
    ++n;
  return n;
}

// The upgrade head, then one masked text frame of kLength bytes per message.
std::size_t ws_messages_in(std::string_view bytes, std::size_t& used) {
  const std::size_t head_end = bytes.find("\r\n\r\n");
  used = 0;
  if (head_end == bytes.npos) return 0;
  used = head_end + 4;
  std::size_t n = 0;
  for (;;) {
    ws::FrameHeader h;
    const auto r = ws::parse_frame_header(bytes.substr(used), {ws::Role::server, false}, h);
    if (r.status != ws::HeaderStatus::complete || h.opcode != ws::Opcode::text || !h.fin ||
        !h.masked || h.payload_length != kLength ||
        bytes.size() - used < h.header_length + kLength) {
      return n;
    }
    used += h.header_length + kLength;
    ++n;
  }
}

const Script kHttp{
    "http",
    Workload::http,
    [](WorkerUnderTest&) { return true; },  // connect() sent the request
    [](WorkerUnderTest&) {
      return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kLength) + "\r\n\r\n" +
             std::string(benchmark::kText.substr(0, kLength));
    },
    http_requests_in,
};

const Script kWebSocket{
    "websocket",
    Workload::websocket,
    [](WorkerUnderTest& w) {
      if (!w.peer_receive_until([](std::string_view r) { return r.ends_with("\r\n\r\n"); }) ||
          !w.peer_send(test::server_answer(w.peer_received(), false)) ||
          !w.turn_until([&] { return w.connection().state == LoadState::idle; })) {
        return false;
      }
      w.expire_timers();  // the idle period after the 101 ends: the first message
      return true;
    },
    [](WorkerUnderTest& w) {
      return test::server_frame(ws::Opcode::text, WsExchange::message_payload(w.connection()));
    },
    ws_messages_in,
};

void PrintTo(const Script& script, std::ostream* out) {
  *out << script.name;
}

class ResponseDeadline : public ::testing::TestWithParam<Script> {
 protected:
  static LoadOptions options() { return deadline_options(GetParam().workload); }

  // Connected, the first request in flight, and `earlier` requests whole at the peer.
  bool request_in_flight(WorkerUnderTest& w, std::size_t earlier = 0) {
    return w.connect() && GetParam().begin(w) && w.connection().state == LoadState::awaiting &&
           w.peer_receive_until([&](std::string_view r) { return requests_in(r) > earlier; });
  }

  std::size_t requests_in(std::string_view bytes) {
    std::size_t used = 0;
    return GetParam().requests_in(bytes, used);
  }

  // Answers request after request without reading any, until the worker's
  // socket refuses part of one: the peer's window and the worker's send
  // buffer are full. Returns how many were answered.
  uint64_t answer_without_reading_until_sending(WorkerUnderTest& w) {
    // The smallest send buffer, so that this takes dozens of requests, not
    // the thousands a loopback buffer holds.
    const int smallest = 1;
    setsockopt(w.client_fd(), SOL_SOCKET, SO_SNDBUF, &smallest, sizeof smallest);
    uint64_t answered = 0;
    while (w.connection().state == LoadState::awaiting && answered < 100000) {
      if (!w.peer_send(GetParam().answer(w))) break;
      ++answered;
      if (!w.turn_until([&] { return w.connection().state == LoadState::idle; })) break;
      w.expire_timers();  // the idle period ends: the next request goes out
    }
    return answered;
  }
};

TEST_P(ResponseDeadline, AResponseAlreadyWaitingIsNotATimeout) {
  WorkerUnderTest w(options());
  ASSERT_TRUE(request_in_flight(w));
  const std::string response = GetParam().answer(w);
  ASSERT_TRUE(w.peer_send(response));
  ASSERT_TRUE(w.delivered());
  ASSERT_EQ(test::unread(w.client_fd()), int(response.size()));  // waiting, not read yet

  w.expire_timers();
  EXPECT_EQ(w.errors(LoadFailure::timeout), 0u);
  EXPECT_EQ(w.slot().responses_ok.get(), 1u);
  EXPECT_EQ(w.connection().state, LoadState::idle);
}

TEST_P(ResponseDeadline, NothingWaitingIsATimeout) {
  WorkerUnderTest w(options());
  ASSERT_TRUE(request_in_flight(w));
  ASSERT_EQ(test::unread(w.client_fd()), 0);

  w.expire_timers();
  EXPECT_EQ(w.errors(LoadFailure::timeout), 1u);
  EXPECT_EQ(w.slot().responses_ok.get(), 0u);
  EXPECT_EQ(w.slot().closed.get(), 1u);
  EXPECT_EQ(w.connection().state, LoadState::unused);
}

TEST_P(ResponseDeadline, ARequestTheSocketTakesAtTheDeadlineIsNotATimeout) {
  WorkerUnderTest w(options(), 1);
  ASSERT_TRUE(w.connect() && GetParam().begin(w));
  const uint64_t answered = answer_without_reading_until_sending(w);
  ASSERT_EQ(w.connection().state, LoadState::sending) << "after " << answered << " requests";
  // The peer reads everything: the worker's socket has room again, and the
  // worker has not seen it yet.
  ASSERT_TRUE(w.peer_drain());
  ASSERT_TRUE(test::writable(w.client_fd()));

  w.expire_timers();
  EXPECT_EQ(w.errors(LoadFailure::timeout), 0u);
  ASSERT_EQ(w.connection().state, LoadState::awaiting);
  // The rest of the request went out whole, nothing else did, and the
  // answer completes the exchange.
  ASSERT_TRUE(
      w.peer_receive_until([&](std::string_view r) { return requests_in(r) == answered + 1; }));
  std::size_t used = 0;
  GetParam().requests_in(w.peer_received(), used);
  EXPECT_EQ(used, w.peer_received().size());
  ASSERT_TRUE(w.peer_send(GetParam().answer(w)));
  EXPECT_TRUE(w.turn_until([&] { return w.slot().responses_ok.get() == answered + 1; }));
  EXPECT_EQ(w.connection().state, LoadState::idle);
  EXPECT_EQ(w.errors(LoadFailure::timeout), 0u);
}

TEST_P(ResponseDeadline, ARequestThePeerStillDoesNotTakeIsATimeout) {
  WorkerUnderTest w(options(), 1);
  ASSERT_TRUE(w.connect() && GetParam().begin(w));
  const uint64_t answered = answer_without_reading_until_sending(w);
  ASSERT_EQ(w.connection().state, LoadState::sending) << "after " << answered << " requests";
  ASSERT_TRUE(w.send_stalled());

  w.expire_timers();
  EXPECT_EQ(w.errors(LoadFailure::timeout), 1u);
  EXPECT_EQ(w.slot().responses_ok.get(), answered);
  EXPECT_EQ(w.connection().state, LoadState::unused);
}

INSTANTIATE_TEST_SUITE_P(Workloads, ResponseDeadline, ::testing::Values(kHttp, kWebSocket),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace httpkit::load
