#include "ws/message_assembler.hpp"

#include <algorithm>
#include <cstring>

namespace httpkit::ws {

namespace {

uint16_t read_close_code(std::string_view payload) {
  return static_cast<uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                               static_cast<unsigned char>(payload[1]));
}

}  // namespace

std::size_t MessageAssembler::buffered_bytes() const {
  // An empty std::string keeps a few bytes inline; only a larger capacity is heap.
  static const std::size_t inline_capacity = std::string().capacity();
  return buffer_.capacity() > inline_capacity ? buffer_.capacity() : 0;
}

bool MessageAssembler::idle() const {
  return state_ != State::frame_payload && header_have_ == 0 &&
         message_opcode_ == Opcode::continuation;
}

uint64_t MessageAssembler::data_limit() const {
  const uint64_t max = max_message_;
  if (!message_compressed_) return max;
  // Compressed bytes are bounded before inflating too, with room for what
  // deflate adds to incompressible data: 5 bytes per stored block, and a
  // block may be as small as a 512-byte window, so ~1%.
  const uint64_t slack = max / 64 + 1024;
  return max > UINT64_MAX - slack ? UINT64_MAX : max + slack;
}

Event MessageAssembler::next(char* data, std::size_t len, DeflateContext* deflate) {
  // The payload handed out by the previous call is no longer needed.
  if (drop_message_) {
    buffer_.clear();
    drop_message_ = false;
  }
  if (drop_control_) {
    buffer_.resize(message_bytes_);
    drop_control_ = false;
  }
  if (state_ == State::failed) return {EventKind::error, error_code_, 0, error_reason_};
  if (state_ == State::closed) {
    std::string().swap(buffer_);
    return {EventKind::need_more, 0, len, {}};
  }

  std::size_t pos = 0;
  for (;;) {
    if (state_ == State::frame_header) {
      Event e = read_header(data, len, pos);
      if (e.kind != EventKind::need_more || state_ != State::frame_payload) return e;
    }

    const uint64_t remaining = payload_length_ - payload_read_;
    const std::size_t available = len - pos;
    if (available == 0 && remaining > 0) return need_more(pos);
    const bool whole_message_frame = fin_ && opcode_ != Opcode::continuation;
    if (payload_read_ == 0 && available >= payload_length_ &&
        (is_control(opcode_) || whole_message_frame)) {
      // The common case: deliver straight from the caller's bytes.
      char* payload = data + pos;
      const auto length = static_cast<std::size_t>(payload_length_);
      if (masked_) apply_mask(payload, length, mask_);
      pos += length;
      state_ = State::frame_header;
      const std::string_view view(payload, length);
      if (is_control(opcode_)) return finish_control_frame(view, pos);
      return finish_message(view, /*buffered=*/false, pos, deflate);
    }

    const auto take = static_cast<std::size_t>(std::min<uint64_t>(available, remaining));
    char* chunk = data + pos;
    if (masked_) apply_mask(chunk, take, mask_, payload_read_);
    if (!is_control(opcode_)) {
      // Fail fast: a text message is checked as its bytes arrive (§8.1).
      const bool check_utf8 = message_opcode_ == Opcode::text && !message_compressed_;
      if (check_utf8 && !utf8_.feed({chunk, take})) {
        return fail(close_code::invalid_payload, "invalid UTF-8 in a text message", pos);
      }
      message_bytes_ += take;
    }
    buffer_.append(chunk, take);
    payload_read_ += take;
    pos += take;
    if (payload_read_ < payload_length_) return need_more(pos);

    state_ = State::frame_header;
    if (is_control(opcode_)) {
      drop_control_ = true;
      return finish_control_frame(std::string_view(buffer_).substr(message_bytes_), pos);
    }
    if (fin_) return finish_message(buffer_, /*buffered=*/true, pos, deflate);
  }
}

// Reads a frame header from data[pos..len), completing one split across
// calls. Returns need_more with state_ == frame_payload once a header is
// read and accepted, need_more in frame_header when the bytes ran out, or
// an error.
Event MessageAssembler::read_header(char* data, std::size_t len, std::size_t& pos) {
  if (pos == len) return need_more(pos);
  const FrameRules rules{role_, deflate_};
  FrameHeader header;
  HeaderResult result;
  std::size_t used = 0;
  if (header_have_ == 0) {
    result = parse_frame_header({data + pos, len - pos}, rules, header);
    if (result.status == HeaderStatus::incomplete) {
      // Shorter than a header, so shorter than kMaxFrameHeader.
      header_have_ = static_cast<uint8_t>(len - pos);
      std::memcpy(header_bytes_, data + pos, header_have_);
      return need_more(len);
    }
    used = header.header_length;
  } else {
    const std::size_t take = std::min(kMaxFrameHeader - header_have_, len - pos);
    std::memcpy(header_bytes_ + header_have_, data + pos, take);
    result = parse_frame_header({header_bytes_, header_have_ + take}, rules, header);
    if (result.status == HeaderStatus::incomplete) {
      // Still short, so `take` was all of the input.
      header_have_ = static_cast<uint8_t>(header_have_ + take);
      return need_more(len);
    }
    used = header.header_length - header_have_;
    header_have_ = 0;
  }
  if (result.status == HeaderStatus::error) return fail(result.close_code, result.reason, pos);
  pos += used;
  return begin_frame(header, pos);
}

