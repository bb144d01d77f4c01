// libFuzzer target for the server's connection code: each input is what a
// client sends on one loopback connection to a live in-process
// httpkit::Server, written in pieces the input chooses, so the server reads
// it split where the fuzzer likes (a head or a chunk cut anywhere, pipelined
// requests stashed and drained, a head parsed on one read and re-parsed on
// dispatch after its body arrives on another).
//
// The answers are checked against the pure parsers run over the whole input
// at once: the handler echoes a digest of the request it saw, and the server
// must answer exactly the requests the parsers find, in order, with the
// status and keep-alive the parsers imply, then close or wait as they imply;
// however the bytes were split. Afterwards the server must still answer a
// plain request on a fresh connection, and hold no connection open. A
// violated invariant traps.
//
//   byte 0  bit 0  keep the connection open after the bytes (no FIN): the
//                  server's timers must end an unfinished request with 408
//           bit 1  tight limits (64 B line, 256 B head, 8 fields, 512 B body)
//           bit 2  handlers on a worker thread instead of the loop
//           bit 3  trickle: many small writes, sizes drawn from byte 1
//           bit 4  send the FIN right behind the last write, in the same read
//   bytes 1-6      three 16-bit offsets (little-endian, modulo the size)
//                  where one write ends and the next begins
//   the rest       the bytes sent
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fuzz_check.hpp"
#include "http/chunked_decoder.hpp"
#include "http/request_parser.hpp"
#include "http/response_parser.hpp"
#include "httpkit/server.hpp"
#include "server/loop_server.hpp"
#include "server/request_builder.hpp"
#include "tests/server/test_server.hpp"

namespace {

using namespace httpkit;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Header and body deadlines: short, so that waiting for a 408 stays cheap.
constexpr milliseconds kCutTimeout{40};
// Longer than any wait here: a server that says nothing this long is stuck.
constexpr milliseconds kStuck{5000};
constexpr std::size_t kControlBytes = 7;
constexpr std::size_t kMaxTricklePieces = 64;
constexpr std::string_view kDigestHeader = "X-Digest";
constexpr std::string_view kEchoBody = "echo\n";  // not sent to HEAD

// ------------------------------------------------------------ the handler

// FNV-1a over length-prefixed fields, so that no two requests that differ
// in any field a handler can see hash alike by accident of concatenation.
class Digest {
 public:
  void add(std::string_view s) {
    add_number(s.size());
    for (char c : s)
      byte(uint8_t(c));
  }
  void add_number(uint64_t n) {
    for (int i = 0; i < 8; ++i)
      byte(uint8_t(n >> (8 * i)));
  }
  uint64_t value() const { return h_; }

 private:
  void byte(uint8_t b) { h_ = (h_ ^ b) * 1099511628211u; }
  uint64_t h_ = 14695981039346656037u;
};

uint64_t digest_of(const Request& req) {
  Digest d;
  d.add(req.method());
  d.add(req.target());
  d.add(req.path());
  d.add(req.query_string());
  d.add_number(uint64_t(req.version_minor()));
  d.add_number(req.keep_alive());
  d.add_number(req.headers().size());
  for (const HeaderView& h : req.headers()) {
    d.add(h.name);
    d.add(h.value);
  }
  d.add(req.body());
  // What handlers usually do with a request, decoded from its bytes.
  for (const Params& params : {req.query_params(), req.form_params()}) {
    d.add_number(params.size());
    for (const Param& p : params) {
      d.add(p.name);
      d.add(p.value);
    }
  }
  return d.value();
}

Response echo(const Request& req) {
  Response r(200, std::string(kEchoBody));
  r.header(std::string(kDigestHeader), std::to_string(digest_of(req)));
  return r;
}

// ------------------------------------------------------ the server under test

struct Site {
  test::TestServer live;
  http::ParseLimits parse_limits;
  http::ChunkedLimits chunked_limits;
  std::size_t max_body;
  std::size_t max_headers;

