// libFuzzer target: the input is what a WebSocket peer sent on one
// connection, after two bytes that choose how it is read:
//
//   byte 0  bit 0    our role (0 server: frames must be masked; 1 client)
//           bit 1    permessage-deflate negotiated
//           bit 2    context takeover (else the loop's shared contexts)
//           bits 3-4 max_message: 4 MiB, 100, 1000, 70000
//           bit 5    also parse the input as a Sec-WebSocket-Extensions offer
//   byte 1  seed for the sizes of the reads the bytes are split into
//
// The bytes are fed once whole and once split, and the two event sequences
// must be the same; every event is checked against the invariants the
// server relies on, and every message is written back and re-read. A
// violated invariant traps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/handshake.hpp"
#include "ws/message_assembler.hpp"
#include "ws/utf8.hpp"

namespace {

using namespace httpkit::ws;

struct Config {
  AssemblerOptions options;
  DeflateParams params;
  bool parse_extensions = false;
  uint8_t split_seed = 0;
};

struct Recorded {
  EventKind kind;
  uint16_t code;
  std::string payload;
  bool operator==(const Recorded&) const = default;
};

bool is_error_code(uint16_t code) {
  return code == close_code::protocol_error || code == close_code::invalid_payload ||
         code == close_code::message_too_big || code == close_code::internal_error;
}

void check_event(const Event& e, std::size_t len, const Config& config) {
  FUZZ_CHECK(e.consumed <= len);
  switch (e.kind) {
    case EventKind::need_more:
      FUZZ_CHECK(e.consumed == len);
      break;
    case EventKind::text:
      FUZZ_CHECK(is_valid_utf8(e.payload));
      [[fallthrough]];
    case EventKind::binary:
      FUZZ_CHECK(e.payload.size() <= config.options.max_message);
      break;
    case EventKind::ping:
    case EventKind::pong:
      FUZZ_CHECK(e.payload.size() <= kMaxControlPayload);
      break;
    case EventKind::close:
      FUZZ_CHECK(e.code == close_code::no_status || is_valid_close_code(e.code));
      FUZZ_CHECK(e.payload.size() <= kMaxControlPayload - 2);
      FUZZ_CHECK(is_valid_utf8(e.payload));
      break;
    case EventKind::error:
      FUZZ_CHECK(is_error_code(e.code));
      FUZZ_CHECK(!e.payload.empty());
      break;
  }
}

// A message we received, written as the other side would and read back.
void check_round_trip(const Recorded& r, const Config& config) {
  if (r.kind != EventKind::text && r.kind != EventKind::binary && r.kind != EventKind::close) {
    return;
  }
  const bool we_are_server = config.options.role == Role::server;
  std::string wire;
  std::optional<MaskKey> mask;
  if (we_are_server) mask = MaskKey{0x11, 0x22, 0x33, 0x44};  // the peer is a client
  if (r.kind == EventKind::close) {
    append_close_frame(wire, r.code, r.payload, mask);
  } else {
    // Split in two fragments with a ping between, to exercise reassembly.
    const std::size_t half = r.payload.size() / 2;
    const Opcode op = r.kind == EventKind::text ? Opcode::text : Opcode::binary;
    append_frame(wire, {op, false, false, mask}, std::string_view(r.payload).substr(0, half));
    append_ping_frame(wire, "p", mask);
    append_frame(wire, {Opcode::continuation, true, false, mask},
                 std::string_view(r.payload).substr(half));
  }
  MessageAssembler again({config.options.role, false, config.options.max_message});
  char* p = wire.data();
  std::size_t n = wire.size();
  Event e = again.next(p, n);
  if (r.kind != EventKind::close) {
    FUZZ_CHECK(e.kind == EventKind::ping);
    p += e.consumed, n -= e.consumed;
    e = again.next(p, n);
  }
  FUZZ_CHECK(e.kind == r.kind);
  FUZZ_CHECK(e.code == r.code);
  FUZZ_CHECK(e.payload == r.payload);
  FUZZ_CHECK(e.consumed == n);
}

// Feeds `wire` in reads whose sizes come from `seed` (0: one read).
std::vector<Recorded> run(std::string_view wire, const Config& config, uint8_t seed) {
  SharedDeflateContext loop;
  DeflateContext deflate(config.params, config.options.role, loop);
  DeflateContext* ctx = config.options.deflate ? &deflate : nullptr;
  MessageAssembler assembler(config.options);
  std::vector<Recorded> events;
  uint32_t state = seed * 2654435761u + 1;
  std::size_t offset = 0;
  do {
    std::size_t piece = wire.size() - offset;
    if (seed != 0) {
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      piece = std::min<std::size_t>(piece, 1 + state % 23);
    }
    // Each read in a buffer of its own, as from a socket.
    std::string read(wire.substr(offset, piece));
    offset += piece;
    char* p = read.data();
    std::size_t n = read.size();
    for (;;) {
      const Event e = assembler.next(p, n, ctx);
      check_event(e, n, config);
      p += e.consumed;
      n -= e.consumed;
      if (e.kind == EventKind::need_more) {
        if (assembler.idle()) FUZZ_CHECK(assembler.buffered_bytes() == 0);
        break;
      }
      events.push_back({e.kind, e.code, std::string(e.payload)});
      if (e.kind == EventKind::error) {
        const Event again = assembler.next(p, n, ctx);
        FUZZ_CHECK(again.kind == EventKind::error && again.code == e.code && again.consumed == 0);
        return events;
      }
    }
  } while (offset < wire.size());
  return events;
}

void fuzz_extensions(std::string_view value) {
  const std::vector<httpkit::HeaderView> headers = {{"Sec-WebSocket-Extensions", value}};
  for (const DeflatePolicy& policy : {DeflatePolicy{}, DeflatePolicy{true, false, false, 10, 9}}) {
    const auto agreed = negotiate_deflate(headers, policy);
    if (!agreed) continue;
    // Our answer is itself well-formed and names only permessage-deflate.
    std::vector<Extension> parsed;
    FUZZ_CHECK(parse_extensions(agreed->response, parsed));
    FUZZ_CHECK(parsed.size() == 1 && parsed[0].name == "permessage-deflate");
    FUZZ_CHECK(agreed->params.server_max_window_bits >= 8 &&
               agreed->params.server_max_window_bits <= 15);
    FUZZ_CHECK(agreed->params.client_max_window_bits >= 8 &&
               agreed->params.client_max_window_bits <= 15);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Config config;
  const uint8_t flags = data[0];
  config.options.role = (flags & 1) ? Role::client : Role::server;
  config.options.deflate = (flags & 2) != 0;
  const bool takeover = (flags & 4) != 0;
  config.params = {!takeover, !takeover, 15, 15};
  static constexpr uint64_t kMaxMessages[] = {4u << 20, 100, 1000, 70000};
  config.options.max_message = kMaxMessages[(flags >> 3) & 3];
  config.parse_extensions = (flags & 32) != 0;
  const uint8_t seed = data[1];
  const std::string_view wire(reinterpret_cast<const char*>(data) + 2, size - 2);

  if (config.parse_extensions) fuzz_extensions(wire);

  const std::vector<Recorded> whole = run(wire, config, 0);
  const std::vector<Recorded> split = run(wire, config, seed | 1);
  FUZZ_CHECK(whole == split);
  for (const Recorded& r : whole)
    check_round_trip(r, config);
  return 0;
}