// Checks a new frame against the message in progress (RFC 6455 §5.4).
Event MessageAssembler::begin_frame(const FrameHeader& header, std::size_t pos) {
  if (!is_control(header.opcode)) {
    if (header.opcode == Opcode::continuation) {
      if (message_opcode_ == Opcode::continuation) {
        return fail(close_code::protocol_error, "continuation frame with no message to continue",
                    pos);
      }
    } else {
      if (message_opcode_ != Opcode::continuation) {
        return fail(close_code::protocol_error, "new data frame inside a fragmented message", pos);
      }
      message_opcode_ = header.opcode;
      message_compressed_ = header.rsv1;
      message_bytes_ = 0;
      utf8_.reset();
    }
    if (header.payload_length > data_limit() - message_bytes_) {
      return fail(close_code::message_too_big, "message over the size limit", pos);
    }
  }
  payload_length_ = header.payload_length;
  payload_read_ = 0;
  mask_ = header.mask;
  opcode_ = header.opcode;
  fin_ = header.fin;
  masked_ = header.masked;
  state_ = State::frame_payload;
  return need_more(pos);
}

Event MessageAssembler::finish_control_frame(std::string_view payload, std::size_t pos) {
  switch (opcode_) {
    case Opcode::ping:
      return {EventKind::ping, 0, pos, payload};
    case Opcode::pong:
      return {EventKind::pong, 0, pos, payload};
    default:
      break;
  }
  // A close frame (RFC 6455 §5.5.1): empty, or a valid code and a UTF-8 reason.
  uint16_t code = close_code::no_status;
  std::string_view reason;
  if (payload.size() == 1) {
    return fail(close_code::protocol_error, "close frame with a 1-byte payload", pos);
  }
  if (payload.size() >= 2) {
    code = read_close_code(payload);
    if (!is_valid_close_code(code)) {
      return fail(close_code::protocol_error, "invalid close code", pos);
    }
    reason = payload.substr(2);
    if (!is_valid_utf8(reason)) {
      return fail(close_code::invalid_payload, "close reason is not UTF-8", pos);
    }
  }
  state_ = State::closed;
  return {EventKind::close, code, pos, reason};
}

Event MessageAssembler::finish_message(std::string_view payload, bool buffered, std::size_t pos,
                                       DeflateContext* deflate) {
  const bool text = message_opcode_ == Opcode::text;
  const bool compressed = message_compressed_;
  message_opcode_ = Opcode::continuation;
  message_compressed_ = false;
  message_bytes_ = 0;
  drop_message_ = true;

  if (compressed) {
    if (deflate == nullptr) {
      return fail(close_code::internal_error, "compressed message without a deflate context", pos);
    }
    std::string inflated;
    switch (deflate->decompress(payload, max_message_, inflated)) {
      case InflateStatus::ok:
        break;
      case InflateStatus::too_big:
        return fail(close_code::message_too_big, "message over the size limit", pos);
      case InflateStatus::corrupt:
        return fail(close_code::invalid_payload, "invalid compressed data", pos);
    }
    buffer_.swap(inflated);  // the compressed bytes go with `inflated`
    payload = buffer_;
    if (text && !is_valid_utf8(payload)) {
      return fail(close_code::invalid_payload, "invalid UTF-8 in a text message", pos);
    }
  } else if (text) {
    // Buffered text was checked piece by piece; only its end is left.
    const bool valid = buffered ? utf8_.complete() : is_valid_utf8(payload);
    if (!valid) return fail(close_code::invalid_payload, "invalid UTF-8 in a text message", pos);
  }
  return {text ? EventKind::text : EventKind::binary, 0, pos, payload};
}

Event MessageAssembler::fail(uint16_t code, std::string_view reason, std::size_t pos) {
  state_ = State::failed;
  error_code_ = code;
  error_reason_ = reason;
  std::string().swap(buffer_);
  drop_message_ = drop_control_ = false;
  return {EventKind::error, code, pos, reason};
}

Event MessageAssembler::need_more(std::size_t pos) {
  // Whatever is left half-received lives in buffer_ or header_bytes_; with
  // nothing left, give the memory back so an idle connection holds none.
  if (idle() && !drop_message_ && !drop_control_) std::string().swap(buffer_);
  return {EventKind::need_more, 0, pos, {}};
}

}  // namespace httpkit::ws
