// The TLS 1.3 record layer after the handshake (RFC 8446 §5), on the
// traffic secrets alone: OpenSSL runs the handshake, then a connection keeps
// only keys, IVs and sequence numbers (about 200 bytes) instead of an SSL
// object (~14.7 KB idle), the way the kernel's kTLS takes over a socket.
//
// Pure: bytes in, results out. No sockets, no globals. The cipher contexts
// are the caller's (one RecordCiphers per loop thread, shared by every
// connection of the loop, as the deflate contexts are).
#pragma once

#include <openssl/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace httpkit::tls {

// The TLS 1.3 cipher suites the record layer runs.
enum class CipherSuite : uint8_t {
  aes_128_gcm_sha256,        // 0x1301
  aes_256_gcm_sha384,        // 0x1302
  chacha20_poly1305_sha256,  // 0x1303
};

// The IANA code of a TLS 1.3 suite maps to one of ours, if we run it.
bool cipher_suite_from_iana(uint16_t code, CipherSuite& suite);

// Alert descriptions (RFC 8446 §6).
enum class AlertDescription : uint8_t {
  close_notify = 0,
  unexpected_message = 10,
  bad_record_mac = 20,
  record_overflow = 22,
  handshake_failure = 40,
  illegal_parameter = 47,
  decode_error = 50,
  protocol_version = 70,
  internal_error = 80,
  user_canceled = 90,
};

inline constexpr std::size_t kMaxPlaintext = 16384;                 // 2^14
inline constexpr std::size_t kMaxCiphertext = kMaxPlaintext + 256;  // 2^14 + 256
inline constexpr std::size_t kRecordHeader = 5;
// What one sealed record adds to its plaintext: header, content type, tag.
inline constexpr std::size_t kRecordOverhead = kRecordHeader + 1 + 16;

// HKDF-Expand-Label (RFC 8446 §7.1) with the suite's hash; `out.size()` is
// the length asked for (at most the hash's size).
void hkdf_expand_label(CipherSuite suite, std::span<const uint8_t> secret, const char* label,
                       std::span<const uint8_t> context, std::span<uint8_t> out);

// One direction: the traffic secret (kept for KeyUpdate), the key and IV
// derived from it, and the record sequence number.
class TrafficKeys {
 public:
  TrafficKeys() = default;
  // Derives key and IV from `secret` ("key", "iv"); the sequence starts at
  // `sequence` (records already protected with this secret).
  TrafficKeys(CipherSuite suite, std::span<const uint8_t> secret, uint64_t sequence = 0);
  // KeyUpdate: the next secret ("traffic upd"), new key and IV, sequence 0.
  void update();
  // The per-record nonce: the IV xor the sequence number (§5.3).
  void nonce(uint8_t out[12]) const;

  CipherSuite suite() const { return suite_; }
  std::span<const uint8_t> key() const;
  std::span<const uint8_t> iv() const { return {iv_, 12}; }
  uint64_t sequence() const { return sequence_; }
  void advance() { ++sequence_; }

 private:
  friend class RecordCiphers;
  static constexpr uint8_t kNoSlot = 0xff;
  void derive_key_and_iv();

  // Ordered so that nothing pads: 104 bytes.
  uint64_t sequence_ = 0;
  uint8_t secret_[48] = {};
  uint8_t key_[32] = {};
  uint8_t iv_[12] = {};
  CipherSuite suite_ = CipherSuite::aes_128_gcm_sha256;
  uint8_t secret_size_ = 0;
  // Where RecordCiphers last keyed a context with key_: only a hint, the
  // slot's key is compared before the context is used.
  mutable uint8_t cache_slot_ = kNoSlot;
};

// A loop's AEAD contexts: a small cache of keyed contexts (1,168 B each
// for AES-GCM) for the keys in use, so that a busy connection's record
// sets only its nonce (~50 ns) instead of re-keying (~220 ns more), while
// an idle connection holds only its keys. A context is used for a record
// only if the key it was keyed with equals the record's key (compared in
// full, with the suite); the least recently used one (CLOCK) is re-keyed
// for a key it does not hold.
class RecordCiphers {
 public:
  static constexpr std::size_t kDefaultSlots = 128;  // 2 per connection
  // `slots` keyed contexts at most (1..254), made as they are first needed.
  explicit RecordCiphers(std::size_t slots = kDefaultSlots);
  ~RecordCiphers();
  RecordCiphers(const RecordCiphers&) = delete;
  RecordCiphers& operator=(const RecordCiphers&) = delete;
  // Seals `plaintext` (content + inner type, already laid out at
  // out + kRecordHeader) in place; false on a library failure.
  bool seal(const TrafficKeys& keys, const uint8_t header[kRecordHeader], uint8_t* body,
            std::size_t body_size, uint8_t tag[16]);
  // Opens `body` (ciphertext + tag) in place; false if it does not
  // authenticate.
  bool open(const TrafficKeys& keys, const uint8_t header[kRecordHeader], uint8_t* body,
            std::size_t body_size);
  // The keys are done with (a connection closed, a KeyUpdate): the context
  // keyed with them, if any, is wiped and freed for another key.
  void forget(const TrafficKeys& keys);

