#include "ws/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace httpkit::ws {

namespace {

// zlib counts lengths in uInt; larger buffers go through in slices.
constexpr std::size_t kMaxSlice = 1u << 30;

// What a sync flush ends with, and what RFC 7692 §7.2.1 strips.
constexpr unsigned char kSyncFlushTail[4] = {0x00, 0x00, 0xff, 0xff};

// A z_stream whose allocations are counted, so memory_bytes() can report
// what a context really costs instead of what zlib's manual estimates.
struct CountedStream {
  z_stream z{};
  std::size_t allocated = 0;
  bool ready = false;  // init succeeded
};

// Every block carries its size in front, so the free can count it back.
constexpr std::size_t kBlockPrefix = alignof(std::max_align_t);

voidpf counted_alloc(voidpf opaque, uInt items, uInt size) {
  const std::size_t bytes = static_cast<std::size_t>(items) * size;
  auto* block = static_cast<unsigned char*>(std::malloc(kBlockPrefix + bytes));
  if (block == nullptr) return Z_NULL;
  std::memcpy(block, &bytes, sizeof bytes);
  static_cast<CountedStream*>(opaque)->allocated += bytes;
  return block + kBlockPrefix;
}

void counted_free(voidpf opaque, voidpf address) {
  auto* block = static_cast<unsigned char*>(address) - kBlockPrefix;
  std::size_t bytes;
  std::memcpy(&bytes, block, sizeof bytes);
  static_cast<CountedStream*>(opaque)->allocated -= bytes;
  std::free(block);
}

void prepare(CountedStream& s) {
  s.z.zalloc = counted_alloc;
  s.z.zfree = counted_free;
  s.z.opaque = &s;
}

Bytef* bytes_of(const char* p) {
  return reinterpret_cast<Bytef*>(const_cast<char*>(p));
}

}  // namespace

struct Deflater::Stream : CountedStream {};
struct Inflater::Stream : CountedStream {};

Deflater::Deflater(int window_bits, const ZlibOptions& options) : stream_(new Stream) {
  prepare(*stream_);
  window_bits = std::clamp(window_bits, 9, 15);  // 8 -> 9: see the header
  // Negative window bits: a raw deflate stream, no zlib header or checksum.
  stream_->ready = deflateInit2(&stream_->z, options.level, Z_DEFLATED, -window_bits,
                                options.mem_level, Z_DEFAULT_STRATEGY) == Z_OK;
}

Deflater::~Deflater() {
  if (stream_->ready) deflateEnd(&stream_->z);
}

void Deflater::reset() {
  if (stream_->ready) deflateReset(&stream_->z);
}

std::size_t Deflater::memory_bytes() const {
  return stream_->allocated;
}

bool Deflater::compress(std::string_view message, std::string& out) {
  if (!stream_->ready) return false;
  z_stream& z = stream_->z;
  const std::size_t start = out.size();
  std::size_t produced = 0;
  std::size_t capacity = message.size() / 2 + 64;  // a guess; grows as needed
  const char* in = message.data();
  std::size_t in_left = message.size();
  z.avail_in = 0;  // nothing is left from the last message, even after an error
  for (;;) {
    if (z.avail_in == 0 && in_left > 0) {
      const std::size_t slice = std::min(in_left, kMaxSlice);
      z.next_in = bytes_of(in);
      z.avail_in = static_cast<uInt>(slice);
      in += slice;
      in_left -= slice;
    }
    if (produced == capacity) capacity *= 2;
    out.resize(start + capacity);
    const std::size_t room = std::min(capacity - produced, kMaxSlice);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + start + produced);
    z.avail_out = static_cast<uInt>(room);
    const int rc = deflate(&z, in_left > 0 ? Z_NO_FLUSH : Z_SYNC_FLUSH);
    produced += room - z.avail_out;
    if (rc == Z_STREAM_ERROR) {
      out.resize(start);
      deflateReset(&z);
      return false;
    }
    // Output space left over means the sync flush is complete.
    if (in_left == 0 && z.avail_in == 0 && z.avail_out != 0) break;
  }
  if (produced >= 4 &&
      std::memcmp(out.data() + start + produced - 4, kSyncFlushTail, sizeof kSyncFlushTail) == 0) {
    produced -= 4;
  }
  out.resize(start + produced);
  return true;
}

Inflater::Inflater(int window_bits) : stream_(new Stream) {
  prepare(*stream_);
  // A peer told to use 8 bits may be a zlib that uses 9 (see Deflater).
  window_bits = std::clamp(window_bits, 9, 15);
  stream_->ready = inflateInit2(&stream_->z, -window_bits) == Z_OK;
}

Inflater::~Inflater() {
  if (stream_->ready) inflateEnd(&stream_->z);
}

void Inflater::reset() {
  if (stream_->ready) inflateReset(&stream_->z);
}