  explicit Site(const ServerOptions& o)
      : live(echo, o), max_body(o.max_body), max_headers(o.max_headers) {
    // The limits exactly as the server derives them from its options.
    ServerOptions inline_handlers = o;
    inline_handlers.worker_threads = 0;
    const server::SharedState shared(echo, inline_handlers, 1);
    parse_limits = shared.parse_limits;
    chunked_limits = shared.chunked_limits;
  }
};

// One server per configuration, started on first use and kept for every
// later input (a server per input would measure thread start-up).
Site& site(bool tight, bool pool) {
  static std::unique_ptr<Site> sites[2][2];
  std::unique_ptr<Site>& s = sites[tight][pool];
  if (!s) {
    ServerOptions o = test::test_options();
    o.header_timeout = o.body_timeout = kCutTimeout;
    o.idle_timeout = o.write_timeout = kStuck;
    if (tight) {
      o.max_line = 64;
      o.max_head = 256;
      o.max_headers = 8;
      o.max_body = 512;
    }
    if (pool) o.worker_threads = 1;
    s = std::make_unique<Site>(o);
  }
  return *s;
}

// --------------------------------------------------------------- the model

// Whether a request is a HEAD, whose answer has no body.
enum class Head : uint8_t { no, yes, either };

// What the server must answer for one request.
struct Answer {
  int status = 200;                // 200: the handler's answer; else the server's verdict
  Head head = Head::no;            // never `either` for 200
  bool keep_alive = false;         // for 200: what the request asked for
  bool may_continue = false;       // a 100 Continue may come first
  std::optional<uint64_t> digest;  // for 200: of the request the handler must see
};

struct Expectation {
  std::vector<Answer> answers;
  bool closes = false;             // the last answer ends the connection
  bool tail = false;               // an unfinished request follows the answers
  Head tail_head = Head::no;       // ...which is a HEAD (its 408 has no body)
  bool tail_may_continue = false;  // ...which may get a 100 Continue
};

// How the server tells a HEAD request whose head it could not parse: by the
// first bytes after any empty lines (so its error answer has no body).
bool looks_like_head(std::string_view bytes) {
  const std::size_t start = bytes.find_first_not_of("\r\n");
  return start != std::string_view::npos && bytes.substr(start, 5) == "HEAD ";
}

Head head_if(bool yes) {
  return yes ? Head::yes : Head::no;
}

// Whether the server, failing a head at some read, takes it for a HEAD. It
// has read at least the shortest prefix the parser rejects, and at most all
// of `rest`: when "HEAD " comes after the fault, it depends on the reads.
Head head_of_failed(std::string_view rest, const Site& s, std::vector<http::HeaderField>& fields) {
  // A prefix parses as incomplete or as the whole does: a binary search
  // finds the shortest that fails.
  std::size_t lo = 1, hi = rest.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    http::RequestHead head;
    const auto r = http::parse_request_head(rest.substr(0, mid), s.parse_limits, fields.data(),
                                            fields.size(), head);
    if (r.status == http::ParseStatus::error) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (looks_like_head(rest.substr(0, hi))) return Head::yes;
  return looks_like_head(rest) ? Head::either : Head::no;
}

// Runs the pure parsers over all of `sent` at once.
Expectation expect(std::string sent, const Site& s) {
  Expectation x;
  std::vector<http::HeaderField> fields(s.max_headers);
  std::size_t pos = 0;
  while (pos < sent.size()) {
    const std::string_view rest = std::string_view(sent).substr(pos);
    const std::size_t end = http::find_head_end(rest);
    http::RequestHead head;
    const http::ParseResult r = http::parse_request_head(
        end ? rest.substr(0, end) : rest, s.parse_limits, fields.data(), fields.size(), head);
    // Past a complete head the server has read it all, and knows a HEAD.
    auto fail = [&](int status, bool may_continue, Head is_head) {
      x.answers.push_back({status, is_head, false, may_continue, std::nullopt});
      x.closes = true;
      return x;
    };
    auto unfinished = [&](bool may_continue) {
      x.tail = true;
      x.tail_head = head_if(looks_like_head(rest));
      x.tail_may_continue = may_continue;
      return x;
    };
    if (r.status == http::ParseStatus::error)
      return fail(http::status_of(r.error), false, head_of_failed(rest, s, fields));
    if (!end || r.status == http::ParseStatus::incomplete) return unfinished(false);

    const bool may_continue = head.expect_continue && head.version_minor == 1;
    const std::size_t available = rest.size() - head.head_length;
    std::string_view body;
    std::size_t used = head.head_length;
    switch (head.framing) {
      case http::BodyFraming::none:
        break;
      case http::BodyFraming::until_close:  // the server's answer, were it ever parsed
        return fail(400, false, head_if(looks_like_head(rest)));
      case http::BodyFraming::content_length:
        if (head.content_length > s.max_body)
          return fail(413, false, head_if(looks_like_head(rest)));
        if (available < head.content_length) return unfinished(may_continue);
        body = rest.substr(head.head_length, head.content_length);
        used += head.content_length;
        break;
      case http::BodyFraming::chunked: {
        char* start = sent.data() + pos + head.head_length;
        http::ChunkedDecoder decoder;
        const auto step = decoder.decode(start, available, s.chunked_limits);
        const Head is_head = head_if(looks_like_head(rest));
        if (step.status == http::ChunkedStatus::bad) return fail(400, may_continue, is_head);
        if (step.status == http::ChunkedStatus::too_large) return fail(413, may_continue, is_head);
        if (step.status == http::ChunkedStatus::more) return unfinished(may_continue);
        body = {start, step.decoded};
        used += step.consumed;
        break;
      }
    }
    const Request request = RequestBuilder::from_head(head, body, -1, false);
    x.answers.push_back(
        {200, head_if(head.method == "HEAD"), head.keep_alive, may_continue, digest_of(request)});
    if (!head.keep_alive) {
      x.closes = true;
      return x;
    }
    pos += used;
  }
  return x;
}

// ---------------------------------------------------------------- the peer

// libFuzzer's timeout alarm (SIGALRM, installed without SA_RESTART) can
// interrupt any blocking call of this thread: such calls are retried.
template <class Call>
auto retried(Call call) {
  decltype(call()) r;
  do
    r = call();
  while (r < 0 && errno == EINTR);
  return r;
}

// Polls `fd` for `events` until `deadline`; false if the time ran out.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, int(std::max<int64_t>(left.count(), 0)));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

struct Received {
  int status = 0;
  bool keep_alive = false;
  std::optional<uint64_t> digest;
  std::string body;
};

// One client connection, with blocking reads that give up after kStuck.
class Peer {
 public:
  explicit Peer(uint16_t port) : port_(port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (!connected && errno == EINTR) {  // the connection goes on being made
      int error = 0;
      socklen_t len = sizeof error;
      connected = wait_for(fd_, POLLOUT, Clock::now() + kStuck) &&
                  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0;
    }
    if (!connected) std::perror("connect to the server under test");
    FUZZ_CHECK(connected);
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // a write is a segment
  }
  ~Peer() {
    // Reset rather than close: thousands of connections a second would
    // otherwise fill the port range with TIME_WAIT.
    const linger reset{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd_);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // False once the server has closed (the rest would only be refused).
  bool send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n =
          retried([&] { return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); });
      if (n <= 0) return false;
      bytes.remove_prefix(std::size_t(n));
    }
    return true;
  }

  void finish_sending() { shutdown(fd_, SHUT_WR); }

  // Waits until the server has read every byte sent so far, so that the
  // next write arrives as a read of its own. The kernel knows, on the
  // server's end of the connection, which lives in this process: its
  // receive queue is empty once the server read it.
  void wait_until_read() {
    const auto deadline = Clock::now() + kStuck;
    while (Clock::now() < deadline) {
      const int queued = unread_by_server();
      if (queued == 0) return;
      if (queued < 0 && hung_up()) return;  // the server closed it: nothing more is read
      take_available();  // keep answers flowing so the server never blocks writing
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  // The next response; nullopt if the connection ended first. A 2xx to
  // `head_request` has no body; the server's own answers (errors, 100,
  // 408) always have an exact Content-Length, 0 for what it took for HEAD.
  std::optional<Received> read_response(bool head_request) {
    for (;;) {
      http::ResponseHeadView head;
      auto r = http::parse_response_head(buffer_, {}, {}, fields_.data(), fields_.size(), head);
      if (r.status == http::ParseStatus::complete && head.status / 100 == 2 && head_request)
        r = http::parse_response_head(buffer_, {true, false}, {}, fields_.data(), fields_.size(),
                                      head);
      FUZZ_CHECK(r.status != http::ParseStatus::error);  // the server's answer is well-formed
      if (r.status == http::ParseStatus::complete) {
        FUZZ_CHECK(head.framing == http::BodyFraming::content_length ||
                   head.framing == http::BodyFraming::none);
        const std::size_t length = head.head_length + std::size_t(head.content_length);
        while (buffer_.size() < length)
          FUZZ_CHECK(fill());  // a response is never cut short
        Received got;
        got.status = head.status;
        got.keep_alive = head.keep_alive;
        for (std::size_t i = 0; i < head.num_headers; ++i) {
          if (iequals(head.headers[i].name, kDigestHeader))
            got.digest = std::stoull(std::string(head.headers[i].value));
        }
        got.body = buffer_.substr(head.head_length, length - head.head_length);
        buffer_.erase(0, length);
        return got;
      }
      if (!fill()) {
        FUZZ_CHECK(buffer_.empty());  // the connection ends between responses
        return std::nullopt;
      }
    }
  }

 private:
  // Reads more; false at the end of the connection. Traps on a stuck server.
  bool fill() {
    const bool answered = wait_for(fd_, POLLIN, Clock::now() + kStuck);
    if (!answered) {
      std::fprintf(stderr, "the server said nothing for %lld ms; %d bytes it did not read\n",
                   static_cast<long long>(kStuck.count()), unread_by_server());
    }
    FUZZ_CHECK(answered);
    char chunk[16384];
    const ssize_t n = retried([&] { return recv(fd_, chunk, sizeof chunk, 0); });
    if (n <= 0) return false;  // the FIN, or a reset after the server closed
    buffer_.append(chunk, std::size_t(n));
    return true;
  }

  void take_available() {
    char chunk[16384];
    ssize_t n;
    while ((n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT)) > 0)
      buffer_.append(chunk, std::size_t(n));
  }

  // What the server has not read yet; -1 if its end is not found (not
  // accepted yet, or closed).
  int unread_by_server() {
    const int fd = server_end();
    int queued = 0;
    if (fd < 0 || ioctl(fd, FIONREAD, &queued) != 0) return -1;
    return queued;
  }

  bool hung_up() const {
    pollfd p{fd_, POLLRDHUP, 0};
    return poll(&p, 1, 0) == 1;
  }

  // The server's descriptor for this connection: the socket whose peer is
  // our local address. Usually the number after ours; looked up once.
  int server_end() {
    if (server_fd_ >= 0) return server_fd_;
    sockaddr_in local{};
    socklen_t len = sizeof local;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) != 0) return -1;
    auto is_ours = [&](int fd) {
      sockaddr_in peer{}, self{};
      socklen_t plen = sizeof peer, slen = sizeof self;
      return fd != fd_ && getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0 &&
             peer.sin_family == AF_INET && peer.sin_port == local.sin_port &&
             peer.sin_addr.s_addr == local.sin_addr.s_addr &&
             getsockname(fd, reinterpret_cast<sockaddr*>(&self), &slen) == 0 &&
             self.sin_port == htons(port_);
    };
    for (int fd = fd_ + 1; fd < fd_ + 64; ++fd)
      if (is_ours(fd)) return server_fd_ = fd;
    for (int fd = 0; fd < fd_; ++fd)
      if (is_ours(fd)) return server_fd_ = fd;
    return -1;  // not accepted yet, or already closed
  }

  int fd_ = -1;
  int server_fd_ = -1;
  uint16_t port_;
  std::string buffer_;
  std::vector<http::HeaderField> fields_ =
      std::vector<http::HeaderField>(http::ResponseLimits{}.max_headers);
};