  // Records that found their key's context keyed, and those that re-keyed.
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  struct Slot;
  // A context keyed with `keys`, its nonce set for the record; null on a
  // library failure.
  EVP_CIPHER_CTX* keyed(const TrafficKeys& keys, int encrypt);

  Slot* slots_;
  std::size_t size_;
  std::size_t hand_ = 0;  // the CLOCK's
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

// What open() found besides application data.
enum class RecordEvent : uint8_t {
  none,          // only application data (maybe none) was read
  close_notify,  // the peer's close_notify: no more data will come
  peer_alert,    // the peer sent a fatal alert (peer_alert() says which)
  fault,         // the bytes broke the protocol: send alert_to_send(), close
};

enum class Role : uint8_t { client, server };

// One connection's protected records in both directions.
class RecordProtection {
 public:
  RecordProtection(Role role, TrafficKeys read, TrafficKeys write);
  // Wipes the secrets and keys.
  ~RecordProtection();
  RecordProtection(const RecordProtection&) = delete;
  RecordProtection& operator=(const RecordProtection&) = delete;

  struct Opened {
    std::size_t consumed = 0;   // input bytes used (whole records only)
    std::size_t plaintext = 0;  // application bytes now at the input's start
    RecordEvent event = RecordEvent::none;
  };
  // Opens the complete records at the front of `in`, in place: their
  // application data is moved to the front, in order. Stops at a partial
  // record (the caller keeps consumed..end for later), at close_notify, an
  // alert, or a fault. Handles the post-handshake messages: KeyUpdate
  // (§4.6.3; an answer is then owed, see key_update_owed()),
  // NewSessionTicket on the client side (ignored); anything else, a
  // ChangeCipherSpec, a bad tag, an oversized record or an empty inner type
  // is a fault with the right alert. Handshake messages split across
  // records are reassembled in a small buffer held only while split.
  Opened open(RecordCiphers& ciphers, std::span<uint8_t> in);

  // Seals the bytes of `iov` as application data records of at most
  // kMaxPlaintext into `out` (preceded by the KeyUpdate owed, if any), and
  // returns the bytes written to `out`; `taken` says how many plaintext
  // bytes they hold. Stops when `out` has no room for another whole record
  // (kMaxPlaintext, or what is left, + kRecordOverhead); if not even the
  // first fits, one smaller record fills `out`, so that a small buffer
  // still makes progress. The KeyUpdate owed takes kRecordOverhead + 5.
  std::size_t seal(RecordCiphers& ciphers, const iovec* iov, int count, std::span<uint8_t> out,
                   std::size_t& taken);
  // One alert record (close_notify, or the fault's alert) into `out`
  // (needs kRecordOverhead + 2 bytes); returns its size (0: no room, or the
  // write sequence is exhausted).
  std::size_t seal_alert(RecordCiphers& ciphers, AlertDescription alert, std::span<uint8_t> out);

  AlertDescription alert_to_send() const { return alert_to_send_; }
  AlertDescription peer_alert() const { return peer_alert_; }
  bool key_update_owed() const { return key_update_owed_; }
  const TrafficKeys& read_keys() const { return read_; }
  const TrafficKeys& write_keys() const { return write_; }

 private:
  TrafficKeys read_;
  TrafficKeys write_;
  Role role_;
  bool key_update_owed_ = false;
  bool failed_ = false;  // a fault was reported: open() reads no more
  AlertDescription alert_to_send_ = AlertDescription::close_notify;
  AlertDescription peer_alert_ = AlertDescription::close_notify;
  // A handshake message split across records, while it is split.
  struct SplitMessage;
  std::unique_ptr<SplitMessage> split_;

  bool fail(AlertDescription alert);
  bool read_handshake(RecordCiphers& ciphers, const uint8_t* p, std::size_t n);
  bool handle_message(RecordCiphers& ciphers, uint8_t type, const uint8_t* body, std::size_t size,
                      bool& key_changed);
  std::size_t seal_record(RecordCiphers& ciphers, uint8_t type, uint8_t* record,
                          std::size_t content_size);
};

}  // namespace httpkit::tls
