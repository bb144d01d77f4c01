// WebSocket channels over real sockets: handshake, echo, close handshake,
// failures with their close codes, timeouts, and pub/sub across loops.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#if defined(__SANITIZE_ADDRESS__)
// ASan's allocator (sanitizer/allocator_interface.h, which GCC does not ship).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

#include "httpkit/channel.hpp"
#include "httpkit/topic.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"
#include "ws/frame.hpp"

namespace httpkit::test {
namespace {

using namespace std::chrono_literals;

const char* kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

std::string client_frame(ws::Opcode op, std::string_view payload, bool fin = true) {
  std::string out;
  ws::OutgoingFrame f;
  f.opcode = op;
  f.fin = fin;
  f.mask = ws::MaskKey{1, 2, 3, 4};
  ws::append_frame(out, f, payload);
  return out;
}

struct Frame {
  int opcode = -1;
  std::string payload;
  uint16_t close_code() const {
    return payload.size() >= 2 ? uint16_t((uint8_t(payload[0]) << 8) | uint8_t(payload[1])) : 0;
  }
};

// Reads one unmasked server frame through RawClient's buffered reads.
Frame read_frame(RawClient& c) {
  Frame f;
  std::string h = c.read_exact(2);
  if (h.size() < 2) return f;
  f.opcode = uint8_t(h[0]) & 0x0f;
  uint64_t len = uint8_t(h[1]) & 0x7f;
  if (len == 126) {
    std::string e = c.read_exact(2);
    len = (uint8_t(e[0]) << 8) | uint8_t(e[1]);
  } else if (len == 127) {
    std::string e = c.read_exact(8);
    len = 0;
    for (char ch : e)
      len = (len << 8) | uint8_t(ch);
  }
  f.payload = c.read_exact(len);
  return f;
}

std::shared_ptr<ChannelHandlers> echo() {
  auto h = std::make_shared<ChannelHandlers>();
  h->on_receive = [](const ChannelPtr& ch, std::string_view m, bool binary) {
    binary ? ch->send_binary(std::string(m)) : ch->send(std::string(m));
  };
  return h;
}

RawResponse upgrade(RawClient& c) {
  c.send(kUpgrade);
  return c.read_response(/*head_request=*/true);
}

TEST(WebSocket, HandshakeEchoAndCloseHandshake) {
  auto handlers = echo();
  std::atomic<int> closes{0};
  std::atomic<CloseStatus> status{CloseStatus::unknown};
  handlers->on_close = [&](const ChannelPtr& ch, CloseStatus s) {
    EXPECT_TRUE(ch->is_websocket());
    status = s;
    ++closes;
  };
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  RawResponse r = upgrade(c);
  ASSERT_EQ(r.status, 101);
  EXPECT_EQ(r.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  c.send(client_frame(ws::Opcode::text, "hello") + client_frame(ws::Opcode::binary, "\x01\x02"));
  Frame a = read_frame(c), b = read_frame(c);
  EXPECT_EQ(a.opcode, 1);
  EXPECT_EQ(a.payload, "hello");
  EXPECT_EQ(b.opcode, 2);
  // Fragmented, with a ping in between: reassembled, ping answered first.
  c.send(client_frame(ws::Opcode::text, "frag", false) + client_frame(ws::Opcode::ping, "p") +
         client_frame(ws::Opcode::continuation, "ment"));
  Frame pong = read_frame(c);
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(pong.payload, "p");
  EXPECT_EQ(read_frame(c).payload, "fragment");
  std::string close_payload =
      "\x0f\xa0"
      "bye";  // 4000
  c.send(client_frame(ws::Opcode::close, close_payload));
  Frame echo_close = read_frame(c);
  EXPECT_EQ(echo_close.opcode, 8);
  EXPECT_EQ(echo_close.close_code(), 4000);
  EXPECT_TRUE(c.closed_by_peer());
  for (int i = 0; i < 100 && closes == 0; ++i)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(closes.load(), 1);
  EXPECT_EQ(status.load(), CloseStatus::unknown);  // 4000 is an application code
}

struct Failure {
  const char* name;
  std::string bytes;
  uint16_t code;
};

class WebSocketFailure : public ::testing::TestWithParam<Failure> {};

TEST_P(WebSocketFailure, ClosesWithTheRfcCode) {
  auto handlers = echo();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  c.send(GetParam().bytes);
  Frame f = read_frame(c);
  EXPECT_EQ(f.opcode, 8);
  EXPECT_EQ(f.close_code(), GetParam().code);
  EXPECT_TRUE(c.closed_by_peer());
}

std::string unmasked(std::string_view payload) {
  std::string out;
  ws::OutgoingFrame f;
  f.opcode = ws::Opcode::text;
  ws::append_frame(out, f, payload);
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Server, WebSocketFailure,
    ::testing::Values(
        Failure{"unmasked", unmasked("x"), 1002},
        Failure{"reserved_opcode", std::string("\x83\x80\x01\x02\x03\x04", 6), 1002},
        Failure{"rsv2", std::string("\xa1\x80\x01\x02\x03\x04", 6), 1002},
        Failure{"fragmented_ping", client_frame(ws::Opcode::ping, "x", false), 1002},
        Failure{"big_ping", client_frame(ws::Opcode::ping, std::string(126, 'p')), 1002},
        Failure{"bad_utf8", client_frame(ws::Opcode::text, "\xc3\x28"), 1007},
        Failure{"utf8_split_across_fragments",
                client_frame(ws::Opcode::text, "ok\xe2\x82", false) +
                    client_frame(ws::Opcode::continuation, "\x28"),
                1007},
        Failure{"continuation_first", client_frame(ws::Opcode::continuation, "x"), 1002},
        Failure{"too_big",
                std::string("\x82\xff\x00\x00\x00\x00\x01\x00\x00\x00\x01\x02\x03\x04", 14), 1009}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(WebSocket, BadHandshakesGet400Or426) {
  auto handlers = echo();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  {
    RawClient c(server.port());
    c.send(
        "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 426);
    EXPECT_EQ(r.get("sec-websocket-version"), "13");
  }
  {
    RawClient c(server.port());
    c.send(
        "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 400);
  }
}

TEST(WebSocket, ServerCloseWaitsForThePeersCloseFrame) {
  std::promise<ChannelPtr> opened;
  auto handlers = echo();
  handlers->on_open = [&](const ChannelPtr& ch) { opened.set_value(ch); };
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  ChannelPtr ch = opened.get_future().get();
  EXPECT_TRUE(ch->close(1001, "going"));
  Frame f = read_frame(c);
  EXPECT_EQ(f.close_code(), 1001);
  EXPECT_EQ(f.payload.substr(2), "going");
  EXPECT_FALSE(ch->open());
  EXPECT_FALSE(ch->send("late"));
  c.send(client_frame(ws::Opcode::close, "\x03\xe9"));
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(WebSocket, PingsFindDeadPeers) {
  ServerOptions o = test_options();
  o.ws_ping_interval = 100ms;
  o.ws_pong_timeout = 100ms;
  auto handlers = echo();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); }, o);
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  Frame ping = read_frame(c);
  EXPECT_EQ(ping.opcode, 9);
  c.send(client_frame(ws::Opcode::pong, ""));  // alive: the next ping comes
  EXPECT_EQ(read_frame(c).opcode, 9);
  // No answer this time: the server hangs up.
  EXPECT_TRUE(c.closed_by_peer(2000));
}

TEST(WebSocket, IdleTimeoutClosesWith1001) {
  ServerOptions o = test_options();
  o.ws_idle_timeout = 150ms;
  auto handlers = echo();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); }, o);
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  Frame f = read_frame(c);
  EXPECT_EQ(f.close_code(), 1001);
}

// RFC 6455 5.5.3: pings read together, not yet answered, get one pong, for
// the latest; a ping after another frame gets its own.
TEST(WebSocket, ARunOfPingsGetsOnePongForTheLatest) {
  auto handlers = echo();
  std::atomic<int> pings{0};
  handlers->on_ping = [&](const ChannelPtr&, std::string_view) { ++pings; };
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  RawClient c(server.port());
  ASSERT_EQ(upgrade(c).status, 101);
  // One write: one read on loopback.
  c.send(client_frame(ws::Opcode::ping, "first") + client_frame(ws::Opcode::ping, "second") +
         client_frame(ws::Opcode::ping, "third") + client_frame(ws::Opcode::text, "text") +
         client_frame(ws::Opcode::ping, "fourth"));
  Frame a = read_frame(c), b = read_frame(c), d = read_frame(c);
  EXPECT_EQ(a.opcode, 0xA);
  EXPECT_EQ(a.payload, "third");
  EXPECT_EQ(b.opcode, 1);
  EXPECT_EQ(b.payload, "text");
  EXPECT_EQ(d.opcode, 0xA);
  EXPECT_EQ(d.payload, "fourth");
  EXPECT_EQ(pings.load(), 4);  // on_ping still hears every one
}

// Heap bytes in use in this process (server and client alike), from
// whichever allocator the build has.
std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

// A WebSocket client on a non-blocking socket, so that a test can flood the
// server without reading and tell "sent" from "the server stopped reading".
class FloodClient {
 public:
  // `receive_buffer` (bytes, 0: the kernel's) shrinks the window the server may fill.
  explicit FloodClient(uint16_t port, int receive_buffer = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    std::string_view request = kUpgrade;
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
      return;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    while (rx_.find("\r\n\r\n") == std::string::npos && recv(fd_, &c, 1, 0) == 1)
      rx_ += c;
    upgraded_ = rx_.compare(0, 12, "HTTP/1.1 101") == 0;
    rx_.clear();
    fcntl(fd_, F_SETFL, O_NONBLOCK);
  }
  ~FloodClient() { close(fd_); }
  FloodClient(const FloodClient&) = delete;

