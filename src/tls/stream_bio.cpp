#include "tls/stream_bio.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>

namespace httpkit::tls {
namespace {

// Sends use MSG_NOSIGNAL (the backend's): a peer that resets the
// connection must not raise SIGPIPE.
io::Stream& stream_of(BIO* b) {
  return *static_cast<io::Stream*>(BIO_get_data(b));
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
  io::Stream& s = stream_of(b);
  const io::IoResult r = s.loop().backend().receive_into(s.fd(), data, std::size_t(len));
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
  BIO_set_init(b, 1);
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
    return m;
  }();
  return method;
}

}  // namespace

BIO* new_stream_bio(io::Stream* below) {
  BIO* bio = BIO_new(stream_method());
  if (bio) BIO_set_data(bio, below);
  return bio;
}

void set_stream_bio_target(BIO* bio, io::Stream* below) {
  BIO_set_data(bio, below);
}

}  // namespace httpkit::tls
