// libFuzzer target for what the client does with a server's untrusted
// answer: the response-head parser, the response reader (1xx, Content-Length,
// chunked, until-close framing) and the content decoder, driven
// the way the client's connection drives them (a read at a time, bytes held
// back while the application pauses the stream, resumed later), against a
// sink that enforces a body cap the way the client's exchange does.
//
// The bytes are read once whole and once split, and both runs must see the
// same head, the same body and the same end. Every head and body piece is
// checked against what the client relies on: no body where the request or
// status rules one out, nothing delivered after the sink stopped or while
// it is paused, decoded pieces bounded whatever the compression ratio. A
// violated invariant traps.
//
//   byte 0  bit 0     the request was HEAD
//           bit 1     the request was CONNECT
//           bit 2     no decompression (auto_decompress off)
//           bit 3     tight limits: 256 B head, 64 B status line, 4 fields
//           bit 4     the sink pauses after every body piece
//           bits 5-6  body cap: the client's default max_body, 1, 1000, 100000
//           bit 7     the connection ends after the bytes
//   byte 1  seed for the sizes of the reads in the split run
//   byte 2  what the sink answers to the head: keep, discard (a redirect
//           drained), stop (bits 0-1; 3 is keep)
//   the rest  the bytes the server sent
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/response_reader.hpp"
#include "fuzz_check.hpp"
#include "http/content_decoder.hpp"
#include "http/response_parser.hpp"
#include "httpkit/client.hpp"

namespace {

using namespace httpkit;
using namespace httpkit::client;
using Action = ResponseSink::HeadAction;

constexpr std::size_t kControlBytes = 3;

struct Config {
  http::SentRequest sent;
  http::ResponseLimits limits;
  std::size_t field_capacity = 0;
  bool decompress = true;
  bool pause_each_piece = false;
  uint64_t max_body = 0;
  bool eof = false;
  Action head_action = Action::keep;
};

Config config_of(const uint8_t* data) {
  Config c;
  const uint8_t flags = data[0];
  c.sent.head = flags & 1;
  c.sent.connect = flags & 2;
  c.decompress = !(flags & 4);
  // The limits and the field array as the client sets them up by default.
  const ClientConfig client;
  c.limits.max_head_bytes = client.max_response_head;
  c.limits.max_status_line = std::min<std::size_t>(8192, client.max_response_head);
  c.limits.max_headers = client.max_response_headers;
  c.field_capacity = std::max<std::size_t>(client.max_response_headers, 1);
  if (flags & 8) c.limits = {64, 256, 4};
  c.pause_each_piece = flags & 16;
  const uint64_t caps[] = {RequestOptions{}.max_body, 1, 1000, 100000};
  c.max_body = caps[(flags >> 5) & 3];
  c.eof = flags & 128;
  const Action actions[] = {Action::keep, Action::discard, Action::stop, Action::keep};
  c.head_action = actions[data[2] & 3];
  return c;
}

// The head as the sink got it.
struct HeadSeen {
  int count = 0;
  uint16_t status = 0;
  uint8_t version_minor = 0;
  std::size_t num_headers = 0;
  http::BodyFraming framing = http::BodyFraming::none;
  uint64_t content_length = 0;
  bool keep_alive = false, upgraded = false, tunnel = false;

  bool operator==(const HeadSeen&) const = default;
};

// What one run saw, to compare the whole run with the split one.
struct Outcome {
  HeadSeen head;
  std::string body;
  bool capped = false;  // the sink stopped it at the body cap
  // How the reader ended; nullopt: it still wants bytes.
  std::optional<ResponseReader::Status> end;
  ErrorKind kind = ErrorKind::none;
  std::string message;
  std::size_t end_offset = 0;  // for done: where in the bytes the response ended

  bool operator==(const Outcome&) const = default;
  bool failed() const { return end == ResponseReader::Status::error; }
};

bool is_prefix(std::string_view a, std::string_view b) {
  return a.size() <= b.size() && b.substr(0, a.size()) == a;
}

// Whole and split runs agree. One exception: a streaming reader hands on
// what was valid before a fault, and how much that is depends on the reads
// (so does which of two faults, say in the chunk framing and in the gzip
// data inside, shows first); so when a run fails, the other fails too, or
// went over the body cap first, and one body is a prefix of the other.
void check_same(const Outcome& whole, const Outcome& split) {
  if (!whole.failed() && !split.failed()) {
    FUZZ_CHECK(whole == split);
    return;
  }
  FUZZ_CHECK(whole.head == split.head);
  FUZZ_CHECK(is_prefix(whole.body, split.body) || is_prefix(split.body, whole.body));
  FUZZ_CHECK(whole.failed() || whole.capped);
  FUZZ_CHECK(split.failed() || split.capped);
  if (whole.failed() && split.failed()) FUZZ_CHECK(whole.kind == split.kind);
}

bool has_no_crlf(std::string_view s) {
  return s.find_first_of("\r\n") == std::string_view::npos;
}

class CheckingSink : public ResponseSink {
 public:
  CheckingSink(const Config& config, const std::vector<http::HeaderField>& fields, Outcome& out)
      : config_(config), fields_(fields), out_(out) {}