  bool upgraded() const { return upgraded_; }
  void shutdown_write() { shutdown(fd_, SHUT_WR); }

  // Sends `bytes`, consuming them, unless the server takes nothing for
  // `stall` (then false: it stopped reading; `bytes` holds the rest). Never reads.
  bool send(std::string_view& bytes, std::chrono::milliseconds stall) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(std::size_t(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, int(stall.count())) == 0) return false;
    }
    return true;
  }

  // Sends `tx` while reading what comes back, until `done` says enough
  // (given every frame read so far) or the deadline passes.
  template <typename Done>
  bool exchange(std::string tx, std::chrono::milliseconds timeout, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t sent = 0;
    for (;;) {
      while (auto f = take_frame()) {
        if (done(*f)) return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, short(POLLIN | (sent < tx.size() ? POLLOUT : 0)), 0};
      if (poll(&p, 1, int(left.count())) < 0) return false;
      if (p.revents & POLLOUT) {
        ssize_t n = ::send(fd_, tx.data() + sent, tx.size() - sent, MSG_NOSIGNAL);
        if (n > 0) sent += std::size_t(n);
      }
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[65536];
        ssize_t n = recv(fd_, buf, sizeof buf, 0);
        if (n == 0) return false;
        if (n > 0) rx_.append(buf, std::size_t(n));
      }
    }
  }

 private:
  std::optional<Frame> take_frame() {
    std::string_view b(rx_);
    b.remove_prefix(pos_);
    if (b.size() < 2) return compact();
    Frame f;
    f.opcode = uint8_t(b[0]) & 0x0f;
    uint64_t len = uint8_t(b[1]) & 0x7f;
    std::size_t head = 2;
    if (len == 126) {
      if (b.size() < 4) return compact();
      len = (uint8_t(b[2]) << 8) | uint8_t(b[3]);
      head = 4;
    } else if (len == 127) {
      if (b.size() < 10) return compact();
      len = 0;
      for (int i = 2; i < 10; ++i)
        len = (len << 8) | uint8_t(b[i]);
      head = 10;
    }
    if (b.size() < head + len) return compact();
    f.payload.assign(b.substr(head, len));
    pos_ += head + len;
    return f;
  }
  std::optional<Frame> compact() {
    rx_.erase(0, pos_);
    pos_ = 0;
    return std::nullopt;
  }

  int fd_ = -1;
  bool upgraded_ = false;
  std::string rx_;
  std::size_t pos_ = 0;
};

