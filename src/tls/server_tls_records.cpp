// ServerTlsLayer after a TLS 1.3 handshake: records opened and sealed by
// RecordProtection with the loop thread's cipher contexts and buffers; the
// connection itself keeps only keys and, while they exist, a partial input
// record and unsent ciphertext.
#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tls/handshake_secrets.hpp"
#include "tls/ktls.hpp"
#include "tls/server_tls_layer.hpp"

namespace httpkit::tls {
namespace {

// One loop thread's: its AEAD contexts, ciphertext read (a partial record
// carried over, then one full read; plaintext is opened in place and
// handed up from here), and records sealed for sending.
constexpr std::size_t kInputSize = kMaxCiphertext + kRecordHeader + io::Backend::kReadBufferSize;
constexpr std::size_t kRecordsPerSend = 4;
constexpr std::size_t kSealSize =
    kRecordsPerSend * (kMaxPlaintext + kRecordOverhead) + kRecordOverhead + 5;

RecordCiphers& ciphers() {
  thread_local RecordCiphers contexts;
  return contexts;
}
uint8_t* input_buffer() {
  thread_local std::unique_ptr<uint8_t[]> buffer(new uint8_t[kInputSize]);
  return buffer.get();
}
uint8_t* seal_buffer() {
  thread_local std::unique_ptr<uint8_t[]> buffer(new uint8_t[kSealSize]);
  return buffer.get();
}

// Drops the first `n` bytes of an iovec array (a window of at most
// std::size(window) pieces, refilled from the caller's array).
struct IovCursor {
  const iovec* iov;
  int count;
  std::size_t skip = 0;  // of iov[0]

