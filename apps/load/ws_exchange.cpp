#include "ws_exchange.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <utility>

#include "http/response_parser.hpp"

namespace httpkit::load {
namespace {

constexpr std::size_t kMaxFields = 32;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The bytes every payload is a slice of: printable ASCII (a text message
// must be UTF-8) without a short period, so a shifted, repeated or
// truncated echo does not compare equal by accident. Built once per process.
std::string_view pattern() {
  static const std::string bytes = [] {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string s(WsExchange::kPatternOffsets + WsExchange::kMaxMessage, '\0');
    for (std::size_t i = 0; i < s.size(); ++i)
      s[i] = kAlphabet[splitmix64(i) & 63];
    return s;
  }();
  return bytes;
}

// The 16 bytes of a Sec-WebSocket-Key, spread from the connection's nonce.
std::array<uint8_t, 16> key_bytes(uint32_t nonce) {
  std::array<uint8_t, 16> bytes;
  const uint64_t halves[2] = {splitmix64(nonce), splitmix64(uint64_t(nonce) << 32 | 0x5eed)};
  std::memcpy(bytes.data(), halves, sizeof halves);
  return bytes;
}

// The most a compressed echo of `length` bytes may take: deflate's stored
// blocks cost 5 bytes per 64 KiB and a flush a few more; anything longer
// is not a compression of the message.
std::size_t max_compressed(uint32_t length) {
  return length + length / 16 + 64;
}

WsHeldBytes& hold(LoadConnection& c) {
  if (!c.ws.held) c.ws.held = new WsHeldBytes;
  return *c.ws.held;
}

bool holds(const std::string WsHeldBytes::*field, const LoadConnection& c) {
  return c.ws.held && !(c.ws.held->*field).empty();
}

// Frees the held bytes once nothing waits in them.
void tidy(LoadConnection& c) {
  const WsHeldBytes* held = c.ws.held;
  if (held && held->incoming.empty() && held->ping.empty() && held->compressed.empty() &&
      held->unsent.empty()) {
    delete held;
    c.ws.held = nullptr;
  }
}

}  // namespace

WsExchange::WsExchange(Settings settings)
    : settings_(std::move(settings)),
      rules_{ws::Role::client, settings_.deflate},
      deflate_(
          ws::DeflateParams{.server_no_context_takeover = true, .client_no_context_takeover = true},
          ws::Role::client, shared_zlib_) {
  // No context takeover either way: the server's echo starts a fresh
  // stream every time, so one inflater serves every connection.
  offer_.enabled = settings_.deflate;
  offer_.server_no_context_takeover = true;
  offer_.client_no_context_takeover = true;
}

ws::ClientHandshake WsExchange::handshake_of(const LoadConnection& c) const {
  const std::array<uint8_t, 16> nonce = key_bytes(c.ws.nonce);
  return ws::make_client_handshake(std::span<const uint8_t, 16>(nonce), {}, offer_);
}

std::string_view WsExchange::message_payload(const LoadConnection& c) {
  const uint64_t mixed = splitmix64(uint64_t(c.ws.nonce) << 16 | c.requests_done);
  return pattern().substr(mixed % kPatternOffsets, c.ws.message_length);
}

void WsExchange::start_upgrade(LoadConnection& c, Random& random, std::string& out) const {
  c.ws = WsProgress{};
  c.ws.nonce = uint32_t(random.next() >> 32);
  const ws::ClientHandshake handshake = handshake_of(c);
  out.append("GET ").append(settings_.path).append(" HTTP/1.1\r\nHost: ");
  out.append(settings_.host).append("\r\n");
  // Upgrade, Connection, Sec-WebSocket-Key, -Version and, with --deflate, -Extensions.
  for (const Header& h : handshake.headers())
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  out.append("\r\n");
}

void WsExchange::start_message(LoadConnection& c, Random& random, std::string& out) const {
  WsProgress& s = c.ws;
  s.message_length = uint16_t(random.in(settings_.length));
  s.echo_checked = 0;
  s.awaiting_echo = 1;
  s.in_message = 0;
  s.compressed = 0;
  // Sent uncompressed even with deflate (RFC 7692 lets each message choose).
  ws::append_frame(out, {ws::Opcode::text, true, false, ws::random_mask_key()}, message_payload(c));
}

WsExchange::Result WsExchange::on_bytes(LoadConnection& c, const char* data, std::size_t size,
                                        std::string& reply) {
  Result::Status completed = Result::more;
  if (!c.ws.upgraded) {
    std::size_t used = 0;
    const Result head = on_head(c, data, size, used);
    if (head.status != Result::upgraded) return head;
    completed = Result::upgraded;
    data += used;
    size -= used;
  }
  while (size > 0) {
    if (FrameKind(c.ws.frame_kind) == FrameKind::none) {
      std::size_t used = 0;
      LoadFailure error = LoadFailure::wrong_response;
      const HeaderStep step = on_frame_header(c, data, size, used, error);
      if (step == HeaderStep::failed) return {Result::failed, error};
      if (step == HeaderStep::incomplete) return {completed};  // its bytes are held
      data += used;
      size -= used;
    }
    // A frame may end here even with nothing left to read: an empty payload.
    const std::size_t take = std::min<std::size_t>(size, c.ws.frame_left);
    const Result step = on_payload(c, {data, take}, take == c.ws.frame_left, reply);
    if (step.status == Result::failed) return step;
    if (step.status == Result::echoed) completed = Result::echoed;
    data += take;
    size -= take;
  }
  tidy(c);
  return {completed};
}

// Parses the 101 from `data` or, when it arrived in pieces, from the held
// copy; `used` is how many of `data`'s bytes belong to it.
WsExchange::Result WsExchange::on_head(LoadConnection& c, const char* data, std::size_t size,
                                       std::size_t& used) const {
  std::string_view bytes(data, size);
  std::size_t earlier = 0;
  if (holds(&WsHeldBytes::incoming, c)) {
    std::string& held = c.ws.held->incoming;
    earlier = held.size();
    held.append(data, std::min(size, kMaxHead - earlier));
    bytes = held;
  }

  http::HeaderField fields[kMaxFields];
  http::ResponseHeadView head;
  http::ResponseLimits limits;
  limits.max_head_bytes = kMaxHead;
  const auto parsed = http::parse_response_head(bytes, {}, limits, fields, kMaxFields, head);
  if (parsed.status == http::ParseStatus::error) return {Result::failed};
  if (parsed.status == http::ParseStatus::incomplete) {
    if (bytes.size() >= kMaxHead) return {Result::failed};
    if (earlier == 0) hold(c).incoming.assign(data, size);
    return {Result::more};
  }
  used = head.head_length - earlier;
  if (head.status != 101) return {Result::failed, LoadFailure::bad_status};
  // Upgrade and Connection tokens, the Accept for our key, and no
  // extension we did not offer.
  const ws::UpgradeResult answer = ws::check_upgrade_response(
      head.status, std::span<const HeaderView>(fields, head.num_headers), handshake_of(c));
  if (!answer.ok || (settings_.deflate && !answer.deflate)) return {Result::failed};
  if (c.ws.held) c.ws.held->incoming.clear();  // `fields` pointed into it until here
  c.ws.upgraded = 1;
  return {Result::upgraded};
}

// Reads a frame header (from the held bytes when it came in pieces) and
// decides what its payload is: `used` is how many of `data`'s bytes it took.
WsExchange::HeaderStep WsExchange::on_frame_header(LoadConnection& c, const char* data,
                                                   std::size_t size, std::size_t& used,
                                                   LoadFailure& error) const {
  std::string_view bytes(data, size);
  std::size_t earlier = 0;
  if (holds(&WsHeldBytes::incoming, c)) {
    std::string& held = c.ws.held->incoming;
    earlier = held.size();
    held.append(data, std::min(size, ws::kMaxFrameHeader - earlier));
    bytes = held;
  }
  ws::FrameHeader header;
  const ws::HeaderResult parsed = ws::parse_frame_header(bytes, rules_, header);
  if (parsed.status == ws::HeaderStatus::error) return HeaderStep::failed;
  if (parsed.status == ws::HeaderStatus::incomplete) {
    if (earlier == 0) hold(c).incoming.assign(data, size);
    return HeaderStep::incomplete;
  }
  used = header.header_length - earlier;
  if (c.ws.held) c.ws.held->incoming.clear();

  WsProgress& s = c.ws;
  switch (header.opcode) {
    case ws::Opcode::close:
      error = LoadFailure::unexpected_close;
      return HeaderStep::failed;
    case ws::Opcode::ping:
    case ws::Opcode::pong:  // unsolicited: allowed, and ignored (RFC 6455 §5.5.3)
      s.frame_kind =
          uint8_t(header.opcode == ws::Opcode::ping ? FrameKind::ping : FrameKind::ignored);
      s.frame_left = uint32_t(header.payload_length);  // at most 125: the parser checked
      return HeaderStep::complete;
    case ws::Opcode::binary:
      return HeaderStep::failed;  // the echo of a text message is text
    case ws::Opcode::text:
      if (!s.awaiting_echo || s.in_message) return HeaderStep::failed;
      s.in_message = 1;
      s.compressed = header.rsv1;
      break;
    case ws::Opcode::continuation:
      if (!s.in_message) return HeaderStep::failed;
      break;
  }
  // Longer than what is left of the echo: stray bytes.
  const std::size_t room = s.compressed
                               ? max_compressed(s.message_length) -
                                     std::min(max_compressed(s.message_length),
                                              s.held ? s.held->compressed.size() : std::size_t(0))
                               : std::size_t(s.message_length - s.echo_checked);
  if (header.payload_length > room) return HeaderStep::failed;
  s.frame_kind = uint8_t(FrameKind::echo);
  s.frame_left = uint32_t(header.payload_length);
  s.final_frame = header.fin;
  return HeaderStep::complete;
}

// Takes `piece`, the next payload bytes of the open frame; `frame_ends`
// when they are its last.
WsExchange::Result WsExchange::on_payload(LoadConnection& c, std::string_view piece,
                                          bool frame_ends, std::string& reply) {
  WsProgress& s = c.ws;
  s.frame_left -= uint32_t(piece.size());
  Result result{Result::more};
  switch (FrameKind(s.frame_kind)) {
    case FrameKind::echo:
      result = on_echo(c, piece, frame_ends);
      break;
    case FrameKind::ping: {
      if (frame_ends && !holds(&WsHeldBytes::ping, c)) {  // the whole ping is here
        ws::append_pong_frame(reply, piece, ws::random_mask_key());
        break;
      }
      std::string& held = hold(c).ping;
      held.append(piece);
      if (frame_ends) {
        ws::append_pong_frame(reply, held, ws::random_mask_key());
        held.clear();
      }
      break;
    }
    case FrameKind::ignored:
    case FrameKind::none:
      break;
  }
  if (frame_ends) s.frame_kind = uint8_t(FrameKind::none);
  return result;
}

WsExchange::Result WsExchange::on_echo(LoadConnection& c, std::string_view piece, bool frame_ends) {
  WsProgress& s = c.ws;
  const bool message_ends = frame_ends && s.final_frame;
  if (!s.compressed) {
    // Compared as it comes: nothing is kept.
    if (std::memcmp(piece.data(), message_payload(c).data() + s.echo_checked, piece.size()) != 0)
      return {Result::failed};
    s.echo_checked = uint16_t(s.echo_checked + piece.size());
    if (!message_ends) return {Result::more};
    if (s.echo_checked != s.message_length) return {Result::failed};  // a short echo
  } else if (message_ends && !holds(&WsHeldBytes::compressed, c)) {
    // The usual case: the whole compressed echo came in one read.
    if (!inflates_to_payload(c, piece)) return {Result::failed};
  } else {
    std::string& held = hold(c).compressed;
    held.append(piece);
    if (!message_ends) return {Result::more};
    const bool good = inflates_to_payload(c, held);
    std::string().swap(held);  // the buffer lives only while the echo is in flight
    if (!good) return {Result::failed};
  }
  s.awaiting_echo = 0;
  s.in_message = 0;
  s.compressed = 0;
  return {Result::echoed};
}

bool WsExchange::inflates_to_payload(const LoadConnection& c, std::string_view compressed) {
  inflated_.clear();
  // One byte over the length is enough to see that it is too long.
  const ws::InflateStatus status =
      deflate_.decompress(compressed, std::size_t(c.ws.message_length) + 1, inflated_);
  return status == ws::InflateStatus::ok && inflated_ == message_payload(c);
}

LoadFailure WsExchange::error_on_close(const LoadConnection& c) const {
  const bool mid_frame =
      FrameKind(c.ws.frame_kind) != FrameKind::none || holds(&WsHeldBytes::incoming, c);
  return mid_frame || c.ws.in_message ? LoadFailure::short_response : LoadFailure::unexpected_close;
}

void WsExchange::append_goodbye(std::string& out) {
  ws::append_close_frame(out, ws::close_code::going_away, {}, ws::random_mask_key());
}

void WsExchange::hold_unsent(LoadConnection& c, std::string_view bytes) {
  hold(c).unsent.append(bytes);
}

std::string_view WsExchange::unsent(const LoadConnection& c) {
  return c.ws.held ? std::string_view(c.ws.held->unsent) : std::string_view();
}

void WsExchange::drop_unsent(LoadConnection& c, std::size_t sent) {
  if (!c.ws.held) return;
  c.ws.held->unsent.erase(0, sent);
  tidy(c);
}

void WsExchange::release(LoadConnection& c) {
  delete c.ws.held;
  c.ws.held = nullptr;
}

}  // namespace httpkit::load
