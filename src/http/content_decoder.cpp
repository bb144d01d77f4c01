#include "http/content_decoder.hpp"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

namespace httpkit::http {

// Each step decodes from `data` into `out` (at most `cap` bytes), moving
// `data` past what it used.
class ContentDecoder::Engine {
 public:
  enum class Step : uint8_t {
    more,        // output may follow without more input
    need_input,  // all input taken (or ignored after the end)
    error        // `error` says why
  };
  virtual ~Engine() = default;
  virtual Step step(const char*& data, std::size_t& size, char* out, std::size_t cap,
                    std::size_t& produced, std::string& error) = 0;
  virtual bool finished() const = 0;
};

namespace {

using Step = ContentDecoder::Engine::Step;

// RFC 9112 §7.2 via RFC 1950/1951/1952.
class ZlibEngine final : public ContentDecoder::Engine {
 public:
  explicit ZlibEngine(bool gzip) : gzip_(gzip) {}
  ~ZlibEngine() override {
    if (initialized_) inflateEnd(&zs_);
  }

  Step step(const char*& data, std::size_t& size, char* out, std::size_t cap, std::size_t& produced,
            std::string& error) override {
    produced = 0;
    if (!initialized_) {
      int window_bits = 15 + 16;  // gzip wrapper only
      if (!gzip_) {
        // RFC 9110 "deflate" is the zlib format, but some servers send raw
        // deflate. A zlib header is CM=8 and a multiple of 31: look first.
        while (sniff_.size() < 2 && size > 0) {
          sniff_.push_back(*data++);
          --size;
        }
        if (sniff_.size() < 2) return Step::need_input;
        const auto cmf = uint8_t(sniff_[0]), flg = uint8_t(sniff_[1]);
        window_bits = (cmf & 0x0f) == 8 && (cmf * 256 + flg) % 31 == 0 ? 15 : -15;
      }
      if (inflateInit2(&zs_, window_bits) != Z_OK) {
        error = "zlib initialisation failed";
        return Step::error;
      }
      initialized_ = true;
    }
    for (;;) {
      if (done_ && !next_member(data, size)) {
        size = 0;  // all taken: held, or ignored after the last member
        return Step::need_input;
      }
      if (produced == cap) return Step::more;
      if (!sniff_.empty()) {
        // Held bytes (two never fill a piece) go in first, whole; they
        // may end a tiny stream, so look again before going on.
        if (feed_held(out, cap, produced, error) == Step::error) return Step::error;
        continue;
      }
      std::size_t more = 0;
      const Step s = inflate_into(data, size, out + produced, cap - produced, more, error);
      produced += more;
      if (s == Step::error || !done_) return s;
    }
  }

  bool finished() const override { return done_; }

 private:
  // After a gzip member, RFC 1952 §2.2 lets another follow: its magic
  // (1f 8b), held in sniff_, starts it on a reset stream. Anything else
  // after a member is trailing garbage, ignored (old servers append it);
  // deflate and zlib streams have no members. False while the two bytes
  // are still coming, or when no member follows.
  bool next_member(const char*& data, std::size_t& size) {
    if (!gzip_ || trailing_) return false;
    while (sniff_.size() < 2 && size > 0) {
      sniff_.push_back(*data++);
      --size;
    }
    if (sniff_.size() < 2) return false;
    if (sniff_ != "\x1f\x8b") {
      trailing_ = true;
      sniff_.clear();
      return false;
    }
    inflateReset(&zs_);
    done_ = false;
    return true;
  }

  // The bytes held in sniff_ (a stream's or a member's first two) go in
  // before the rest.
  Step feed_held(char* out, std::size_t cap, std::size_t& produced, std::string& error) {
    const char* held = sniff_.data();
    std::size_t left = sniff_.size();
    std::size_t more = 0;
    const Step s = inflate_into(held, left, out + produced, cap - produced, more, error);
    produced += more;
    sniff_.clear();
    return s;
  }

  Step inflate_into(const char*& data, std::size_t& size, char* out, std::size_t cap,
                    std::size_t& produced, std::string& error) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    zs_.avail_in = uInt(size);
    zs_.next_out = reinterpret_cast<Bytef*>(out);
    zs_.avail_out = uInt(cap);
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    data += size - zs_.avail_in;
    size = zs_.avail_in;
    produced = cap - zs_.avail_out;
    if (rc == Z_STREAM_END) {
      done_ = true;
      return Step::need_input;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error = std::string(gzip_ ? "invalid gzip data" : "invalid deflate data") +
              (zs_.msg ? std::string(": ") + zs_.msg : std::string());
      return Step::error;
    }
    return zs_.avail_out == 0 ? Step::more : Step::need_input;
  }

  bool gzip_;
  bool initialized_ = false;
  bool done_ = false;      // the stream, or the current gzip member, ended
  bool trailing_ = false;  // garbage followed the last gzip member
  // The first two bytes of a "deflate" body (until its format is known) or
  // of what follows a gzip member (until it is known to be another).
  std::string sniff_;
  z_stream zs_{};
};

// RFC 7932.
class BrotliEngine final : public ContentDecoder::Engine {
 public:
  BrotliEngine() : state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~BrotliEngine() override {
    if (state_) BrotliDecoderDestroyInstance(state_);
  }