  void advance(std::size_t n) {
    while (count > 0 && n > 0) {
      const std::size_t left = iov->iov_len - skip;
      if (n < left) {
        skip += n;
        return;
      }
      n -= left;
      ++iov;
      --count;
      skip = 0;
    }
    while (count > 0 && iov->iov_len == skip) {
      ++iov;
      --count;
      skip = 0;
    }
  }
  int window(iovec (&out)[8]) const {
    int k = 0;
    for (; k < count && k < 8; ++k) {
      out[k] = iov[k];
      if (k == 0) {
        out[0].iov_base = static_cast<char*>(out[0].iov_base) + skip;
        out[0].iov_len -= skip;
      }
    }
    return k;
  }
  std::size_t total() const {
    std::size_t n = 0;
    for (int i = 0; i < count; ++i)
      n += iov[i].iov_len;
    return n - skip;
  }
};

}  // namespace

void ServerTlsLayer::take_records(io::Stream& below) {
  records_ = take_record_protection(ssl_, Role::server);
  if (!records_) return;  // TLS 1.2, or something OpenSSL must go on with
  SSL_free(ssl_);
  ssl_ = nullptr;
  ERR_clear_error();
  // kTLS: never taken on this machine (no `tls` ULP); see ktls.hpp.
  if (ktls_available()) kernel_tx_ = enable_ktls_tx(below.fd(), records_->write_keys());
}

// The loop's cached contexts keyed for this connection are wiped.
void ServerTlsLayer::forget_keys() {
  ciphers().forget(records_->read_keys());
  ciphers().forget(records_->write_keys());
}

void ServerTlsLayer::hold_input(const uint8_t* bytes, std::size_t size) {
  if (!held_) held_ = std::make_unique<Held>();
  held_->input.assign(reinterpret_cast<const char*>(bytes), size);
}

void ServerTlsLayer::release_if_empty() {
  if (held_ && held_->input.empty() && held_->output.empty()) held_.reset();
}

io::IoResult ServerTlsLayer::records_receive(io::Stream& below, std::span<char>& bytes) {
  if (peer_closed_) return {io::IoStatus::closed, 0, 0};
  uint8_t* buffer = input_buffer();
  for (;;) {
    std::size_t have = 0;
    if (held_ && !held_->input.empty()) {
      have = held_->input.size();
      std::memcpy(buffer, held_->input.data(), have);
      held_->input.clear();
      release_if_empty();
    }
    const io::IoResult r = below.loop().backend().receive_into(
        below.fd(), reinterpret_cast<char*>(buffer + have), io::Backend::kReadBufferSize);
    const bool full = r.done() && r.bytes == io::Backend::kReadBufferSize;
    if (r.done()) have += r.bytes;
    const RecordProtection::Opened o = records_->open(ciphers(), {buffer, have});
    if (o.event == RecordEvent::fault) {
      send_alert(below, records_->alert_to_send());
      state_ = State::closed;
      return {io::IoStatus::failed, 0, EPROTO};
    }
    if (o.event == RecordEvent::peer_alert) {
      state_ = State::closed;
      return {io::IoStatus::failed, 0, ECONNRESET};
    }
    // The bytes of a partial record wait here; the plaintext is in front.
    if (o.consumed < have && o.event == RecordEvent::none)
      hold_input(buffer + o.consumed, have - o.consumed);
    if (records_->key_update_owed() && !kernel_tx_) records_send(below, nullptr, 0);
    if (o.event == RecordEvent::close_notify) {
      peer_closed_ = true;
      if (o.plaintext == 0) return {io::IoStatus::closed, 0, 0};
    }
    if (o.plaintext > 0) {
      more_input_ = full || peer_closed_;
      bytes = {reinterpret_cast<char*>(buffer), o.plaintext};
      return {io::IoStatus::done, o.plaintext, 0};
    }
    if (!r.done()) return r;  // again (drained), closed or failed
    // Read on until the socket says it is empty: a short read that brought
    // only part of a record (or only a KeyUpdate) is not proof of that. The
    // peer's FIN may have come with those bytes in one edge, and
    // edge-triggered readiness would not report it again.
  }
}

// Seals what the caller offers; ciphertext the socket does not take is
// kept and its plaintext reported only once it is out, so the caller
// retries with the same bytes (the first output_plain of them are skipped).
io::IoResult ServerTlsLayer::records_send(io::Stream& below, const iovec* iov, int count) {
  if (kernel_tx_) {
    if (records_->key_update_owed()) return {io::IoStatus::failed, 0, EPROTO};  // see ktls.hpp
    return below.send(iov, count);
  }
  IovCursor cursor{iov, count};
  std::size_t reported = 0;
  if (held_ && !held_->output.empty()) {
    const io::IoResult r = below.send(held_->output);
    if (r.status == io::IoStatus::failed || r.status == io::IoStatus::closed)
      return {io::IoStatus::failed, 0, r.error ? r.error : EPIPE};
    if (r.done()) held_->output.erase(0, r.bytes);
    if (!held_->output.empty()) return {io::IoStatus::again, 0, 0};
    reported = held_->output_plain;
    held_->output_plain = 0;
    release_if_empty();
    if (cursor.total() < reported) return {io::IoStatus::failed, 0, EINVAL};  // not a retry
    cursor.advance(reported);
  }
  uint8_t* out = seal_buffer();
  bool first = true;
  while (cursor.count > 0 || (first && records_->key_update_owed())) {
    first = false;
    iovec window[8];
    const int k = cursor.window(window);
    std::size_t taken = 0;
    const std::size_t n = records_->seal(ciphers(), window, k, {out, kSealSize}, taken);
    if (n == 0) {
      if (k == 0) break;
      return {io::IoStatus::failed, 0, EOVERFLOW};  // the sequence ran out
    }
    const io::IoResult r = below.send(std::string_view(reinterpret_cast<char*>(out), n));
    if (r.status == io::IoStatus::failed || r.status == io::IoStatus::closed)
      return {io::IoStatus::failed, 0, r.error ? r.error : EPIPE};
    const std::size_t sent = r.done() ? r.bytes : 0;
    if (sent < n) {
      if (!held_) held_ = std::make_unique<Held>();
      held_->output.assign(reinterpret_cast<char*>(out) + sent, n - sent);
      held_->output_plain = taken;
      return reported ? io::IoResult{io::IoStatus::done, reported, 0}
                      : io::IoResult{io::IoStatus::again, 0, 0};
    }
    reported += taken;
    cursor.advance(taken);
  }
  return {io::IoStatus::done, reported, 0};
}

void ServerTlsLayer::send_alert(io::Stream& below, AlertDescription alert) {
  // Behind unsent ciphertext an alert would corrupt the stream; under kTLS
  // a non-data record needs a control message: both just close.
  if (kernel_tx_ || (held_ && !held_->output.empty())) return;
  uint8_t record[kRecordOverhead + 2];
  const std::size_t n = records_->seal_alert(ciphers(), alert, {record, sizeof record});
  if (n) below.send(std::string_view(reinterpret_cast<char*>(record), n));
}

void ServerTlsLayer::records_shutdown(io::Stream& below) {
  state_ = State::closed;
  send_alert(below, AlertDescription::close_notify);
}

}  // namespace httpkit::tls