std::size_t Inflater::memory_bytes() const {
  return stream_->allocated;
}

InflateStatus Inflater::decompress(std::string_view payload, std::size_t max_size,
                                   std::string& out) {
  if (!stream_->ready) return InflateStatus::corrupt;
  z_stream& z = stream_->z;
  const std::size_t start = out.size();
  // The buffer never grows past max_size + 1: one byte more than allowed is
  // how "too big" is seen without inflating further.
  const std::size_t limit = max_size + 1;
  std::size_t produced = 0;
  std::size_t capacity = std::min(limit, std::max<std::size_t>(payload.size() * 4, 256));
  const char* in = payload.data();
  std::size_t in_left = payload.size();
  bool tail_fed = false;
  // Input left over from the last message (after a final block or an
  // error) belongs to a buffer that is gone.
  z.avail_in = 0;
  auto fail = [&](InflateStatus status) {
    out.resize(start);
    inflateReset(&z);
    return status;
  };
  for (;;) {
    if (z.avail_in == 0) {
      if (in_left > 0) {
        const std::size_t slice = std::min(in_left, kMaxSlice);
        z.next_in = bytes_of(in);
        z.avail_in = static_cast<uInt>(slice);
        in += slice;
        in_left -= slice;
      } else if (!tail_fed) {
        // RFC 7692 §7.2.2: put back the 00 00 ff ff the sender removed.
        z.next_in = const_cast<Bytef*>(kSyncFlushTail);
        z.avail_in = sizeof kSyncFlushTail;
        tail_fed = true;
      }
    }
    if (produced == capacity) {
      if (capacity == limit) return fail(InflateStatus::too_big);
      capacity = std::min(limit, capacity * 2);
    }
    out.resize(start + capacity);
    const std::size_t room = std::min(capacity - produced, kMaxSlice);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + start + produced);
    z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    produced += room - z.avail_out;
    if (produced > max_size) return fail(InflateStatus::too_big);
    if (rc == Z_STREAM_END) {
      // The sender ended its stream with a final block (RFC 7692 §7.2.3.4
      // allows it); the next message starts a new stream.
      inflateReset(&z);
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return fail(InflateStatus::corrupt);
    if (tail_fed && z.avail_in == 0 && z.avail_out != 0) break;  // all in, all out
  }
  out.resize(start + produced);
  return InflateStatus::ok;
}

Deflater& SharedDeflateContext::deflater(int window_bits) {
  window_bits = std::clamp(window_bits, 9, 15);  // 8 -> 9: see Deflater
  auto& slot = deflaters_[window_bits - 9];
  if (!slot) slot = std::make_unique<Deflater>(window_bits, options_);
  return *slot;
}

Inflater& SharedDeflateContext::inflater() {
  if (!inflater_) inflater_ = std::make_unique<Inflater>(15);
  return *inflater_;
}

std::size_t SharedDeflateContext::memory_bytes() const {
  std::size_t total = inflater_ ? inflater_->memory_bytes() : 0;
  for (const auto& d : deflaters_)
    total += d ? d->memory_bytes() : 0;
  return total;
}

DeflateContext::DeflateContext(const DeflateParams& params, Role role, SharedDeflateContext& shared)
    : shared_(&shared) {
  const bool server = role == Role::server;
  send_window_bits_ = server ? params.server_max_window_bits : params.client_max_window_bits;
  receive_window_bits_ = server ? params.client_max_window_bits : params.server_max_window_bits;
  send_takeover_ =
      !(server ? params.server_no_context_takeover : params.client_no_context_takeover);
  receive_takeover_ =
      !(server ? params.client_no_context_takeover : params.server_no_context_takeover);
}

bool DeflateContext::compress(std::string_view message, std::string& out) {
  if (!send_takeover_) {
    Deflater& shared = shared_->deflater(send_window_bits_);
    const bool ok = shared.compress(message, out);
    shared.reset();  // clean for the next connection
    return ok;
  }
  if (!own_deflater_) {
    own_deflater_ = std::make_unique<Deflater>(send_window_bits_, shared_->options());
  }
  return own_deflater_->compress(message, out);
}

InflateStatus DeflateContext::decompress(std::string_view payload, std::size_t max_size,
                                         std::string& out) {
  if (!receive_takeover_) {
    Inflater& shared = shared_->inflater();
    const InflateStatus status = shared.decompress(payload, max_size, out);
    shared.reset();
    return status;
  }
  if (!own_inflater_) own_inflater_ = std::make_unique<Inflater>(receive_window_bits_);
  return own_inflater_->decompress(payload, max_size, out);
}

std::size_t DeflateContext::memory_bytes() const {
  return (own_deflater_ ? own_deflater_->memory_bytes() : 0) +
         (own_inflater_ ? own_inflater_->memory_bytes() : 0);
}

}  // namespace httpkit::ws