// Echo handlers that also hand over the channel and count what arrives.
struct Observed {
  std::promise<ChannelPtr> opened;
  std::atomic<bool> promised{false};
  std::atomic<uint64_t> pings{0}, received{0};

  std::shared_ptr<ChannelHandlers> handlers() {
    auto h = echo();
    h->on_open = [this](const ChannelPtr& ch) {
      if (!promised.exchange(true)) opened.set_value(ch);
    };
    h->on_ping = [this](const ChannelPtr&, std::string_view) { ++pings; };
    auto inner = h->on_receive;
    h->on_receive = [this, inner](const ChannelPtr& ch, std::string_view m, bool binary) {
      received += m.size();
      inner(ch, m, binary);
    };
    return h;
  }
};

bool another_connection_is_served(uint16_t port) {
  RawClient other(port);
  if (upgrade(other).status != 101) return false;
  other.send(client_frame(ws::Opcode::text, "are you there?"));
  return read_frame(other).payload == "are you there?";
}

// A peer that sends pings and never reads: every ping wants a pong (RFC 6455
// 5.5.2), and 300,000 of them once made the server queue 38 MB of pongs.
// The server answers only the latest of pings it has not answered yet (5.5.3)
// and stops reading a peer its answers cannot reach, so its memory stays
// bounded; other connections are served meanwhile.
TEST(WebSocket, APingFloodFromAPeerThatNeverReadsStaysBounded) {
  Observed seen;
  auto handlers = seen.handlers();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  FloodClient flooder(server.port());
  ASSERT_TRUE(flooder.upgraded());
  auto opened = seen.opened.get_future();
  ASSERT_EQ(opened.wait_for(5s), std::future_status::ready);
  ChannelPtr ch = opened.get();

  constexpr int kPings = 300'000, kBatch = 2'000;
  const std::string ping = client_frame(ws::Opcode::ping, std::string(125, 'p'));
  std::string batch;
  for (int i = 0; i < kBatch; ++i)
    batch += ping;
  const std::string last_payload = std::string("the last ping").append(112, '.');
  std::string last_batch = batch.substr(ping.size());
  last_batch += client_frame(ws::Opcode::ping, last_payload);
  const std::size_t base = heap_in_use();
  std::size_t peak = base, max_queued = 0;
  int sent = 0;  // whole batches
  bool stalled = false;
  std::string_view unsent;
  std::thread other;
  while (sent < kPings && !stalled) {
    unsent = sent + kBatch == kPings ? last_batch : batch;
    stalled = !flooder.send(unsent, 2s);
    if (!stalled) sent += kBatch;
    peak = std::max(peak, heap_in_use());
    max_queued = std::max(max_queued, ch->queued_bytes());
    if (sent == kPings / 2 && !other.joinable()) {  // halfway: someone else connects
      other =
          std::thread([port = server.port()] { EXPECT_TRUE(another_connection_is_served(port)); });
    }
  }
  if (other.joinable()) other.join();
  // Every ping that went out is processed (or the server stopped reading).
  for (int i = 0; i < 2000 && !stalled && seen.pings < uint64_t(sent); ++i)
    std::this_thread::sleep_for(5ms);
  peak = std::max(peak, heap_in_use());
  max_queued = std::max(max_queued, ch->queued_bytes());
  std::printf("pings sent %d, processed %llu%s; heap +%zu kB at most; queued %zu B at most\n", sent,
              (unsigned long long)seen.pings.load(), stalled ? " (server stopped reading)" : "",
              (peak - base) >> 10, max_queued);
  EXPECT_LT(peak - base, std::size_t(4) << 20);
  EXPECT_LE(max_queued, test_options().channel_max_queued);
  EXPECT_TRUE(ch->open());  // pings are no offence: the peer only has to read

  // The flooder starts reading: pongs, the last one for the last ping (when
  // it went out), then the echo of what it sent after them.
  int pongs = 0;
  std::string last_pong;
  std::string tx(unsent);  // the rest of a ping cut short, if the server stopped reading
  tx += client_frame(ws::Opcode::text, "after the flood");
  bool echoed = flooder.exchange(std::move(tx), 30s, [&](const Frame& f) {
    if (f.opcode != 0xA) return f.payload == "after the flood";
    ++pongs;
    last_pong = f.payload;
    return false;
  });
  EXPECT_TRUE(echoed);
  EXPECT_GE(pongs, 1);
  EXPECT_LE(pongs, sent);
  if (!stalled) {
    EXPECT_EQ(last_pong, last_payload);
  }
}

