// permessage-deflate (RFC 7692) on zlib raw deflate streams.
//
// A compressed message is a deflate stream ended by a sync flush, with the
// flush's trailing 00 00 ff ff removed (§7.2.1); the receiver appends those
// four bytes again and inflates (§7.2.2).
//
// Memory is the point of this file's shape. A zlib context is large
// (zlib 1.2.13, measured by counting its allocations: ws_tests
// DeflateMemory.Figures prints them):
//
//   deflate  2^(window_bits+2) + 2^(mem_level+9) + 5,952 B of zlib state
//            window 15, mem_level 8 (zlib's default) : 261.8 KiB
//            window 15, mem_level 6 (ZlibOptions)    : 165.8 KiB
//            window 12, mem_level 6                  :  53.8 KiB
//            window 10, mem_level 4                  :  17.8 KiB
//            window  9, mem_level 1                  :   8.8 KiB
//   inflate  2^window_bits + 7,160 B (the window comes on first use)
//            window 15                               :  39.0 KiB
//            window 12                               :  11.0 KiB
//
// so an idle connection must not hold one (the target is <= 256 B
// of user memory per idle WebSocket connection). A context only has to
// outlive a message when that direction keeps its LZ77 window between
// messages ("context takeover"). When the handshake agreed no context
// takeover for a direction, that direction is served by one context per
// event loop, shared by all its connections and reset after every message:
// SharedDeflateContext. The server's default policy (see handshake.hpp)
// agrees no context takeover both ways, so a connection with deflate holds
// no zlib memory at all; a connection that keeps context gets its own
// Deflater/Inflater, created on first use, held in its DeflateContext.
//
// Resetting a deflater, which a shared one does after every message,
// clears its hash table of 2^(mem_level+8) bytes: another reason the
// default is mem_level 6 (16 KiB) rather than zlib's 8 (64 KiB).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ws/frame.hpp"

namespace httpkit::ws {

// The parameters a handshake agreed (RFC 7692 §7.1), named as on the wire.
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  uint8_t server_max_window_bits = 15;  // 8..15
  uint8_t client_max_window_bits = 15;  // 8..15
};

struct ZlibOptions {
  int level = 6;      // 0..9; 6 is zlib's default trade-off
  int mem_level = 6;  // 1..9; see the table above
};

enum class InflateStatus : uint8_t {
  ok,
  too_big,  // the message inflates past max_size: close with 1009
  corrupt,  // not a valid deflate stream: close with 1007
};

// One zlib deflate stream: compresses whole messages in RFC 7692 form.
class Deflater {
 public:
  // window_bits 8..15. zlib refuses 8 for raw deflate, so 8 becomes 9; that
  // still honours a peer's 256-byte window, because zlib never looks back
  // further than w_size - MIN_LOOKAHEAD = 512 - 262 = 250 bytes.
  Deflater(int window_bits, const ZlibOptions& options);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Appends `message` compressed (without the final 00 00 ff ff) to `out`.
  // The LZ77 window carries over to the next message unless reset() is
  // called. False only if zlib could not allocate.
  bool compress(std::string_view message, std::string& out);
  void reset();  // start the next message with an empty window

  std::size_t memory_bytes() const;  // what zlib allocated for this stream

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;  // z_stream must not move: zlib keeps a pointer to it
};

// One zlib inflate stream: decompresses whole messages in RFC 7692 form.
class Inflater {
 public:
  // window_bits 8..15: at least the peer's window. 15 inflates anything.
  explicit Inflater(int window_bits = 15);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Appends the decompressed `payload` (a whole message, as received) to
  // `out`, but never more than `max_size` bytes: past that it stops and
  // says too_big, so a small bomb cannot make a large allocation. After an
  // error the stream is reset. The window carries over unless reset().
  InflateStatus decompress(std::string_view payload, std::size_t max_size, std::string& out);
  void reset();

  std::size_t memory_bytes() const;

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
};

// The zlib contexts of one event loop, for every connection of the loop
// whose handshake agreed no context takeover in a direction. Each is
// created on first use and left clean (reset) after every message, so any
// connection may use it next. Not thread-safe: one per loop.
class SharedDeflateContext {
 public:
  explicit SharedDeflateContext(const ZlibOptions& options = {}) : options_(options) {}

  // A deflater honouring a peer window of `window_bits` (8..15); one per size.
  Deflater& deflater(int window_bits);
  // One inflater with the largest window: it inflates any peer's stream.
  Inflater& inflater();

  const ZlibOptions& options() const { return options_; }
  std::size_t memory_bytes() const;

 private:
  ZlibOptions options_;
  std::array<std::unique_ptr<Deflater>, 7> deflaters_;  // [window_bits - 9]; 8 runs as 9
  std::unique_ptr<Inflater> inflater_;
};

// permessage-deflate for one connection: what it sends and what it
// receives, each direction either on its own zlib context (context
// takeover agreed) or on the loop's shared one (no context takeover).
// 32 bytes and no zlib memory until a direction with takeover is used.
class DeflateContext {
 public:
  // `shared` must outlive this object (it belongs to the connection's loop).
  DeflateContext(const DeflateParams& params, Role role, SharedDeflateContext& shared);

  // Appends the payload of a compressed message (send it with RSV1 set on
  // the first frame). False only if zlib could not allocate.
  bool compress(std::string_view message, std::string& out);

  // Appends the inflated message, at most max_size bytes (see Inflater).
  InflateStatus decompress(std::string_view payload, std::size_t max_size, std::string& out);

  // zlib memory this connection holds of its own (0 without context takeover).
  std::size_t memory_bytes() const;

  // False when neither direction keeps context: then the object has no
  // state of its own, and connections of one loop with the same window
  // sizes can share one.
  bool keeps_context() const { return send_takeover_ || receive_takeover_; }

 private:
  SharedDeflateContext* shared_;
  std::unique_ptr<Deflater> own_deflater_;  // only when we keep context across messages
  std::unique_ptr<Inflater> own_inflater_;  // only when the peer keeps context
  uint8_t send_window_bits_;
  uint8_t receive_window_bits_;
  bool send_takeover_;
  bool receive_takeover_;
};

}  // namespace httpkit::ws
