#include "ws/frame.hpp"

#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "ws/utf8.hpp"

namespace httpkit::ws {

namespace {

bool is_known_opcode(uint8_t op) {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

HeaderResult protocol_error(std::string_view reason) {
  return {HeaderStatus::error, close_code::protocol_error, reason};
}

uint64_t read_big_endian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | p[i];
  return v;
}

}  // namespace

bool is_valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

HeaderResult parse_frame_header(std::string_view bytes, const FrameRules& rules, FrameHeader& out) {
  if (bytes.size() < 2) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());

  const uint8_t op = p[0] & 0x0F;
  if (!is_known_opcode(op)) return protocol_error("reserved opcode");
  const auto opcode = static_cast<Opcode>(op);
  const bool fin = (p[0] & 0x80) != 0;
  const bool rsv1 = (p[0] & 0x40) != 0;
  if (p[0] & 0x30) return protocol_error("RSV2/RSV3 set without a negotiated extension");
  if (rsv1) {
    if (!rules.deflate) return protocol_error("RSV1 set without permessage-deflate");
    if (opcode != Opcode::text && opcode != Opcode::binary) {
      // RFC 7692 §6: only the first frame of a data message says "compressed".
      return protocol_error("RSV1 set on a control or continuation frame");
    }
  }

  const bool masked = (p[1] & 0x80) != 0;
  const uint8_t length7 = p[1] & 0x7F;
  if (is_control(opcode)) {
    if (!fin) return protocol_error("fragmented control frame");
    if (length7 > kMaxControlPayload) return protocol_error("control frame payload over 125 bytes");
  }
  if (rules.role == Role::server && !masked) return protocol_error("unmasked client frame");
  if (rules.role == Role::client && masked) return protocol_error("masked server frame");

  const int length_bytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  uint64_t length = length7;
  if (length_bytes != 0) {
    if (bytes.size() < 2u + length_bytes) return {};
    length = read_big_endian(p + 2, length_bytes);
    if (length_bytes == 2 && length < 126) return protocol_error("non-minimal 16-bit length");
    if (length_bytes == 8) {
      if (length >> 63) return protocol_error("64-bit length with the high bit set");
      if (length <= 0xFFFF) return protocol_error("non-minimal 64-bit length");
    }
  }

  const std::size_t header_length = 2 + length_bytes + (masked ? 4 : 0);
  if (bytes.size() < header_length) return {};

  out.payload_length = length;
  out.opcode = opcode;
  out.fin = fin;
  out.rsv1 = rsv1;
  out.masked = masked;
  out.header_length = static_cast<uint8_t>(header_length);
  if (masked) std::memcpy(out.mask.data(), p + 2 + length_bytes, 4);
  return {HeaderStatus::complete};
}

void apply_mask(char* data, std::size_t len, const MaskKey& key, uint64_t key_offset) {
  // The key laid out so that pattern[i] masks data[i]; eight bytes of it
  // make one 64-bit word to XOR with (RFC 6455 §5.3: octet i uses key[i % 4]).
  unsigned char pattern[8];
  for (int i = 0; i < 8; ++i)
    pattern[i] = key[(key_offset + i) & 3];
  uint64_t word_mask;
  std::memcpy(&word_mask, pattern, sizeof word_mask);

  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    word ^= word_mask;
    std::memcpy(data + i, &word, sizeof word);
  }
  for (; i < len; ++i)
    data[i] = static_cast<char>(data[i] ^ pattern[i & 7]);
}

std::size_t write_frame_header(char (&out)[kMaxFrameHeader], const OutgoingFrame& frame,
                               uint64_t payload_length) {
  auto* p = reinterpret_cast<unsigned char*>(out);
  p[0] = static_cast<unsigned char>((frame.fin ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) |
                                    static_cast<uint8_t>(frame.opcode));
  p[1] = frame.mask ? 0x80 : 0;
  std::size_t n = 2;
  int length_bytes = 0;
  if (payload_length < 126) {
    p[1] |= static_cast<unsigned char>(payload_length);
  } else if (payload_length <= 0xFFFF) {
    p[1] |= 126;
    length_bytes = 2;
  } else {
    p[1] |= 127;
    length_bytes = 8;
  }
  for (int i = length_bytes - 1; i >= 0; --i) {
    p[n++] = static_cast<unsigned char>(payload_length >> (8 * i));
  }
  if (frame.mask) {
    std::memcpy(p + n, frame.mask->data(), 4);
    n += 4;
  }
  return n;
}

void append_frame(std::string& out, const OutgoingFrame& frame, std::string_view payload) {
  char header[kMaxFrameHeader];
  const std::size_t header_length = write_frame_header(header, frame, payload.size());
  const std::size_t start = out.size();
  out.reserve(start + header_length + payload.size());
  out.append(header, header_length);
  out.append(payload);
  if (frame.mask) apply_mask(out.data() + start + header_length, payload.size(), *frame.mask);
}

void append_close_frame(std::string& out, uint16_t code, std::string_view reason,
                        std::optional<MaskKey> mask) {
  const OutgoingFrame frame{Opcode::close, true, false, mask};
  if (!is_valid_close_code(code)) {
    append_frame(out, frame, {});
    return;
  }
  if (!is_valid_utf8(reason)) reason = {};
  char payload[kMaxControlPayload];
  payload[0] = static_cast<char>(code >> 8);
  payload[1] = static_cast<char>(code & 0xFF);
  const std::size_t reason_length = utf8_prefix_length(reason, kMaxControlPayload - 2);
  if (reason_length > 0) std::memcpy(payload + 2, reason.data(), reason_length);
  append_frame(out, frame, std::string_view(payload, 2 + reason_length));
}

void append_ping_frame(std::string& out, std::string_view payload, std::optional<MaskKey> mask) {
  append_frame(out, {Opcode::ping, true, false, mask}, payload.substr(0, kMaxControlPayload));
}

void append_pong_frame(std::string& out, std::string_view payload, std::optional<MaskKey> mask) {
  append_frame(out, {Opcode::pong, true, false, mask}, payload.substr(0, kMaxControlPayload));
}

MaskKey random_mask_key() {
  MaskKey key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    // The CSPRNG failed (not seeded); a fixed key would still be a valid
    // frame, but RFC 6455 §10.3 needs unpredictability, so fail loudly.
    std::abort();
  }
  return key;
}

}  // namespace httpkit::ws