// The same for data: a peer that sends and never reads the echoes is no
// longer read once what the server owes it cannot go out; nothing is lost,
// and it all arrives once the peer reads.
TEST(WebSocket, APeerThatDoesNotReadIsNotRead) {
  Observed seen;
  auto handlers = seen.handlers();
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  FloodClient flooder(server.port());
  ASSERT_TRUE(flooder.upgraded());
  auto opened = seen.opened.get_future();
  ASSERT_EQ(opened.wait_for(5s), std::future_status::ready);
  ChannelPtr ch = opened.get();

  constexpr int kMessages = 4096;  // 64 MiB offered
  constexpr std::size_t kSize = 16 * 1024;
  auto message = [](int i) {
    std::string m(kSize, char('a' + i % 26));
    std::memcpy(m.data(), &i, sizeof i);
    return m;
  };
  const std::size_t base = heap_in_use();
  std::size_t peak = base, max_queued = 0;
  int sent = 0;
  std::string frame;
  std::string_view unsent;
  while (sent < kMessages) {
    frame = client_frame(ws::Opcode::binary, message(sent));
    unsent = frame;
    if (!flooder.send(unsent, 2s)) break;  // the server stopped reading
    ++sent;
    peak = std::max(peak, heap_in_use());
    max_queued = std::max(max_queued, ch->queued_bytes());
  }
  peak = std::max(peak, heap_in_use());
  std::printf("messages sent %d of %d; heap +%zu kB at most; queued %zu B at most\n", sent,
              kMessages, (peak - base) >> 10, max_queued);
  EXPECT_LT(sent, kMessages);                                // it stopped reading...
  EXPECT_TRUE(another_connection_is_served(server.port()));  // ...this peer only
  EXPECT_LT(peak - base, std::size_t(4) << 20);
  EXPECT_LE(max_queued, test_options().channel_max_queued);
  // What the socket refused is counted against the caps.
  EXPECT_GT(ch->queued_bytes(), 0u);
  EXPECT_LE(ch->queued_bytes(), test_options().channel_max_queued);

  // The peer reads: every echo arrives, in order, and then the rest of what
  // it had to send goes through too.
  std::string rest(sent < kMessages ? unsent : std::string_view());
  for (int i = sent + 1; i < kMessages; ++i)
    rest += client_frame(ws::Opcode::binary, message(i));
  int next = 0;
  bool all = flooder.exchange(std::move(rest), 60s, [&](const Frame& f) {
    EXPECT_EQ(f.opcode, 2);
    EXPECT_TRUE(f.payload == message(next)) << "echo " << next;
    return ++next == kMessages;
  });
  EXPECT_TRUE(all) << next << " echoes";
  EXPECT_TRUE(ch->open());
}

