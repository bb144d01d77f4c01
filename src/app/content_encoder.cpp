#include "app/content_encoder.hpp"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

namespace httpkit::app {
namespace {

constexpr std::size_t kStep = 16 * 1024;  // output grown this much at a time

class ZlibEncoder final : public ContentEncoder {
 public:
  explicit ZlibEncoder(bool gzip) {
    // 31: gzip wrapper; 15: the zlib wrapper HTTP's "deflate" means
    // (RFC 9110 §8.4.1.2), not raw deflate.
    ok_ = deflateInit2(&z_, 6, Z_DEFLATED, gzip ? 31 : 15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~ZlibEncoder() override {
    if (ok_) deflateEnd(&z_);
  }
  bool write(std::string_view bytes, std::string& out) override {
    return run(bytes, Z_NO_FLUSH, out);
  }
  bool flush(std::string& out) override { return run({}, Z_SYNC_FLUSH, out); }
  bool finish(std::string& out) override { return run({}, Z_FINISH, out); }

 private:
  bool run(std::string_view in, int mode, std::string& out) {
    if (!ok_) return false;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      const std::size_t at = out.size();
      out.resize(at + kStep);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + at);
      z_.avail_out = kStep;
      const int rc = deflate(&z_, mode);
      out.resize(at + kStep - z_.avail_out);
      if (rc == Z_STREAM_ERROR) return false;
      if (mode == Z_FINISH ? rc == Z_STREAM_END : (z_.avail_out > 0 && z_.avail_in == 0))
        return true;
    }
  }
  z_stream z_{};
  bool ok_ = false;
};

class BrotliEncoder final : public ContentEncoder {
 public:
  explicit BrotliEncoder(EncoderUse use)
      : s_(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr)) {
    if (s_) {
      // Quality 5's hash chains alone take 1 MiB: a stream uses 4's table.
      BrotliEncoderSetParameter(s_, BROTLI_PARAM_QUALITY, use == EncoderUse::stream ? 4 : 5);
      BrotliEncoderSetParameter(s_, BROTLI_PARAM_LGWIN, use == EncoderUse::stream ? 18 : 20);
      if (use == EncoderUse::stream) BrotliEncoderSetParameter(s_, BROTLI_PARAM_LGBLOCK, 16);
    }
  }
  ~BrotliEncoder() override {
    if (s_) BrotliEncoderDestroyInstance(s_);
  }
  bool write(std::string_view bytes, std::string& out) override {
    return run(bytes, BROTLI_OPERATION_PROCESS, out);
  }
  bool flush(std::string& out) override { return run({}, BROTLI_OPERATION_FLUSH, out); }
  bool finish(std::string& out) override { return run({}, BROTLI_OPERATION_FINISH, out); }

 private:
  bool run(std::string_view in, BrotliEncoderOperation op, std::string& out) {
    if (!s_) return false;
    std::size_t avail_in = in.size();
    const uint8_t* next_in = reinterpret_cast<const uint8_t*>(in.data());
    for (;;) {
      const std::size_t at = out.size();
      out.resize(at + kStep);
      std::size_t avail_out = kStep;
      uint8_t* next_out = reinterpret_cast<uint8_t*>(out.data() + at);
      if (!BrotliEncoderCompressStream(s_, op, &avail_in, &next_in, &avail_out, &next_out,
                                       nullptr)) {
        out.resize(at);
        return false;
      }
      out.resize(at + kStep - avail_out);
      const bool more = BrotliEncoderHasMoreOutput(s_);
      if (op == BROTLI_OPERATION_FINISH ? BrotliEncoderIsFinished(s_) && !more
                                        : avail_in == 0 && !more)
        return true;
    }
  }
  BrotliEncoderState* s_;
};

class ZstdEncoder final : public ContentEncoder {
 public:
  explicit ZstdEncoder(EncoderUse use) : c_(ZSTD_createCCtx()) {
    if (c_) {
      ZSTD_CCtx_setParameter(c_, ZSTD_c_compressionLevel, 3);
      // Browsers decode windows up to 8 MiB (RFC 8878 §3.1.1.1.2). A
      // stream keeps its window (and tables sized to it) for its whole life.
      ZSTD_CCtx_setParameter(c_, ZSTD_c_windowLog, use == EncoderUse::stream ? 17 : 23);
      if (use == EncoderUse::stream) {
        ZSTD_CCtx_setParameter(c_, ZSTD_c_hashLog, 15);
        ZSTD_CCtx_setParameter(c_, ZSTD_c_chainLog, 15);
      }
      ZSTD_CCtx_setParameter(c_, ZSTD_c_checksumFlag, 1);
    }
  }
  ~ZstdEncoder() override { ZSTD_freeCCtx(c_); }
  bool write(std::string_view bytes, std::string& out) override {
    return run(bytes, ZSTD_e_continue, out);
  }
  bool flush(std::string& out) override { return run({}, ZSTD_e_flush, out); }
  bool finish(std::string& out) override { return run({}, ZSTD_e_end, out); }

 private:
  bool run(std::string_view bytes, ZSTD_EndDirective mode, std::string& out) {
    if (!c_) return false;
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    for (;;) {
      const std::size_t at = out.size();
      out.resize(at + kStep);
      ZSTD_outBuffer o{out.data() + at, kStep, 0};
      const std::size_t left = ZSTD_compressStream2(c_, &o, &in, mode);
      out.resize(at + o.pos);
      if (ZSTD_isError(left)) return false;
      const bool drained = mode == ZSTD_e_continue ? in.pos == in.size : left == 0;
      if (drained) return true;
    }
  }
  ZSTD_CCtx* c_;
};

}  // namespace

std::unique_ptr<ContentEncoder> make_content_encoder(http::ContentCoding coding, EncoderUse use) {
  switch (coding) {
    case http::ContentCoding::gzip:
      return std::make_unique<ZlibEncoder>(true);
    case http::ContentCoding::deflate:
      return std::make_unique<ZlibEncoder>(false);
    case http::ContentCoding::br:
      return std::make_unique<BrotliEncoder>(use);
    case http::ContentCoding::zstd:
      return std::make_unique<ZstdEncoder>(use);
    case http::ContentCoding::identity:
      break;
  }
  return nullptr;
}

bool encode_all(http::ContentCoding coding, std::string_view bytes, std::string& out) {
  auto encoder = make_content_encoder(coding);
  if (!encoder) {
    out.append(bytes);
    return true;
  }
  return encoder->write(bytes, out) && encoder->finish(out);
}

}  // namespace httpkit::app