// ------------------------------------------------------------------ checks

struct Plan {
  bool keep_open = false;
  bool tight = false;
  bool pool = false;
  bool trickle = false;
  bool fin_with_data = false;
  std::vector<std::size_t> cuts;  // offsets where one write ends
  std::string_view bytes;
};

Plan plan_of(const uint8_t* data, std::size_t size) {
  Plan p;
  const uint8_t flags = data[0];
  p.keep_open = flags & 1;
  p.tight = flags & 2;
  p.pool = flags & 4;
  p.trickle = flags & 8;
  p.fin_with_data = flags & 16;
  p.bytes = {reinterpret_cast<const char*>(data) + kControlBytes, size - kControlBytes};
  if (p.bytes.empty()) return p;
  if (p.trickle) {
    uint32_t state = data[1] * 2654435761u + 1;
    std::size_t at = 0;
    while (p.cuts.size() < kMaxTricklePieces) {
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      at += 1 + state % 16;
      if (at >= p.bytes.size()) break;
      p.cuts.push_back(at);
    }
  } else {
    for (std::size_t i = 1; i < kControlBytes; i += 2) {
      const std::size_t at = (data[i] | data[i + 1] << 8) % p.bytes.size();
      if (at) p.cuts.push_back(at);
    }
    std::sort(p.cuts.begin(), p.cuts.end());
    p.cuts.erase(std::unique(p.cuts.begin(), p.cuts.end()), p.cuts.end());
  }
  return p;
}