// A peer that sends, hangs up and only then reads: its FIN comes while the
// server is not reading it (its echoes cannot go out), and no later edge
// tells of it. Once the peer has read what it was owed, the server must
// read on to the end and close.
TEST(WebSocket, AHangUpWhileReadingIsPausedIsSeen) {
  Observed seen;
  std::promise<CloseStatus> closed;
  auto handlers = seen.handlers();
  handlers->on_close = [&](const ChannelPtr&, CloseStatus s) { closed.set_value(s); };
  TestServer server([&](const Request& r) { return as_channel(r, handlers); });
  // A small window, so that the echoes back up at once; and less than the
  // server's receive buffer, so that the FIN reaches it while they do.
  FloodClient flooder(server.port(), 4096);
  ASSERT_TRUE(flooder.upgraded());
  constexpr int kMessages = 6;
  std::string frames;
  for (int i = 0; i < kMessages; ++i)
    frames += client_frame(ws::Opcode::binary, std::string(16 * 1024, char('a' + i)));
  std::string_view unsent = frames;
  ASSERT_TRUE(flooder.send(unsent, 5s));
  flooder.shutdown_write();
  int echoes = 0;
  EXPECT_TRUE(flooder.exchange({}, 30s, [&](const Frame&) { return ++echoes == kMessages; }));
  auto status = closed.get_future();
  ASSERT_EQ(status.wait_for(10s), std::future_status::ready) << "the hang-up was never seen";
  EXPECT_EQ(status.get(), CloseStatus::abnormal);  // no close frame: 1006
}

TEST(Topic, PublishReachesEverySubscriberOnEveryLoop) {
  Topic topic;
  auto handlers = std::make_shared<ChannelHandlers>();
  handlers->on_open = [&](const ChannelPtr& ch) { topic.subscribe(ch); };
  ServerOptions o = test_options();
  o.threads = 3;
  TestServer server([&](const Request& r) { return as_channel(r, handlers); }, o);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<RawClient>(server.port()));
    ASSERT_EQ(upgrade(*clients.back()).status, 101);
  }
  for (int i = 0; i < 200 && topic.size() < 12; ++i)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(topic.size(), 12u);
  std::thread([&] { topic.publish("news"); }).join();
  for (auto& c : clients)
    EXPECT_EQ(read_frame(*c).payload, "news");
  clients.resize(6);  // half leave
  std::this_thread::sleep_for(50ms);
  topic.publish("more");
  for (auto& c : clients)
    EXPECT_EQ(read_frame(*c).payload, "more");
  for (int i = 0; i < 100 && topic.size() != 6; ++i)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(topic.size(), 6u);
}

}  // namespace
}  // namespace httpkit::test
