// The switch against OpenSSL itself: two SSL objects over memory BIOs run a
// handshake, then one side moves to RecordProtection and keeps talking to
// the other, still OpenSSL, through everything a TLS 1.3 peer may send.
#include "tls/handshake_secrets.hpp"

#include "openssl_pair.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace httpkit::tls {
namespace {

using namespace httpkit::tls::openssl_pair;

std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(seed + i % 61);
  return s;
}

// Everything a connection does after the switch, each way.
void converse(Link& link) {
  EXPECT_EQ(link.peer_sends("GET / HTTP/1.1\r\n\r\n"), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(link.ours_sends("HTTP/1.1 200 OK\r\n\r\n"), "HTTP/1.1 200 OK\r\n\r\n");
  for (int i = 0; i < 50; ++i) {  // many records
    const std::string text = pattern(1 + i * 7, 'a');
    EXPECT_EQ(link.peer_sends(text), text);
    EXPECT_EQ(link.ours_sends(text), text);
  }
  const std::string big = pattern(100000, '0');  // several full records each way
  EXPECT_EQ(link.peer_sends(big), big);
  EXPECT_EQ(link.ours_sends(big), big);

  // KeyUpdate from the peer, not requesting ours: only our read keys move.
  const uint64_t write_sequence = link.ours->write_keys().sequence();
  ASSERT_EQ(SSL_key_update(link.peer, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
  EXPECT_EQ(link.peer_sends("after update"), "after update");
  EXPECT_EQ(link.ours->read_keys().sequence(), 1u);
  EXPECT_FALSE(link.ours->key_update_owed());
  EXPECT_EQ(link.ours_sends("still old keys"), "still old keys");
  EXPECT_EQ(link.ours->write_keys().sequence(), write_sequence + 1);

  // Requested: our next seal answers with a KeyUpdate of ours, once.
  ASSERT_EQ(SSL_key_update(link.peer, SSL_KEY_UPDATE_REQUESTED), 1);
  EXPECT_EQ(link.peer_sends("update, please"), "update, please");
  EXPECT_TRUE(link.ours->key_update_owed());
  EXPECT_EQ(link.ours_sends("updated"), "updated");
  EXPECT_FALSE(link.ours->key_update_owed());
  EXPECT_EQ(link.ours->write_keys().sequence(), 1u);
  EXPECT_EQ(link.peer_sends("ok"), "ok");
  EXPECT_EQ(link.ours_sends(big), big);
  EXPECT_EQ(link.peer_sends(big), big);

  // close_notify each way.
  ASSERT_EQ(SSL_shutdown(link.peer), 0);
  std::string got;
  EXPECT_EQ(link.receive(drain(link.peer_out), got), RecordEvent::close_notify);
  EXPECT_TRUE(got.empty());
  Bytes alert(kRecordOverhead + 2);
  alert.resize(link.ours->seal_alert(link.ciphers, AlertDescription::close_notify, alert));
  ASSERT_EQ(alert.size(), kRecordOverhead + 2);
  feed(link.peer_in, alert);
  char buf[8];
  EXPECT_EQ(SSL_read(link.peer, buf, sizeof buf), 0);
  EXPECT_EQ(SSL_get_error(link.peer, 0), SSL_ERROR_ZERO_RETURN);
}

struct Case {
  const char* suite;
  uint16_t iana;
  Role role;
};

class Switch : public testing::TestWithParam<Case> {};

TEST_P(Switch, ConversesWithOpenSslAfterTheHandshake) {
  const Case& c = GetParam();
  Ctx server_ctx = server_context(c.suite);
  Ctx client_ctx = client_context(c.suite);
  Link link(server_ctx.get(), client_ctx.get());
  ASSERT_TRUE(link.handshake());
  EXPECT_EQ(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(link.server)), c.iana);
  ASSERT_TRUE(link.take(c.role));
  // The server wrote two NewSessionTickets under its application secret.
  if (c.role == Role::server) {
    EXPECT_EQ(link.ours->write_keys().sequence(), 2u);
    EXPECT_EQ(link.ours->read_keys().sequence(), 0u);
  } else {  // the tickets are still to be read: ours reads and ignores them
    EXPECT_EQ(link.ours->read_keys().sequence(), 0u);
    EXPECT_EQ(link.ours->write_keys().sequence(), 0u);
  }
  converse(link);
}

INSTANTIATE_TEST_SUITE_P(EachSuiteAndRole, Switch,
                         testing::Values(Case{"TLS_AES_128_GCM_SHA256", 0x1301, Role::server},
                                         Case{"TLS_AES_256_GCM_SHA384", 0x1302, Role::server},
                                         Case{"TLS_CHACHA20_POLY1305_SHA256", 0x1303, Role::server},
                                         Case{"TLS_AES_128_GCM_SHA256", 0x1301, Role::client},
                                         Case{"TLS_AES_256_GCM_SHA384", 0x1302, Role::client},
                                         Case{"TLS_CHACHA20_POLY1305_SHA256", 0x1303,
                                              Role::client}));

TEST(SwitchAfter, TheClientReadTheTicketsThroughOpenSsl) {
  Ctx server_ctx = server_context();
  Ctx client_ctx = client_context();
  Link link(server_ctx.get(), client_ctx.get());
  ASSERT_TRUE(link.handshake());
  link.client_reads_tickets();
  ASSERT_TRUE(link.take(Role::client));
  EXPECT_EQ(link.ours->read_keys().sequence(), 2u);
  converse(link);
}

TEST(SwitchAfter, DataOpenSslExchangedFirst) {
  Ctx server_ctx = server_context();
  Ctx client_ctx = client_context();
  Link link(server_ctx.get(), client_ctx.get());
  ASSERT_TRUE(link.handshake());
  link.client_reads_tickets();
  ASSERT_EQ(SSL_write(link.client, "ping", 4), 4);
  feed(link.server_in, drain(link.client_out));
  char buf[8];
  ASSERT_EQ(SSL_read(link.server, buf, sizeof buf), 4);
  ASSERT_EQ(SSL_write(link.server, "pong", 4), 4);
  ASSERT_TRUE(link.take(Role::server));
  EXPECT_EQ(link.ours->write_keys().sequence(), 3u);
  EXPECT_EQ(link.ours->read_keys().sequence(), 1u);
  ASSERT_EQ(SSL_read(link.client, buf, sizeof buf), 4);
  converse(link);
}

TEST(SwitchAfter, ResumedHandshakes) {
  Ctx server_ctx = server_context();
  Ctx client_ctx = client_context();
  SSL_SESSION* session = nullptr;
  {
    Link first(server_ctx.get(), client_ctx.get());
    ASSERT_TRUE(first.handshake());
    first.client_reads_tickets();
    session = SSL_get1_session(first.client);
    ASSERT_TRUE(session);
    ASSERT_TRUE(first.take(Role::server));
    converse(first);
  }
  for (Role role : {Role::server, Role::client}) {
    Link again(server_ctx.get(), client_ctx.get(), session);
    ASSERT_TRUE(again.handshake());
    EXPECT_EQ(SSL_session_reused(again.client), 1);
    EXPECT_EQ(SSL_session_reused(again.server), 1);
    ASSERT_TRUE(again.take(role));
    converse(again);
  }
  SSL_SESSION_free(session);
}

// Records of the peer cut at every byte: the same bytes come out.
TEST(SwitchAfter, PeerRecordsSplitAtEveryByte) {
  Ctx server_ctx = server_context();
  Ctx client_ctx = client_context();
  Link link(server_ctx.get(), client_ctx.get());
  ASSERT_TRUE(link.handshake());
  ASSERT_TRUE(link.take(Role::server));
  const TrafficKeys read = link.ours->read_keys();
  const TrafficKeys write = link.ours->write_keys();
  ASSERT_EQ(SSL_write(link.client, "hello", 5), 5);
  ASSERT_EQ(SSL_key_update(link.client, SSL_KEY_UPDATE_REQUESTED), 1);
  ASSERT_EQ(SSL_write(link.client, " world", 6), 6);
  ASSERT_EQ(SSL_write(link.client, "", 0), 0);
  const Bytes stream = drain(link.client_out);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    link.ours = std::make_unique<RecordProtection>(Role::server, read, write);
    link.inbound.clear();
    std::string got;
    ASSERT_EQ(link.receive(Bytes(stream.begin(), stream.begin() + cut), got), RecordEvent::none);
    ASSERT_EQ(link.receive(Bytes(stream.begin() + cut, stream.end()), got), RecordEvent::none);
    EXPECT_TRUE(link.inbound.empty());
    EXPECT_EQ(got, "hello world") << cut;
    EXPECT_TRUE(link.ours->key_update_owed());
  }
  EXPECT_EQ(link.ours_sends("answered"), "answered");
}

TEST(SwitchAfter, FatalAlertsEachWay) {
  Ctx server_ctx = server_context();
  Ctx client_ctx = client_context();
  {
    Link link(server_ctx.get(), client_ctx.get());
    ASSERT_TRUE(link.handshake());
    ASSERT_TRUE(link.take(Role::server));
    Bytes alert(kRecordOverhead + 2);
    alert.resize(link.ours->seal_alert(link.ciphers, AlertDescription::internal_error, alert));
    feed(link.client_in, alert);
    char buf[8];
    const int n = SSL_read(link.client, buf, sizeof buf);
    EXPECT_LE(n, 0);
    EXPECT_EQ(SSL_get_error(link.client, n), SSL_ERROR_SSL);
    EXPECT_EQ(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_TLSV1_ALERT_INTERNAL_ERROR);
    ERR_clear_error();
  }
  {  // a byte of ours flipped: OpenSSL answers bad_record_mac, which ours reports
    Link link(server_ctx.get(), client_ctx.get());
    ASSERT_TRUE(link.handshake());
    ASSERT_TRUE(link.take(Role::server));
    Bytes record = link.seal("data");
    record[7] ^= 0x80;
    feed(link.client_in, record);
    char buf[8];
    EXPECT_LE(SSL_read(link.client, buf, sizeof buf), 0);
    ERR_clear_error();
    std::string got;
    EXPECT_EQ(link.receive(drain(link.client_out), got), RecordEvent::peer_alert);
    EXPECT_EQ(link.ours->peer_alert(), AlertDescription::bad_record_mac);
  }
}

TEST(SwitchAfter, ATamperedRecordFromThePeerIsBadRecordMac) {
  Ctx server_ctx = server_context();
  Ctx client_ctx = client_context();
  Link link(server_ctx.get(), client_ctx.get());
  ASSERT_TRUE(link.handshake());
  ASSERT_TRUE(link.take(Role::server));
  ASSERT_EQ(SSL_write(link.client, "secret", 6), 6);
  Bytes record = drain(link.client_out);
  record.back() ^= 1;
  std::string got;
  EXPECT_EQ(link.receive(record, got), RecordEvent::fault);
  EXPECT_EQ(link.ours->alert_to_send(), AlertDescription::bad_record_mac);
  EXPECT_TRUE(got.empty());
}

TEST(SwitchAfter, Tls12KeepsTheSslObject) {
  Ctx server_ctx = server_context(nullptr, TLS1_2_VERSION);
  Ctx client_ctx = client_context();
  Link link(server_ctx.get(), client_ctx.get());
  ASSERT_TRUE(link.handshake());
  EXPECT_EQ(SSL_version(link.server), TLS1_2_VERSION);
  EXPECT_EQ(take_record_protection(link.server), nullptr);
  EXPECT_EQ(take_record_protection(link.client), nullptr);
  // OpenSSL carries on as before.
  ASSERT_EQ(SSL_write(link.client, "tls12", 5), 5);
  feed(link.server_in, drain(link.client_out));
  char buf[8];
  EXPECT_EQ(SSL_read(link.server, buf, sizeof buf), 5);
}

TEST(SwitchAfter, RefusedWhenNotReady) {
  Ctx server_ctx = server_context();
  Ctx client_ctx = client_context();
  {  // mid-handshake
    Link link(server_ctx.get(), client_ctx.get());
    EXPECT_EQ(SSL_do_handshake(link.client), -1);
    feed(link.server_in, drain(link.client_out));
    EXPECT_EQ(SSL_do_handshake(link.server), -1);
    EXPECT_EQ(take_record_protection(link.server), nullptr);
  }
  {  // the wrong role
    Link link(server_ctx.get(), client_ctx.get());
    ASSERT_TRUE(link.handshake());
    EXPECT_EQ(take_record_protection(link.server, Role::client), nullptr);
  }
  {  // a KeyUpdate already went through OpenSSL
    Link link(server_ctx.get(), client_ctx.get());
    ASSERT_TRUE(link.handshake());
    ASSERT_EQ(SSL_key_update(link.client, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
    ASSERT_EQ(SSL_write(link.client, "x", 1), 1);
    feed(link.server_in, drain(link.client_out));
    char buf[4];
    ASSERT_EQ(SSL_read(link.server, buf, sizeof buf), 1);
    EXPECT_EQ(take_record_protection(link.server), nullptr);
  }
}

// SNI moves the SSL to another context: OpenSSL then calls that context's
// key log callback, so it needs capturing too, or the SSL stays OpenSSL's.
TEST(SwitchAfter, ServerNameMovesTheSslToAnotherContext) {
  Ctx client_ctx = client_context();
  for (bool captured : {true, false}) {
    Ctx first = server_context();
    Ctx named(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    ASSERT_EQ(SSL_CTX_use_certificate(named.get(), identity().cert), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey(named.get(), identity().key), 1);
    if (captured) {
      ASSERT_TRUE(capture_traffic_secrets(named.get()));
    }
    SSL_CTX_set_tlsext_servername_callback(
        first.get(), +[](SSL* ssl, int*, void* arg) {
          SSL_set_SSL_CTX(ssl, static_cast<SSL_CTX*>(arg));
          return SSL_TLSEXT_ERR_OK;
        });
    SSL_CTX_set_tlsext_servername_arg(first.get(), named.get());
    Link link(first.get(), client_ctx.get());
    SSL_set_tlsext_host_name(link.client, "named.example");
    ASSERT_TRUE(link.handshake());
    EXPECT_EQ(SSL_get_SSL_CTX(link.server), named.get());
    EXPECT_EQ(link.take(Role::server), captured);
    if (captured) converse(link);
  }
}

// A HelloRetryRequest (and its ChangeCipherSpec) changes nothing.
TEST(SwitchAfter, AfterHelloRetryRequest) {
  Ctx server_ctx = server_context();
  Ctx client_ctx = client_context();
  ASSERT_EQ(SSL_CTX_set1_groups_list(server_ctx.get(), "X25519"), 1);
  ASSERT_EQ(SSL_CTX_set1_groups_list(client_ctx.get(), "P-256:X25519"), 1);
  for (Role role : {Role::server, Role::client}) {
    Link link(server_ctx.get(), client_ctx.get());
    ASSERT_TRUE(link.handshake());
    // The client's one key share was P-256: X25519 took a retry.
    EXPECT_EQ(SSL_get_negotiated_group(link.server), NID_X25519);
    ASSERT_TRUE(link.take(role));
    converse(link);
  }
}

int user_lines = 0;

TEST(CaptureTrafficSecrets, StillCallsTheApplicationsKeyLog) {
  Ctx server_ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  ASSERT_EQ(SSL_CTX_use_certificate(server_ctx.get(), identity().cert), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(server_ctx.get(), identity().key), 1);
  SSL_CTX_set_keylog_callback(server_ctx.get(), [](const SSL*, const char*) { ++user_lines; });
  ASSERT_TRUE(capture_traffic_secrets(server_ctx.get()));
  ASSERT_TRUE(capture_traffic_secrets(server_ctx.get()));  // twice is harmless
  Ctx client_ctx = client_context();
  Link link(server_ctx.get(), client_ctx.get());
  ASSERT_TRUE(link.handshake());
  EXPECT_EQ(user_lines, 5);  // handshake, application and exporter secrets
  ASSERT_TRUE(link.take(Role::server));
  converse(link);
}

}  // namespace
}  // namespace httpkit::tls
