// WebSocket frames (RFC 6455 §5): header parsing, unmasking and writing.
//
// Pure: bytes in, a FrameHeader or bytes out. Nothing here allocates except
// the append_* writers, which grow the caller's string.
//
//    0                   1                   2                   3
//   +-+-+-+-+-------+-+-------------+-------------------------------+
//   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//   | |1|2|3|       |K|             |                               |
//   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//   |  extended length, 64-bit, continued   | masking key (if MASK) |
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpkit::ws {

enum class Opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Control frames (close, ping, pong) have the high opcode bit set.
inline bool is_control(Opcode op) {
  return (static_cast<uint8_t>(op) & 0x8) != 0;
}

// Which end of the connection we are. It decides masking: a client masks
// every frame it sends and a server none (RFC 6455 §5.1), so each side
// rejects frames that were masked the wrong way.
enum class Role : uint8_t { server, client };

// Status codes of a close frame (RFC 6455 §7.4.1 and the IANA registry).
namespace close_code {
inline constexpr uint16_t normal = 1000;
inline constexpr uint16_t going_away = 1001;
inline constexpr uint16_t protocol_error = 1002;
inline constexpr uint16_t unsupported_data = 1003;
inline constexpr uint16_t no_status = 1005;  // never sent: "the close frame had no code"
inline constexpr uint16_t abnormal = 1006;   // never sent: "closed without a close frame"
inline constexpr uint16_t invalid_payload = 1007;
inline constexpr uint16_t policy_violation = 1008;
inline constexpr uint16_t message_too_big = 1009;
inline constexpr uint16_t mandatory_extension = 1010;
inline constexpr uint16_t internal_error = 1011;
}  // namespace close_code

// True for the codes a close frame may carry: 1000-1003, 1007-1014 and the
// application/private ranges 3000-4999. 1004-1006 and 1015 are reserved or
// local-only, 1016-2999 unassigned, below 1000 unused.
bool is_valid_close_code(uint16_t code);

using MaskKey = std::array<uint8_t, 4>;

inline constexpr std::size_t kMaxFrameHeader = 14;  // 2 + 8 (64-bit length) + 4 (mask)
inline constexpr std::size_t kMaxControlPayload = 125;

struct FrameHeader {
  uint64_t payload_length = 0;
  MaskKey mask{};  // meaningful when `masked`
  Opcode opcode = Opcode::continuation;
  bool fin = false;
  bool rsv1 = false;  // "compressed" under permessage-deflate; RSV2/RSV3 are always rejected
  bool masked = false;
  uint8_t header_length = 0;  // bytes of header on the wire, 2..14
};

// What the reader accepts.
struct FrameRules {
  Role role = Role::server;  // our role: a server reads masked frames, a client unmasked ones
  bool deflate = false;      // permessage-deflate negotiated: RSV1 allowed on text/binary frames
};

enum class HeaderStatus : uint8_t { complete, incomplete, error };

struct HeaderResult {
  HeaderStatus status = HeaderStatus::incomplete;
  uint16_t close_code = 0;       // on error: what to close with (1002)
  std::string_view reason = {};  // on error: what was wrong (static text)
};

// Parses the frame header at the start of `bytes` and checks it against
// RFC 6455 §5: known opcode, no RSV bits beyond the negotiated RSV1 (which
// only a first data frame may carry — a text or binary frame, never a
// continuation or control frame), unfragmented control frames of at most
// 125 bytes, masking as `rules.role` requires, minimal length encodings and
// a 64-bit length with the high bit clear. Every check runs as soon as its
// bytes are there, so a prefix of a header gives `incomplete` or the same
// error the whole header gives.
HeaderResult parse_frame_header(std::string_view bytes, const FrameRules& rules, FrameHeader& out);

// XORs data[0..len) with the masking key (RFC 6455 §5.3); the same call
// masks and unmasks. `key_offset` is how many payload bytes of this frame
// came before `data`, so a payload can be unmasked piece by piece.
void apply_mask(char* data, std::size_t len, const MaskKey& key, uint64_t key_offset = 0);

// A frame to write. The mask is required when we are the client and must be
// absent when we are the server; the caller picks it (random_mask_key()).
struct OutgoingFrame {
  Opcode opcode = Opcode::binary;
  bool fin = true;
  bool rsv1 = false;  // set on the first frame of a compressed message
  std::optional<MaskKey> mask = std::nullopt;
};

// Writes the header for a payload of `payload_length` bytes into `out` and
// returns its size (2..14). For a server this is all a frame needs: the
// payload can go out with writev straight from where it lives.
std::size_t write_frame_header(char (&out)[kMaxFrameHeader], const OutgoingFrame& frame,
                               uint64_t payload_length);

// Appends header and payload (masked when frame.mask is set) to `out`.
void append_frame(std::string& out, const OutgoingFrame& frame, std::string_view payload);

// A close frame with `code` and `reason`, the reason cut at a UTF-8 boundary
// so the payload fits 125 bytes. A code that may not be sent (1005, 1006,
// 1015, anything is_valid_close_code rejects) gives an empty payload, which
// is how "no status" is said on the wire; so does a reason that is not UTF-8
// lose its reason.
void append_close_frame(std::string& out, uint16_t code, std::string_view reason,
                        std::optional<MaskKey> mask = std::nullopt);

// Ping and pong; a payload over 125 bytes is cut to 125.
void append_ping_frame(std::string& out, std::string_view payload,
                       std::optional<MaskKey> mask = std::nullopt);
void append_pong_frame(std::string& out, std::string_view payload,
                       std::optional<MaskKey> mask = std::nullopt);

// A masking key from OpenSSL's CSPRNG, as RFC 6455 §5.3 asks of clients.
MaskKey random_mask_key();

}  // namespace httpkit::ws
