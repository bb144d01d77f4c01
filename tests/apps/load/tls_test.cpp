// httpkit-load --tls: the options, and the handshake's two failures, each
// its own error kind (tls_failed, tls_timeout), against a loopback peer
// that the test plays (worker_probe.hpp). The whole exchange over TLS runs
// against httpkit-server in bench/ and the experiment (./run.sh --tls).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "options.hpp"
#include "worker_probe.hpp"

namespace httpkit::load {
namespace {

using test::WorkerUnderTest;

std::optional<LoadOptions> parse(std::vector<std::string> words, int& code) {
  words.insert(words.begin(), "httpkit-load");
  std::vector<char*> argv;
  for (std::string& w : words)
    argv.push_back(w.data());
  return parse_options(int(argv.size()), argv.data(), code);
}

TEST(TlsOptions, OffByDefault) {
  int code = 0;
  auto o = parse({}, code);
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->tls);
  EXPECT_FALSE(o->tls_insecure);
  EXPECT_FALSE(o->tls12);
  EXPECT_TRUE(o->tls_ca.empty());
}

TEST(TlsOptions, ParsesEveryFlag) {
  int code = 0;
  auto o = parse({"--tls", "--tls-ca", "ca.pem", "--tls-server-name", "localhost", "--tls12"},
                 code);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->tls);
  EXPECT_EQ(o->tls_ca, "ca.pem");
  EXPECT_EQ(o->tls_server_name, "localhost");
  EXPECT_TRUE(o->tls12);
  o = parse({"--tls", "--tls-insecure"}, code);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->tls_insecure);
}

TEST(TlsOptions, RefusesTlsSettingsWithoutTlsAndContradictions) {
  int code = 0;
  EXPECT_FALSE(parse({"--tls-insecure"}, code));
  EXPECT_EQ(code, 2);
  EXPECT_FALSE(parse({"--tls-ca", "ca.pem"}, code));
  EXPECT_FALSE(parse({"--tls12"}, code));
  EXPECT_FALSE(parse({"--tls", "--tls-insecure", "--tls-ca", "ca.pem"}, code));
}

LoadOptions tls_options() {
  LoadOptions o;
  o.tls = true;
  o.tls_insecure = true;
  o.length = {100, 100};
  o.idle_ms = {60000, 60000};
  o.connect_timeout_ms = 60000;
  o.response_timeout_ms = 60000;
  return o;
}

// The ClientHello goes out at once; a peer that never answers it is a TLS
// timeout when the connect deadline comes again, not a connect timeout.
TEST(TlsHandshake, APeerThatNeverAnswersIsATlsTimeout) {
  WorkerUnderTest w(tls_options());
  ASSERT_TRUE(w.connect());
  EXPECT_EQ(w.connection().state, LoadState::handshaking);
  EXPECT_TRUE(w.peer_receive_until([](std::string_view got) {
    return got.size() >= 6 && got[0] == 0x16 && got[5] == 0x01;  // handshake record: ClientHello
  }));
  w.expire_timers();
  EXPECT_EQ(w.errors(LoadFailure::tls_timeout), 1u);
  EXPECT_EQ(w.errors(LoadFailure::connect_timeout), 0u);
  EXPECT_EQ(w.slot().requests_sent.get(), 0u);
  EXPECT_EQ(w.connection().state, LoadState::unused);
}

// Plain HTTP (or any garbage) in answer to the ClientHello is a TLS failure.
TEST(TlsHandshake, GarbageInsteadOfAServerHelloIsATlsFailure) {
  WorkerUnderTest w(tls_options());
  ASSERT_TRUE(w.connect());
  ASSERT_TRUE(w.peer_send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_TRUE(w.turn_until([&] { return w.connection().state == LoadState::unused; }));
  EXPECT_EQ(w.errors(LoadFailure::tls_failed), 1u);
  EXPECT_EQ(w.slot().requests_sent.get(), 0u);
  EXPECT_EQ(w.slot().closed.get(), 1u);
}

TEST(TlsHandshake, APlainRunKeepsTheConnectionSmall) {
  EXPECT_LE(sizeof(LoadConnection), 64u);
}

}  // namespace
}  // namespace httpkit::load