  HeadAction on_head(const http::ResponseHeadView& head) override {
    FUZZ_CHECK(++out_.head.count == 1);
    FUZZ_CHECK(!head.interim && head.status >= 100 && head.status <= 599);
    FUZZ_CHECK(head.status >= 200 || head.status == 101);  // 1xx are skipped
    FUZZ_CHECK(head.head_length <= config_.limits.max_head_bytes);
    FUZZ_CHECK(head.headers == fields_.data());
    FUZZ_CHECK(head.num_headers <= std::min(config_.limits.max_headers, fields_.size()));
    for (std::size_t i = 0; i < head.num_headers; ++i) {
      const HeaderView& h = head.headers[i];
      FUZZ_CHECK(!h.name.empty() && has_no_crlf(h.name) && h.name.find(':') == h.name.npos);
      FUZZ_CHECK(has_no_crlf(h.value));
    }
    // RFC 9112 §6.3: no body after HEAD, 1xx, 204, 304 or a CONNECT's 2xx.
    const bool no_body = config_.sent.head || head.status < 200 || head.status == 204 ||
                         head.status == 304 || head.tunnel;
    FUZZ_CHECK(!no_body || head.framing == http::BodyFraming::none);
    FUZZ_CHECK(head.upgraded == (head.status == 101));
    FUZZ_CHECK(head.tunnel == (config_.sent.connect && head.status / 100 == 2));
    if (head.framing == http::BodyFraming::until_close) FUZZ_CHECK(!head.keep_alive);
    if (head.framing != http::BodyFraming::content_length) FUZZ_CHECK(head.content_length == 0);

    HeadSeen& seen = out_.head;
    seen.status = head.status;
    seen.version_minor = head.version_minor;
    seen.num_headers = head.num_headers;
    seen.framing = head.framing;
    seen.content_length = head.content_length;
    seen.keep_alive = head.keep_alive;
    seen.upgraded = head.upgraded;
    seen.tunnel = head.tunnel;
    stopped_ = config_.head_action == HeadAction::stop;
    return config_.head_action;
  }

  Verdict on_body(std::string_view piece) override {
    // Nothing before the head, after a stop, while paused, or when discarded.
    FUZZ_CHECK(out_.head.count == 1 && !stopped_ && !paused_);
    FUZZ_CHECK(config_.head_action == HeadAction::keep);
    FUZZ_CHECK(out_.head.framing != http::BodyFraming::none);
    // Inflated bytes come in bounded pieces: a bomb cannot grow a piece.
    FUZZ_CHECK(!piece.empty() &&
               piece.size() <= std::max(http::ContentDecoder::kPiece, largest_read));
    out_.body.append(piece);
    // Exchange::on_body's rule: over the cap, stop reading.
    if (config_.max_body && out_.body.size() > config_.max_body) {
      out_.capped = stopped_ = true;
      return Verdict::stop;
    }
    if (config_.pause_each_piece) {
      paused_ = true;
      return Verdict::pause;
    }
    return Verdict::go;
  }

  bool paused() const { return paused_; }
  bool stopped() const { return stopped_; }
  void resume() { paused_ = false; }

  std::size_t largest_read = 0;