// The server may end a connection early (408, or just close) only once a
// header or body deadline can have passed. Its timers never fire early, but
// they count from the loop's clock, which is in whole milliseconds.
void check_may_cut(Clock::time_point before_connect) {
  FUZZ_CHECK(Clock::now() - before_connect >= kCutTimeout - milliseconds(1));
}

// A request the server must answer whatever came before it.
constexpr std::string_view kProbe =
    "GET /probe?x=1 HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n";

// Sends kProbe on `peer` and checks the answer and the close after it.
void check_probe(Peer& peer, const Site& s, Clock::time_point connected) {
  static const std::optional<uint64_t> digest = expect(std::string(kProbe), s).answers[0].digest;
  peer.send_all(kProbe);
  const std::optional<Received> got = peer.read_response(false);
  if (!got) return check_may_cut(connected);  // a slow machine met a deadline
  if (got->status != 200) std::fprintf(stderr, "the probe got %d\n", got->status);
  FUZZ_CHECK(got->status == 200 && got->digest == digest && !got->keep_alive);
  FUZZ_CHECK(got->body == kEchoBody);
  FUZZ_CHECK(!peer.read_response(false));
}

// An error answer to what the server took for a HEAD has no body; any
// other has the reason.
void check_error_body(const Received& got, Head head) {
  if (head != Head::either) FUZZ_CHECK(got.body.empty() == (head == Head::yes));
}