  Step step(const char*& data, std::size_t& size, char* out, std::size_t cap, std::size_t& produced,
            std::string& error) override {
    produced = 0;
    if (!state_) {
      error = "brotli initialisation failed";
      return Step::error;
    }
    if (done_) {
      size = 0;
      return Step::need_input;
    }
    auto* next_in = reinterpret_cast<const uint8_t*>(data);
    auto* next_out = reinterpret_cast<uint8_t*>(out);
    std::size_t avail_out = cap;
    const BrotliDecoderResult r =
        BrotliDecoderDecompressStream(state_, &size, &next_in, &avail_out, &next_out, nullptr);
    data = reinterpret_cast<const char*>(next_in);
    produced = cap - avail_out;
    switch (r) {
      case BROTLI_DECODER_RESULT_SUCCESS:
        done_ = true;
        size = 0;
        return Step::need_input;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        return Step::more;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        return Step::need_input;
      case BROTLI_DECODER_RESULT_ERROR:
        break;
    }
    error = std::string("invalid br data: ") +
            BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state_));
    return Step::error;
  }

  bool finished() const override { return done_; }

 private:
  BrotliDecoderState* state_;
  bool done_ = false;
};

// RFC 8878, with the window HTTP allows (RFC 9659 §3: 8 MiB), so a frame
// cannot make the decoder allocate the library's default of 128 MiB.
class ZstdEngine final : public ContentDecoder::Engine {
 public:
  ZstdEngine() : dctx_(ZSTD_createDCtx()) {
    if (dctx_) ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, 23);
  }
  ~ZstdEngine() override { ZSTD_freeDCtx(dctx_); }

  Step step(const char*& data, std::size_t& size, char* out, std::size_t cap, std::size_t& produced,
            std::string& error) override {
    produced = 0;
    if (!dctx_) {
      error = "zstd initialisation failed";
      return Step::error;
    }
    ZSTD_inBuffer in{data, size, 0};
    ZSTD_outBuffer o{out, cap, 0};
    const std::size_t rc = ZSTD_decompressStream(dctx_, &o, &in);
    if (ZSTD_isError(rc)) {
      error = std::string("invalid zstd data: ") + ZSTD_getErrorName(rc);
      return Step::error;
    }
    data += in.pos;
    size -= in.pos;
    produced = o.pos;
    if (in.pos > 0 || o.pos > 0) frame_done_ = rc == 0;
    // A full output may hide more; a finished frame may have another
    // frame's bytes behind it.
    return o.pos == cap || (rc == 0 && size > 0) ? Step::more : Step::need_input;
  }

  bool finished() const override { return frame_done_; }

 private:
  ZSTD_DCtx* dctx_;
  bool frame_done_ = false;
};

std::unique_ptr<ContentDecoder::Engine> make_engine(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::gzip:
      return std::make_unique<ZlibEngine>(true);
    case ContentCoding::deflate:
      return std::make_unique<ZlibEngine>(false);
    case ContentCoding::br:
      return std::make_unique<BrotliEngine>();
    case ContentCoding::zstd:
      return std::make_unique<ZstdEngine>();
    case ContentCoding::identity:
      break;
  }
  return nullptr;
}

}  // namespace

ContentDecoder::ContentDecoder(ContentCoding coding)
    : engine_(make_engine(coding)), out_(new char[kPiece]) {
  if (!engine_) error_ = "identity is not a coding to decode";
}

ContentDecoder::~ContentDecoder() = default;

bool ContentDecoder::finished() const {
  return engine_ && error_.empty() && engine_->finished();
}

ContentDecoder::Status ContentDecoder::feed(std::string_view in, const Sink& sink) {
  if (!error_.empty()) return Status::error;
  // Held-back bytes go first; new bytes queue behind them.
  if (pending_offset_ < pending_.size()) {
    pending_.append(in);
    const char* data = pending_.data() + pending_offset_;
    std::size_t size = pending_.size() - pending_offset_;
    const Status s = run(data, size, sink);
    pending_offset_ = pending_.size() - size;
    if (size == 0) {
      pending_.clear();
      pending_offset_ = 0;
    }
    return s;
  }
  const char* data = in.data();
  std::size_t size = in.size();
  const Status s = run(data, size, sink);
  if (size > 0 && s == Status::paused) {
    pending_.assign(data, size);
    pending_offset_ = 0;
  }
  return s;
}

ContentDecoder::Status ContentDecoder::run(const char*& data, std::size_t& size, const Sink& sink) {
  for (;;) {
    std::size_t produced = 0;
    const std::size_t before = size;
    const Engine::Step s = engine_->step(data, size, out_.get(), kPiece, produced, error_);
    consumed_ += before - size;
    if (s == Engine::Step::error) {
      pending_.clear();
      pending_offset_ = 0;
      return Status::error;
    }
    if (produced > 0 && !sink({out_.get(), produced})) return Status::paused;
    // need_input: every byte was taken (or is buffered inside the library).
    if (s == Engine::Step::need_input) return Status::ok;
    if (produced == 0 && before == size) break;
  }
  error_ = "the decoder made no progress";  // a library that neither reads nor writes
  return Status::error;
}

}  // namespace httpkit::http
