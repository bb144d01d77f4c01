// The TLS 1.3 record layer (RFC 8446 §5) and the post-handshake messages a
// connection still has to read once OpenSSL is gone: KeyUpdate (§4.6.3),
// NewSessionTicket on the client side, alerts (§6).
#include "tls/record_protection.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

namespace httpkit::tls {

namespace {

enum ContentType : uint8_t {
  kChangeCipherSpec = 20,
  kAlert = 21,
  kHandshake = 22,
  kApplicationData = 23,
};

enum HandshakeType : uint8_t { kNewSessionTicket = 4, kKeyUpdate = 24 };

// A post-handshake message larger than this is refused rather than
// buffered (a NewSessionTicket is a few hundred bytes, a KeyUpdate one).
constexpr std::size_t kMaxHandshakeMessage = 16384;
constexpr std::size_t kTag = 16;

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
std::size_t be24(const uint8_t* p) {
  return std::size_t{p[0]} << 16 | std::size_t{p[1]} << 8 | std::size_t{p[2]};
}

void write_header(uint8_t* h, std::size_t body_size) {
  h[0] = kApplicationData;
  h[1] = 0x03;  // legacy_record_version 0x0303
  h[2] = 0x03;
  h[3] = static_cast<uint8_t>(body_size >> 8);
  h[4] = static_cast<uint8_t>(body_size);
}

}  // namespace

// Header and body of a handshake message, kept only while it is split
// across records.
struct RecordProtection::SplitMessage {
  std::vector<uint8_t> bytes;
};

RecordProtection::RecordProtection(Role role, TrafficKeys read, TrafficKeys write)
    : read_(read), write_(write), role_(role) {}

RecordProtection::~RecordProtection() {
  OPENSSL_cleanse(&read_, sizeof read_);
  OPENSSL_cleanse(&write_, sizeof write_);
}

bool RecordProtection::fail(AlertDescription alert) {
  failed_ = true;
  alert_to_send_ = alert;
  split_.reset();
  return false;
}

RecordProtection::Opened RecordProtection::open(RecordCiphers& ciphers, std::span<uint8_t> in) {
  Opened r;
  if (failed_) {
    r.event = RecordEvent::fault;
    return r;
  }
  std::size_t pos = 0;
  auto fault = [&](AlertDescription alert) {
    fail(alert);
    r.consumed = pos;
    r.event = RecordEvent::fault;
    return r;
  };
  while (in.size() - pos >= kRecordHeader) {
    uint8_t* header = in.data() + pos;
    // After the handshake every record is protected: a plaintext alert,
    // handshake or ChangeCipherSpec is refused (§5), before it is whole.
    if (header[0] != kApplicationData) return fault(AlertDescription::unexpected_message);
    // legacy_record_version is ignored (§5.1); the AAD covers it anyway.
    const std::size_t length = be16(header + 3);
    if (length > kMaxCiphertext) return fault(AlertDescription::record_overflow);
    if (length < kTag + 1) return fault(AlertDescription::decode_error);
    if (in.size() - pos - kRecordHeader < length) break;
    if (read_.sequence() == UINT64_MAX) return fault(AlertDescription::internal_error);
    uint8_t* body = header + kRecordHeader;
    if (!ciphers.open(read_, header, body, length)) {
      return fault(AlertDescription::bad_record_mac);
    }
    read_.advance();
    // Inner plaintext: content | type | zeros (§5.4).
    std::size_t end = length - kTag;
    while (end > 0 && body[end - 1] == 0)
      --end;
    if (end == 0) return fault(AlertDescription::unexpected_message);
    const uint8_t type = body[end - 1];
    const std::size_t content = end - 1;
    if (length - kTag > kMaxPlaintext + 1) return fault(AlertDescription::record_overflow);
    pos += kRecordHeader + length;
    // Handshake messages must not be interleaved with other types (§5.1).
    if (split_ && type != kHandshake) return fault(AlertDescription::unexpected_message);
    switch (type) {
      case kApplicationData:
        std::memmove(in.data() + r.plaintext, body, content);
        r.plaintext += content;
        break;
      case kAlert:
        if (content != 2) return fault(AlertDescription::decode_error);
        r.consumed = pos;
        if (body[1] == static_cast<uint8_t>(AlertDescription::close_notify)) {
          r.event = RecordEvent::close_notify;
        } else {
          peer_alert_ = static_cast<AlertDescription>(body[1]);
          r.event = RecordEvent::peer_alert;
        }
        return r;
      case kHandshake:
        if (content == 0) return fault(AlertDescription::unexpected_message);
        if (!read_handshake(ciphers, body, content)) return fault(alert_to_send_);
        break;
      default:
        return fault(AlertDescription::unexpected_message);
    }
  }
  r.consumed = pos;
  return r;
}

// The handshake bytes of one record: whole messages are handled where they
// lie; a message cut by the record's end is copied out until it is whole.
bool RecordProtection::read_handshake(RecordCiphers& ciphers, const uint8_t* p, std::size_t n) {
  auto acceptable = [this](uint8_t type) {
    return type == kKeyUpdate || (type == kNewSessionTicket && role_ == Role::client);
  };
  while (n > 0) {
    bool key_changed = false;
    if (!split_) {
      if (!acceptable(p[0])) return fail(AlertDescription::unexpected_message);
      if (n >= 4) {
        const std::size_t size = be24(p + 1);
        if (size > kMaxHandshakeMessage) return fail(AlertDescription::illegal_parameter);
        if (n - 4 >= size) {
          if (!handle_message(ciphers, p[0], p + 4, size, key_changed)) return false;
          p += 4 + size;
          n -= 4 + size;
          // A key change must fall on a record boundary (§5.1).
          if (key_changed && n > 0) return fail(AlertDescription::unexpected_message);
          continue;
        }
      }
      split_.reset(new (std::nothrow) SplitMessage);
      if (!split_) return fail(AlertDescription::internal_error);
    }
    std::vector<uint8_t>& b = split_->bytes;
    if (b.size() < 4) {
      const std::size_t take = std::min(n, 4 - b.size());
      b.insert(b.end(), p, p + take);
      p += take;
      n -= take;
      if (b.size() < 4) return true;
      if (be24(b.data() + 1) > kMaxHandshakeMessage) {
        return fail(AlertDescription::illegal_parameter);
      }
    }
    const std::size_t whole = 4 + be24(b.data() + 1);
    const std::size_t take = std::min(n, whole - b.size());
    b.insert(b.end(), p, p + take);
    p += take;
    n -= take;
    if (b.size() < whole) return true;
    std::unique_ptr<SplitMessage> message = std::move(split_);
    if (!handle_message(ciphers, b[0], b.data() + 4, whole - 4, key_changed)) return false;
    if (key_changed && n > 0) return fail(AlertDescription::unexpected_message);
  }
  return true;
}

bool RecordProtection::handle_message(RecordCiphers& ciphers, uint8_t type, const uint8_t* body,
                                      std::size_t size, bool& key_changed) {
  if (type == kNewSessionTicket) return true;  // client only (checked); we do not resume
  if (size != 1) return fail(AlertDescription::decode_error);
  if (body[0] > 1) return fail(AlertDescription::illegal_parameter);
  // KeyUpdate: the peer's next records use the next secret; update_requested
  // owes one KeyUpdate of ours before our next application data.
  ciphers.forget(read_);
  read_.update();
  key_changed = true;
  if (body[0] == 1) key_update_owed_ = true;
  return true;
}

// Protects the content already at record + kRecordHeader: appends the inner
// type, writes the header and the tag. Returns the record's size.
std::size_t RecordProtection::seal_record(RecordCiphers& ciphers, uint8_t type, uint8_t* record,
                                          std::size_t content_size) {
  if (write_.sequence() == UINT64_MAX) return 0;  // never wrap the nonce
  uint8_t* body = record + kRecordHeader;
  body[content_size] = type;
  const std::size_t inner = content_size + 1;
  write_header(record, inner + kTag);
  if (!ciphers.seal(write_, record, body, inner, body + inner)) return 0;
  write_.advance();
  return kRecordHeader + inner + kTag;
}

std::size_t RecordProtection::seal(RecordCiphers& ciphers, const iovec* iov, int count,
                                   std::span<uint8_t> out, std::size_t& taken) {
  taken = 0;
  std::size_t written = 0;
  if (key_update_owed_) {
    if (out.size() < kRecordOverhead + 5) return 0;
    static constexpr uint8_t kAnswer[5] = {kKeyUpdate, 0, 0, 1, 0};  // update_not_requested
    std::memcpy(out.data() + kRecordHeader, kAnswer, sizeof kAnswer);
    written = seal_record(ciphers, kHandshake, out.data(), sizeof kAnswer);
    if (written == 0) return 0;
    ciphers.forget(write_);
    write_.update();
    key_update_owed_ = false;
  }
  std::size_t remaining = 0;
  for (int i = 0; i < count; ++i)
    remaining += iov[i].iov_len;
  int index = 0;
  std::size_t offset = 0;  // into iov[index]
  while (remaining > 0) {
    const std::size_t room = out.size() - written;
    std::size_t size = std::min(remaining, kMaxPlaintext);
    // Whole records only, except that a small `out` still makes progress.
    if (size + kRecordOverhead > room) {
      if (written > 0 || room <= kRecordOverhead) break;
      size = room - kRecordOverhead;
    }
    uint8_t* record = out.data() + written;
    for (std::size_t copied = 0; copied < size;) {
      const std::size_t n = std::min(size - copied, iov[index].iov_len - offset);
      if (n > 0) {  // an empty iovec may carry a null base
        std::memcpy(record + kRecordHeader + copied,
                    static_cast<const uint8_t*>(iov[index].iov_base) + offset, n);
      }
      copied += n;
      offset += n;
      if (offset == iov[index].iov_len) {
        ++index;
        offset = 0;
      }
    }
    const std::size_t sealed = seal_record(ciphers, kApplicationData, record, size);
    if (sealed == 0) break;
    written += sealed;
    taken += size;
    remaining -= size;
  }
  return written;
}

std::size_t RecordProtection::seal_alert(RecordCiphers& ciphers, AlertDescription alert,
                                         std::span<uint8_t> out) {
  if (out.size() < kRecordOverhead + 2) return 0;
  // close_notify goes as a warning, as RFC 8448 shows it; the rest fatal.
  out[kRecordHeader] = alert == AlertDescription::close_notify ? 1 : 2;
  out[kRecordHeader + 1] = static_cast<uint8_t>(alert);
  return seal_record(ciphers, kAlert, out.data(), 2);
}

}  // namespace httpkit::tls