// Reads the answers and what follows them, and checks both against `x`.
void check_answers(Peer& peer, const Expectation& x, const Plan& plan, Clock::time_point connected,
                   const Site& s) {
  for (std::size_t i = 0; i < x.answers.size(); ++i) {
    const Answer& a = x.answers[i];
    std::optional<Received> got = peer.read_response(a.head == Head::yes);
    if (got && got->status == 100) {
      FUZZ_CHECK(a.may_continue);
      got = peer.read_response(a.head == Head::yes);
    }
    if (!got) return check_may_cut(connected);
    if (got->status == 408 && a.status != 408) {  // a deadline met while the bytes came
      check_may_cut(connected);
      FUZZ_CHECK(!got->keep_alive);
      FUZZ_CHECK(!peer.read_response(false));
      return;
    }
    if (got->status != a.status)
      std::fprintf(stderr, "answer %zu: %d, expected %d\n", i, got->status, a.status);
    FUZZ_CHECK(got->status == a.status);
    FUZZ_CHECK(got->digest == a.digest);
    FUZZ_CHECK(got->keep_alive == (a.status == 200 && a.keep_alive));
    if (a.status == 200) {
      FUZZ_CHECK(got->body == (a.head == Head::yes ? "" : kEchoBody));
    } else {
      check_error_body(*got, a.head);
    }
  }
  if (x.closes) {
    FUZZ_CHECK(!peer.read_response(false));
    return;
  }
  if (!x.tail) {
    // Between requests: a FIN ends the connection, else it takes another.
    if (plan.keep_open) return check_probe(peer, s, connected);
    FUZZ_CHECK(!peer.read_response(false));
    return;
  }
  std::optional<Received> got = peer.read_response(false);
  if (got && got->status == 100) {
    FUZZ_CHECK(x.tail_may_continue);
    got = peer.read_response(false);
  }
  // An unfinished request: the FIN drops it, else its deadline answers 408.
  if (plan.keep_open) FUZZ_CHECK(got);
  if (got) {
    FUZZ_CHECK(got->status == 408 && !got->keep_alive);
    check_may_cut(connected);
    // Without a FIN the server read all of it; with one, maybe not yet.
    check_error_body(*got, plan.keep_open ? x.tail_head : Head::either);
  }
  FUZZ_CHECK(!peer.read_response(false));
}

// Sends the input as planned, reads and checks the answers.
void run(const Plan& plan, const Site& s) {
  const Expectation x = expect(std::string(plan.bytes), s);
  const Clock::time_point connected = Clock::now();
  Peer peer(s.live.port());
  std::size_t from = 0;
  for (std::size_t i = 0; i <= plan.cuts.size(); ++i) {
    const bool last = i == plan.cuts.size();
    const std::size_t to = last ? plan.bytes.size() : plan.cuts[i];
    if (!peer.send_all(plan.bytes.substr(from, to - from))) break;  // the server closed
    from = to;
    if (!(last && plan.fin_with_data)) peer.wait_until_read();
  }
  if (!plan.keep_open) peer.finish_sending();
  check_answers(peer, x, plan, connected, s);
}

// After any input the server answers a plain request on a new connection,
// and once its peers are gone it holds no connection open.
void check_still_serving(Site& s) {
  {
    const Clock::time_point connected = Clock::now();
    Peer peer(s.live.port());
    check_probe(peer, s, connected);
  }
  const auto deadline = Clock::now() + kStuck;
  while (s.live.server().connection_count() != 0) {
    FUZZ_CHECK(Clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < kControlBytes) return 0;
  const Plan plan = plan_of(data, size);
  Site& s = site(plan.tight, plan.pool);
  run(plan, s);
  check_still_serving(s);
  return 0;
}