 private:
  const Config& config_;
  const std::vector<http::HeaderField>& fields_;
  Outcome& out_;
  bool paused_ = false;
  bool stopped_ = false;
};

// Reads `wire` the way client::UpstreamConnection does: reads of sizes drawn
// from `seed` (0: one read), what a pause leaves over held in an inbox and
// fed again before resume(), the EOF last.
Outcome run(std::string_view wire, const Config& config, uint8_t seed) {
  Outcome out;
  std::vector<http::HeaderField> fields(config.field_capacity);
  CheckingSink sink(config, fields, out);
  ResponseReader reader;
  ResponseReader::Config rc;
  rc.limits = config.limits;
  rc.fields = fields.data();
  rc.max_headers = fields.size();
  rc.decompress = config.decompress;
  reader.start(config.sent, rc);

  std::string inbox;         // bytes read but not taken while paused
  std::size_t inbox_at = 0;  // where in `wire` they start
  std::size_t position = 0;  // where in `wire` the reader stopped taking bytes
  // Checks the result of feeding `fed` bytes from `at`; false once the
  // response is over.
  auto handle = [&](const ResponseReader::Result& r, const char* data, std::size_t fed,
                    std::size_t at) {
    FUZZ_CHECK(r.consumed <= fed);
    if (fed) position = at + r.consumed;
    if (sink.stopped()) FUZZ_CHECK(r.status == ResponseReader::Status::stopped);
    switch (r.status) {
      case ResponseReader::Status::more:
        FUZZ_CHECK(r.consumed == fed);
        return true;
      case ResponseReader::Status::paused:
        FUZZ_CHECK(sink.paused());
        if (fed) {
          inbox.assign(data + r.consumed, fed - r.consumed);
          inbox_at = position;
        }
        return true;
      case ResponseReader::Status::done:
        FUZZ_CHECK(reader.finished());
        out.end_offset = position;
        break;
      case ResponseReader::Status::stopped:
        FUZZ_CHECK(sink.stopped());
        break;
      case ResponseReader::Status::error:
        FUZZ_CHECK(r.kind == ErrorKind::protocol || r.kind == ErrorKind::reset);
        FUZZ_CHECK(!r.message.empty());
        out.kind = r.kind;
        out.message = r.message;
        break;
    }
    out.end = r.status;
    return false;
  };

  uint32_t state = seed * 2654435761u + 1;
  std::size_t offset = 0;
  for (;;) {
    if (sink.paused()) {
      // The application takes the piece and resumes the stream at once.
      sink.resume();
      if (!inbox.empty()) {
        std::string held = std::move(inbox);
        inbox.clear();
        if (!handle(reader.feed(held.data(), held.size(), sink), held.data(), held.size(),
                    inbox_at))
          break;
        if (sink.paused()) continue;
      }
      if (!handle(reader.resume(sink), nullptr, 0, 0)) break;
      continue;
    }
    if (offset == wire.size()) {
      if (config.eof) handle(reader.on_eof(sink), nullptr, 0, 0);
      break;
    }
    std::size_t piece = wire.size() - offset;
    if (seed != 0) {
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      piece = std::min<std::size_t>(piece, 1 + state % 64);
    }
    // Each read in a buffer of its own, as from a socket: it is decoded in place.
    std::string read(wire.substr(offset, piece));
    sink.largest_read = std::max(sink.largest_read, piece);
    const std::size_t at = offset;
    offset += piece;
    if (!handle(reader.feed(read.data(), read.size(), sink), read.data(), read.size(), at)) break;
  }
  if (out.end == ResponseReader::Status::done) {
    // A body delimited by the close ends only at the close, and one with a
    // Content-Length, undecoded, is exactly that long.
    if (out.head.framing == http::BodyFraming::until_close) FUZZ_CHECK(config.eof);
    if (out.head.framing == http::BodyFraming::content_length && !config.decompress &&
        config.head_action == Action::keep)
      FUZZ_CHECK(out.body.size() == out.head.content_length);
  }
  // The piece that crossed the cap depends on the reads; what came before
  // it and the byte that crossed do not.
  if (out.capped) out.body.resize(config.max_body + 1);
  return out;
}

// The parser alone: a prefix of the bytes is incomplete or parses alike.
void check_prefixes(std::string_view wire, const Config& config) {
  std::vector<http::HeaderField> fields(config.field_capacity);
  http::ResponseHeadView head;
  const auto whole = http::parse_response_head(wire, config.sent, config.limits, fields.data(),
                                               fields.size(), head);
  FUZZ_CHECK((whole.status == http::ParseStatus::error) ==
             (whole.error != http::ResponseError::none));
  if (whole.status == http::ParseStatus::complete) FUZZ_CHECK(head.head_length <= wire.size());
  for (std::size_t length : {wire.size() / 2, wire.size() - 1}) {
    if (length >= wire.size()) continue;
    const auto r = http::parse_response_head(wire.substr(0, length), config.sent, config.limits,
                                             fields.data(), fields.size(), head);
    if (r.status == http::ParseStatus::incomplete) continue;
    FUZZ_CHECK(r.status == whole.status && r.error == whole.error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < kControlBytes) return 0;
  const Config config = config_of(data);
  const std::string_view wire(reinterpret_cast<const char*>(data) + kControlBytes,
                              size - kControlBytes);
  check_prefixes(wire, config);
  check_same(run(wire, config, 0), run(wire, config, data[1] | 1));
  return 0;
}
