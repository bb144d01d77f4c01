#include "tls/stream_bio.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string_view>

namespace httpkit::tls {
namespace {

struct Target {
  io::Stream* stream = nullptr;
  ReadAhead* ahead = nullptr;
};

Target& target_of(BIO* b) {
  return *static_cast<Target*>(BIO_get_data(b));
}

// Sends use MSG_NOSIGNAL (the backend's): a peer that resets the
// connection must not raise SIGPIPE.
io::Stream& stream_of(BIO* b) {
  return *target_of(b).stream;
}

int bio_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  const io::IoResult r = stream_of(b).send(std::string_view(data, std::size_t(len)));
  if (r.done()) return int(r.bytes);
  if (r.status == io::IoStatus::again) {
    BIO_set_retry_write(b);
    errno = EAGAIN;
  } else {
    errno = r.error ? r.error : EPIPE;
  }
  return -1;
}

int bio_read(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
  io::Stream& s = stream_of(b);
  ReadAhead* ahead = target_of(b).ahead;
  io::IoResult r;
  if (!ahead) {
    r = s.loop().backend().receive_into(s.fd(), data, std::size_t(len));
  } else {
    if (ahead->size() == 0) {
      ahead->begin = ahead->end = 0;
      r = s.loop().backend().receive_into(s.fd(), ahead->data, ahead->capacity);
      if (r.done()) ahead->end = r.bytes;
    }
    if (ahead->size() > 0) {
      const std::size_t n = std::min(ahead->size(), std::size_t(len));
      std::memcpy(data, ahead->data + ahead->begin, n);
      ahead->begin += n;
      return int(n);
    }
  }
  if (r.done()) return int(r.bytes);
  if (r.status == io::IoStatus::closed) return 0;  // errno stays as the caller set it
  if (r.status == io::IoStatus::again) {
    BIO_set_retry_read(b);
    errno = EAGAIN;
  } else {
    errno = r.error;
  }
  return -1;
}

int bio_puts(BIO* b, const char* s) {
  return bio_write(b, s, int(std::strlen(s)));
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* b) {
  auto* target = new (std::nothrow) Target;
  if (!target) return 0;
  BIO_set_data(b, target);
  BIO_set_init(b, 1);
  return 1;
}

int bio_destroy(BIO* b) {
  delete static_cast<Target*>(BIO_get_data(b));
  BIO_set_data(b, nullptr);
  return 1;
}

BIO_METHOD* stream_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "httpkit stream");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_puts(m, bio_puts);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    BIO_meth_set_destroy(m, bio_destroy);
    return m;
  }();
  return method;
}

}  // namespace

BIO* new_stream_bio(io::Stream* below) {
  BIO* bio = BIO_new(stream_method());
  if (bio) target_of(bio).stream = below;
  return bio;
}

void set_stream_bio_target(BIO* bio, io::Stream* below, ReadAhead* ahead) {
  target_of(bio) = {below, ahead};
}

}  // namespace httpkit::tls
