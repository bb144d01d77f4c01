// From WebSocket bytes to messages (RFC 6455 §5.4-5.5, §8.1; RFC 7692 §6).
//
// Pure: the caller hands in the bytes it read, the assembler hands back one
// event at a time. It decodes frame headers, unmasks payloads in place,
// reassembles fragmented messages (control frames may come in between),
// inflates compressed messages, checks UTF-8 of text and close frames, and
// enforces max_message. Any violation is an `error` event carrying the close
// code to fail the connection with.
//
// No copy in the common case: a control frame, or a data frame that is a
// whole message (FIN set, not a continuation), whose payload lies entirely
// in the bytes passed in is delivered as a view into those bytes, unmasked
// in place. Only a message in several frames, a frame split across reads,
// or a compressed message goes through the assembler's own buffer. The
// assembler consumes every byte it is given: the caller keeps nothing.
//
//   for (;;) {
//     Event e = assembler.next(data, len, deflate_or_null);
//     data += e.consumed; len -= e.consumed;
//     if (e.kind == EventKind::need_more) break;      // read more, call again
//     handle(e);  // payload valid until the next call; close/error end it
//   }
//
// After `need_more` with no message or frame half-received, the assembler
// holds no heap memory: an idle connection costs sizeof(MessageAssembler).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/utf8.hpp"

namespace httpkit::ws {

struct AssemblerOptions {
  Role role = Role::server;  // a server reads masked frames, a client unmasked ones
  bool deflate = false;      // permessage-deflate negotiated (RSV1 allowed)
  // Largest message, after decompression; over it -> error 1009. Checked as
  // soon as a frame header announces the length, before its payload comes.
  uint64_t max_message = 4u << 20;
};

enum class EventKind : uint8_t {
  need_more,  // every byte given is consumed; call again with more
  text,       // a whole text message, valid UTF-8
  binary,     // a whole binary message
  ping,       // answer with a pong carrying the same payload
  pong,
  close,  // the peer's close frame: code (1005 when none) and reason;
          // later bytes are ignored (RFC 6455 §5.5.1)
  error,  // fail the connection: send a close with `code`, then close
};

struct Event {
  EventKind kind = EventKind::need_more;
  uint16_t code = 0;         // close: the peer's status; error: the status to close with
  std::size_t consumed = 0;  // bytes of this call's input used up to this event
  // text/binary/ping/pong: the payload; close: the reason; error: what was
  // wrong (static text, for logs and the close reason). A view into the
  // caller's bytes or the assembler's buffer, valid until the next call.
  std::string_view payload;
};

class MessageAssembler {
 public:
  explicit MessageAssembler(const AssemblerOptions& options = {})
      : max_message_(options.max_message), role_(options.role), deflate_(options.deflate) {}

  // Consumes data[0..len) up to and including the next event and returns
  // it. The bytes are modified (unmasked) in place. `deflate` inflates
  // compressed messages; it is required when options.deflate is set.
  // After `error`, every call repeats it; after `close`, input is ignored.
  Event next(char* data, std::size_t len, DeflateContext* deflate = nullptr);

  // Nothing half-received: no partial frame header, payload or message.
  bool idle() const;
  // Heap bytes held for a partial message or control frame.
  std::size_t buffered_bytes() const;

 private:
  enum class State : uint8_t { frame_header, frame_payload, closed, failed };

  Event read_header(char* data, std::size_t len, std::size_t& pos);
  Event begin_frame(const FrameHeader& header, std::size_t pos);
  Event finish_control_frame(std::string_view payload, std::size_t pos);
  Event finish_message(std::string_view payload, bool buffered, std::size_t pos,
                       DeflateContext* deflate);
  Event fail(uint16_t code, std::string_view reason, std::size_t pos);
  Event need_more(std::size_t pos);
  uint64_t data_limit() const;  // largest message_bytes_ on the wire

  // Members ordered by size: one of these sits in every WebSocket connection.
  uint64_t max_message_;
  uint64_t payload_length_ = 0;  // of the frame being read
  uint64_t payload_read_ = 0;    // of that payload so far; also the masking key offset
  // Bytes of the current message in buffer_. A control frame split across
  // reads is buffered after them and dropped once delivered.
  uint64_t message_bytes_ = 0;
  std::string buffer_;
  std::string_view error_reason_;  // repeated after a failure
  MaskKey mask_{};                 // of the frame being read
  Utf8Validator utf8_;             // of the current uncompressed text message
  uint16_t error_code_ = 0;
  char header_bytes_[kMaxFrameHeader];
  uint8_t header_have_ = 0;  // bytes of a split header held in header_bytes_
  Role role_;
  bool deflate_;
  State state_ = State::frame_header;
  Opcode opcode_ = Opcode::continuation;  // of the frame being read
  bool fin_ = false;
  bool masked_ = false;
  Opcode message_opcode_ = Opcode::continuation;  // text/binary while a message is open
  bool message_compressed_ = false;
  bool drop_message_ = false;  // buffer_ holds a delivered message: clear on the next call
  bool drop_control_ = false;  // buffer_ ends with a delivered control payload
};

}  // namespace httpkit::ws
