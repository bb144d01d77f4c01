// The WebSocket workload of httpkit-load, without sockets: the upgrade it
// sends (checked by the server's own accept_upgrade), the 101s it accepts
// and refuses, and the echo it checks byte for byte, whole, split at every
// point, fragmented, compressed, with pings in between, and wrong.
#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"
#include "options.hpp"
#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/handshake.hpp"
#include "ws_exchange.hpp"
#include "ws_server_side.hpp"

namespace httpkit::load {
namespace {

using Status = WsExchange::Result::Status;
using test::parse_request;
using test::ParsedRequest;
using test::server_answer;
using test::server_frame;

WsExchange::Settings settings(Range length, bool deflate = false) {
  WsExchange::Settings s;
  s.length = length;
  s.deflate = deflate;
  s.path = "/ws";
  s.host = "127.0.0.1:8123";
  return s;
}

// A frame the client wrote: its header, and its payload unmasked.
struct ClientFrame {
  ws::FrameHeader header;
  std::string payload;
};

ClientFrame read_client_frame(std::string_view bytes) {
  ClientFrame f;
  const ws::HeaderResult r =
      ws::parse_frame_header(bytes, {ws::Role::server, false}, f.header);  // as a server reads
  EXPECT_EQ(r.status, ws::HeaderStatus::complete) << r.reason;
  if (r.status != ws::HeaderStatus::complete) return f;
  EXPECT_EQ(bytes.size(), f.header.header_length + f.header.payload_length);
  f.payload = std::string(bytes.substr(f.header.header_length));
  ws::apply_mask(f.payload.data(), f.payload.size(), f.header.mask);
  return f;
}

std::string_view field(const ParsedRequest& r, std::string_view name) {
  for (std::size_t i = 0; i < r.head.num_headers; ++i) {
    if (iequals(r.fields[i].name, name)) return r.fields[i].value;
  }
  return {};
}

class WsExchangeTest : public ::testing::Test {
 protected:
  WsExchange::Result feed(WsExchange& exchange, LoadConnection& c, std::string_view bytes) {
    return exchange.on_bytes(c, bytes.data(), bytes.size(), reply_);
  }

  std::string upgrade_request(WsExchange& exchange, LoadConnection& c) {
    std::string request;
    exchange.start_upgrade(c, random_, request);
    return request;
  }

  // A connection past its 101, as the server would answer.
  void open(WsExchange& exchange, LoadConnection& c, bool server_deflate) {
    const std::string answer = server_answer(upgrade_request(exchange, c), server_deflate);
    ASSERT_EQ(feed(exchange, c, answer).status, Status::upgraded);
  }

  // Sends the next message; returns its payload as the server reads it.
  std::string send_message(WsExchange& exchange, LoadConnection& c) {
    std::string out;
    exchange.start_message(c, random_, out);
    const ClientFrame frame = read_client_frame(out);
    EXPECT_TRUE(frame.header.masked);
    EXPECT_TRUE(frame.header.fin);
    EXPECT_FALSE(frame.header.rsv1);
    EXPECT_EQ(frame.header.opcode, ws::Opcode::text);
    EXPECT_EQ(frame.payload, WsExchange::message_payload(c));
    return frame.payload;
  }

  // permessage-deflate as httpkit's server compresses (no context takeover).
  static std::string compress(std::string_view message) {
    ws::SharedDeflateContext zlib;
    ws::DeflateContext deflater(
        {.server_no_context_takeover = true, .client_no_context_takeover = true}, ws::Role::server,
        zlib);
    std::string out;
    EXPECT_TRUE(deflater.compress(message, out));
    return out;
  }

  Random random_{7};
  std::string reply_;
  WsExchange plain_{settings({300, 300})};
  WsExchange deflating_{settings({300, 300}, true)};
};

// ------------------------------------------------------------ the upgrade

TEST_F(WsExchangeTest, TheUpgradeRequestIsAValidRfc6455Request) {
  LoadConnection c;
  ParsedRequest r;
  r.bytes = upgrade_request(plain_, c);
  parse_request(r);
  ASSERT_EQ(r.result.status, http::ParseStatus::complete);
  EXPECT_EQ(r.head.head_length, r.bytes.size());
  EXPECT_EQ(r.bytes.rfind("GET /ws HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(field(r, "Host"), "127.0.0.1:8123");
  EXPECT_EQ(field(r, "Upgrade"), "websocket");
  EXPECT_EQ(field(r, "Connection"), "Upgrade");
  EXPECT_EQ(field(r, "Sec-WebSocket-Version"), "13");
  EXPECT_TRUE(ws::is_valid_client_key(field(r, "Sec-WebSocket-Key")));
  EXPECT_EQ(field(r, "Sec-WebSocket-Key"), plain_.handshake_of(c).key);
  EXPECT_EQ(field(r, "Sec-WebSocket-Extensions"), "");
  EXPECT_TRUE(r.head.upgrade);
  // The server's own check agrees, and offers no deflate to a client that asked none.
  const ws::UpgradeResponse response = ws::accept_upgrade(
      r.head.method, r.head.version_minor,
      std::span<const HeaderView>(r.fields, r.head.num_headers), ws::UpgradeOptions{});
  EXPECT_EQ(response.status, 101) << response.error;
  EXPECT_FALSE(response.deflate);
  EXPECT_EQ(response.accept, ws::compute_accept_key(field(r, "Sec-WebSocket-Key")));
}

TEST_F(WsExchangeTest, EachConnectionHasItsOwnKey) {
  LoadConnection a, b;
  const std::string first = upgrade_request(plain_, a);
  const std::string second = upgrade_request(plain_, b);
  EXPECT_NE(a.ws.nonce, b.ws.nonce);
  EXPECT_NE(plain_.handshake_of(a).key, plain_.handshake_of(b).key);
  EXPECT_NE(first, second);
}

TEST_F(WsExchangeTest, WithDeflateOffersNoContextTakeoverBothWays) {
  LoadConnection c;
  ParsedRequest r;
  r.bytes = upgrade_request(deflating_, c);
  parse_request(r);
  ASSERT_EQ(r.result.status, http::ParseStatus::complete);
  const std::string_view offer = field(r, "Sec-WebSocket-Extensions");
  EXPECT_EQ(offer.rfind("permessage-deflate", 0), 0u) << offer;
  EXPECT_NE(offer.find("server_no_context_takeover"), std::string_view::npos) << offer;
  EXPECT_NE(offer.find("client_no_context_takeover"), std::string_view::npos) << offer;
  const ws::UpgradeResponse response = ws::accept_upgrade(
      r.head.method, r.head.version_minor,
      std::span<const HeaderView>(r.fields, r.head.num_headers), ws::UpgradeOptions{});
  ASSERT_TRUE(response.deflate);
  EXPECT_TRUE(response.deflate->server_no_context_takeover);
}

TEST_F(WsExchangeTest, AcceptsTheServersOwn101WholeOrSplitAnywhere) {
  for (bool deflate : {false, true}) {
    WsExchange& exchange = deflate ? deflating_ : plain_;
    LoadConnection c;
    const std::string answer = server_answer(upgrade_request(exchange, c), deflate);
    for (std::size_t cut = 1; cut < answer.size(); ++cut) {
      LoadConnection fresh = c;
      ASSERT_EQ(feed(exchange, fresh, std::string_view(answer).substr(0, cut)).status, Status::more)
          << cut;
      EXPECT_NE(fresh.ws.held, nullptr);
      ASSERT_EQ(feed(exchange, fresh, std::string_view(answer).substr(cut)).status,
                Status::upgraded)
          << cut;
      EXPECT_EQ(fresh.ws.held, nullptr) << "nothing is held once the 101 is read";
      EXPECT_TRUE(fresh.ws.upgraded);
    }
    EXPECT_EQ(feed(exchange, c, answer).status, Status::upgraded);
    EXPECT_TRUE(reply_.empty());
  }
}

TEST_F(WsExchangeTest, RefusesAWrongAccept) {
  LoadConnection c;
  upgrade_request(plain_, c);
  LoadConnection other;
  upgrade_request(plain_, other);
  const std::string wrong =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
      plain_.handshake_of(other).expected_accept + "\r\n\r\n";
  const auto r = feed(plain_, c, wrong);
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_EQ(r.error, LoadFailure::wrong_response);
  WsExchange::release(c);
}

TEST_F(WsExchangeTest, RefusesAnotherStatusAndMissingTokens) {
  LoadConnection c;
  upgrade_request(plain_, c);
  const std::string accept = plain_.handshake_of(c).expected_accept;
  auto verdict = [&](const std::string& bytes) {
    LoadConnection trial = c;
    const auto r = feed(plain_, trial, bytes);
    WsExchange::release(trial);
    return r;
  };
  const std::string good =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
      accept + "\r\n\r\n";
  EXPECT_EQ(verdict(good).status, Status::upgraded);  // the control

  const auto ok200 = verdict("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(ok200.status, Status::failed);
  EXPECT_EQ(ok200.error, LoadFailure::bad_status);
  EXPECT_EQ(verdict("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").error,
            LoadFailure::bad_status);

  const auto no_upgrade = verdict(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      accept + "\r\n\r\n");
  EXPECT_EQ(no_upgrade.status, Status::failed);
  EXPECT_EQ(no_upgrade.error, LoadFailure::wrong_response);
  EXPECT_EQ(verdict("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: " +
                    accept + "\r\n\r\n")
                .status,
            Status::failed);
  EXPECT_EQ(verdict("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Accept: " +
                    accept + "\r\n\r\n")
                .status,
            Status::failed);
  EXPECT_EQ(verdict("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\n\r\n")
                .status,
            Status::failed);
  // An extension nobody offered.
  EXPECT_EQ(verdict("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                    accept + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
                .status,
            Status::failed);
  EXPECT_EQ(verdict("garbage\r\n\r\n").status, Status::failed);
}

TEST_F(WsExchangeTest, WithDeflateRequiresTheServerToAgree) {
  LoadConnection c;
  const std::string request = upgrade_request(deflating_, c);
  LoadConnection declined = c;
  const auto r = feed(deflating_, declined, server_answer(request, false));
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_EQ(r.error, LoadFailure::wrong_response);
  WsExchange::release(declined);

  // Agreed, but keeping its context, which was asked not to.
  const std::string accept = deflating_.handshake_of(c).expected_accept;
  LoadConnection takeover = c;
  EXPECT_EQ(feed(deflating_, takeover,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                     accept + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
                .status,
            Status::failed);
  WsExchange::release(takeover);

  EXPECT_EQ(feed(deflating_, c, server_answer(request, true)).status, Status::upgraded);
}

// ------------------------------------------------------------ the echo

TEST_F(WsExchangeTest, SendsAMaskedTextMessageAndAcceptsItsEcho) {
  LoadConnection c;
  open(plain_, c, false);
  const std::string payload = send_message(plain_, c);
  EXPECT_EQ(payload.size(), 300u);
  EXPECT_TRUE(c.ws.awaiting_echo);
  const auto r = feed(plain_, c, server_frame(ws::Opcode::text, payload));
  EXPECT_EQ(r.status, Status::echoed);
  EXPECT_FALSE(c.ws.awaiting_echo);
  EXPECT_EQ(c.ws.held, nullptr);
  EXPECT_TRUE(reply_.empty());
}

TEST_F(WsExchangeTest, EachMessageHasItsOwnPayloadAndMask) {
  LoadConnection c;
  open(plain_, c, false);
  std::string first_frame;
  plain_.start_message(c, random_, first_frame);
  const std::string first = read_client_frame(first_frame).payload;
  ASSERT_EQ(feed(plain_, c, server_frame(ws::Opcode::text, first)).status, Status::echoed);
  ++c.requests_done;  // as the worker counts it
  std::string second_frame;
  plain_.start_message(c, random_, second_frame);
  const ClientFrame second = read_client_frame(second_frame);
  EXPECT_NE(second.payload, first);
  EXPECT_NE(second.header.mask, read_client_frame(first_frame).header.mask);
  // The old payload is not the echo of the new message.
  LoadConnection trial = c;
  EXPECT_EQ(feed(plain_, trial, server_frame(ws::Opcode::text, first)).status, Status::failed);
  WsExchange::release(trial);
  EXPECT_EQ(feed(plain_, c, server_frame(ws::Opcode::text, second.payload)).status, Status::echoed);
}

TEST_F(WsExchangeTest, AcceptsTheEchoSplitAtEveryPoint) {
  LoadConnection c;
  open(plain_, c, false);
  const std::string frame = server_frame(ws::Opcode::text, send_message(plain_, c));
  ASSERT_EQ(frame.size(), 4u + 300u);  // a 16-bit extended length
  for (std::size_t cut = 1; cut < frame.size(); ++cut) {
    LoadConnection trial = c;
    ASSERT_EQ(feed(plain_, trial, std::string_view(frame).substr(0, cut)).status, Status::more)
        << cut;
    ASSERT_EQ(feed(plain_, trial, std::string_view(frame).substr(cut)).status, Status::echoed)
        << cut;
    EXPECT_EQ(trial.ws.held, nullptr) << cut;
  }
  // And one byte at a time.
  for (std::size_t i = 0; i + 1 < frame.size(); ++i)
    ASSERT_EQ(feed(plain_, c, std::string_view(frame).substr(i, 1)).status, Status::more) << i;
  EXPECT_EQ(feed(plain_, c, std::string_view(frame).substr(frame.size() - 1)).status,
            Status::echoed);
  EXPECT_EQ(c.ws.held, nullptr);
}

TEST_F(WsExchangeTest, LengthsAtTheFrameHeaderBoundaries) {
  for (uint32_t length : {0u, 1u, 125u, 126u, 127u, 4096u, 65535u}) {
    WsExchange exchange(settings({length, length}));
    LoadConnection c;
    open(exchange, c, false);
    std::string out;
    exchange.start_message(c, random_, out);
    const ClientFrame sent = read_client_frame(out);
    EXPECT_EQ(sent.payload.size(), length);
    EXPECT_EQ(sent.header.header_length, length < 126 ? 6 : 8) << length;
    const std::string echo = server_frame(ws::Opcode::text, sent.payload);
    EXPECT_EQ(feed(exchange, c, echo).status, Status::echoed) << length;
  }
}

TEST_F(WsExchangeTest, AcceptsAFragmentedEchoWithPingsBetween) {
  LoadConnection c;
  open(plain_, c, false);
  const std::string payload = send_message(plain_, c);
  const std::string bytes = server_frame(ws::Opcode::text, payload.substr(0, 100), false) +
                            server_frame(ws::Opcode::ping, "are you there?") +
                            server_frame(ws::Opcode::continuation, payload.substr(100, 1), false) +
                            server_frame(ws::Opcode::pong, "unasked") +
                            server_frame(ws::Opcode::continuation, "", false) +
                            server_frame(ws::Opcode::continuation, payload.substr(101), true);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    LoadConnection trial = c;
    reply_.clear();
    ASSERT_EQ(feed(plain_, trial, std::string_view(bytes).substr(0, cut)).status, Status::more)
        << cut;
    ASSERT_EQ(feed(plain_, trial, std::string_view(bytes).substr(cut)).status, Status::echoed)
        << cut;
    EXPECT_EQ(trial.ws.held, nullptr) << cut;
    // Exactly one pong, masked, with the ping's payload.
    const ClientFrame pong = read_client_frame(reply_);
    EXPECT_EQ(pong.header.opcode, ws::Opcode::pong) << cut;
    EXPECT_TRUE(pong.header.masked);
    EXPECT_EQ(pong.payload, "are you there?") << cut;
  }
}

TEST_F(WsExchangeTest, AnswersAPingWhileIdle) {
  LoadConnection c;
  open(plain_, c, false);
  EXPECT_EQ(feed(plain_, c, server_frame(ws::Opcode::ping, "")).status, Status::more);
  const ClientFrame empty = read_client_frame(reply_);
  EXPECT_EQ(empty.header.opcode, ws::Opcode::pong);
  EXPECT_EQ(empty.payload, "");
  reply_.clear();
  const std::string ping = server_frame(ws::Opcode::ping, std::string(125, 'p'));
  EXPECT_EQ(feed(plain_, c, std::string_view(ping).substr(0, 50)).status, Status::more);
  EXPECT_TRUE(reply_.empty());
  EXPECT_EQ(feed(plain_, c, std::string_view(ping).substr(50)).status, Status::more);
  EXPECT_EQ(read_client_frame(reply_).payload, std::string(125, 'p'));
  EXPECT_EQ(c.ws.held, nullptr);
}

TEST_F(WsExchangeTest, AcceptsACompressedEchoWholeSplitOrFragmented) {
  LoadConnection c;
  open(deflating_, c, true);
  const std::string payload = send_message(deflating_, c);
  const std::string compressed = compress(payload);
  ASSERT_LT(compressed.size(), payload.size());
  const std::string whole = server_frame(ws::Opcode::text, compressed, true, true);
  {
    LoadConnection trial = c;
    EXPECT_EQ(feed(deflating_, trial, whole).status, Status::echoed);
    EXPECT_EQ(trial.ws.held, nullptr);
  }
  for (std::size_t cut = 1; cut < whole.size(); ++cut) {
    LoadConnection trial = c;
    ASSERT_EQ(feed(deflating_, trial, std::string_view(whole).substr(0, cut)).status, Status::more)
        << cut;
    ASSERT_EQ(feed(deflating_, trial, std::string_view(whole).substr(cut)).status, Status::echoed)
        << cut;
    EXPECT_EQ(trial.ws.held, nullptr) << "the compressed bytes are freed after the echo";
  }
  // RSV1 on the first frame only, the compressed stream cut over three frames.
  const std::size_t third = compressed.size() / 3;
  const std::string fragmented =
      server_frame(ws::Opcode::text, compressed.substr(0, third), false, true) +
      server_frame(ws::Opcode::ping, "x") +
      server_frame(ws::Opcode::continuation, compressed.substr(third, third), false) +
      server_frame(ws::Opcode::continuation, compressed.substr(2 * third), true);
  for (std::size_t cut = 0; cut < fragmented.size(); ++cut) {
    LoadConnection trial = c;
    ASSERT_EQ(feed(deflating_, trial, std::string_view(fragmented).substr(0, cut)).status,
              Status::more)
        << cut;
    ASSERT_EQ(feed(deflating_, trial, std::string_view(fragmented).substr(cut)).status,
              Status::echoed)
        << cut;
    EXPECT_EQ(trial.ws.held, nullptr) << cut;
  }
  // An uncompressed echo is as good under deflate.
  EXPECT_EQ(feed(deflating_, c, server_frame(ws::Opcode::text, payload)).status, Status::echoed);
}

TEST_F(WsExchangeTest, RefusesAWrongCompressedEcho) {
  LoadConnection c;
  open(deflating_, c, true);
  std::string payload = send_message(deflating_, c);
  auto verdict = [&](const std::string& bytes) {
    LoadConnection trial = c;
    const auto r = feed(deflating_, trial, bytes);
    WsExchange::release(trial);
    return r.status;
  };
  std::string wrong = payload;
  wrong[150] ^= 1;
  EXPECT_EQ(verdict(server_frame(ws::Opcode::text, compress(wrong), true, true)), Status::failed);
  EXPECT_EQ(verdict(server_frame(ws::Opcode::text, compress(payload + "x"), true, true)),
            Status::failed);
  EXPECT_EQ(verdict(server_frame(ws::Opcode::text, compress(payload.substr(1)), true, true)),
            Status::failed);
  EXPECT_EQ(verdict(server_frame(ws::Opcode::text, "not deflate at all", true, true)),
            Status::failed);
  // Without deflate agreed, RSV1 is a protocol error.
  LoadConnection plain;
  open(plain_, plain, false);
  const std::string plain_payload = send_message(plain_, plain);
  EXPECT_EQ(feed(plain_, plain, server_frame(ws::Opcode::text, compress(plain_payload), true, true))
                .status,
            Status::failed);
  WsExchange::release(plain);
}

TEST_F(WsExchangeTest, RefusesAWrongByteAnywhere) {
  LoadConnection c;
  open(plain_, c, false);
  const std::string payload = send_message(plain_, c);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    std::string wrong = payload;
    wrong[i] = wrong[i] == 'A' ? 'B' : 'A';
    LoadConnection trial = c;
    const auto r = feed(plain_, trial, server_frame(ws::Opcode::text, wrong));
    ASSERT_EQ(r.status, Status::failed) << i;
    EXPECT_EQ(r.error, LoadFailure::wrong_response);
    WsExchange::release(trial);
  }
}

TEST_F(WsExchangeTest, RefusesExtraMissingAndUnaskedBytes) {
  LoadConnection c;
  open(plain_, c, false);
  const std::string payload = send_message(plain_, c);
  auto verdict = [&](const std::string& bytes) {
    LoadConnection trial = c;
    const auto r = feed(plain_, trial, bytes);
    WsExchange::release(trial);
    return r;
  };
  EXPECT_EQ(verdict(server_frame(ws::Opcode::text, payload + "x")).status, Status::failed);
  EXPECT_EQ(verdict(server_frame(ws::Opcode::text, payload) + "xx").status, Status::failed)
      << "bytes after the echo that are no frame allowed";
  EXPECT_EQ(
      verdict(server_frame(ws::Opcode::text, payload) + server_frame(ws::Opcode::text, "x")).status,
      Status::failed);
  EXPECT_EQ(verdict(server_frame(ws::Opcode::text, payload.substr(1))).status, Status::failed);
  EXPECT_EQ(verdict(server_frame(ws::Opcode::text, payload.substr(0, 299))).status, Status::failed);
  EXPECT_EQ(verdict(server_frame(ws::Opcode::binary, payload)).status, Status::failed);
  EXPECT_EQ(verdict(server_frame(ws::Opcode::continuation, payload)).status, Status::failed);
  std::string masked;
  ws::append_frame(masked, {ws::Opcode::text, true, false, ws::random_mask_key()}, payload);
  EXPECT_EQ(verdict(masked).status, Status::failed);
  const auto closed = verdict(server_frame(ws::Opcode::close, "\x03\xe9"));
  EXPECT_EQ(closed.status, Status::failed);
  EXPECT_EQ(closed.error, LoadFailure::unexpected_close);

  // One byte after the echo: half a frame header, judged when it is whole
  // (or when the server closes).
  LoadConnection trial = c;
  EXPECT_EQ(feed(plain_, trial, server_frame(ws::Opcode::text, payload) + "x").status,
            Status::echoed);
  EXPECT_EQ(plain_.error_on_close(trial), LoadFailure::short_response);
  EXPECT_EQ(feed(plain_, trial, "x").status, Status::failed);
  WsExchange::release(trial);

  // A message nobody asked for.
  LoadConnection idle;
  open(plain_, idle, false);
  EXPECT_EQ(feed(plain_, idle, server_frame(ws::Opcode::text, "hello")).status, Status::failed);
  WsExchange::release(idle);
}

TEST_F(WsExchangeTest, TellsAShortResponseFromAClose) {
  LoadConnection c;
  upgrade_request(plain_, c);
  EXPECT_EQ(plain_.error_on_close(c), LoadFailure::unexpected_close);
  const std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n";
  feed(plain_, c, answer);
  EXPECT_EQ(plain_.error_on_close(c), LoadFailure::short_response);
  WsExchange::release(c);

  LoadConnection open_one;
  open(plain_, open_one, false);
  EXPECT_EQ(plain_.error_on_close(open_one), LoadFailure::unexpected_close);
  const std::string frame = server_frame(ws::Opcode::text, send_message(plain_, open_one));
  EXPECT_EQ(plain_.error_on_close(open_one), LoadFailure::unexpected_close);
  feed(plain_, open_one, std::string_view(frame).substr(0, 1));  // half a header
  EXPECT_EQ(plain_.error_on_close(open_one), LoadFailure::short_response);
  feed(plain_, open_one, std::string_view(frame).substr(1, 10));  // into the payload
  EXPECT_EQ(plain_.error_on_close(open_one), LoadFailure::short_response);
  WsExchange::release(open_one);
}

TEST_F(WsExchangeTest, HoldsUnsentBytesInOrderUntilTaken) {
  LoadConnection c;
  open(plain_, c, false);
  EXPECT_TRUE(WsExchange::unsent(c).empty());
  WsExchange::hold_unsent(c, "abc");
  WsExchange::hold_unsent(c, "def");
  EXPECT_EQ(WsExchange::unsent(c), "abcdef");
  WsExchange::drop_unsent(c, 4);
  EXPECT_EQ(WsExchange::unsent(c), "ef");
  WsExchange::drop_unsent(c, 2);
  EXPECT_TRUE(WsExchange::unsent(c).empty());
  EXPECT_EQ(c.ws.held, nullptr);
}

TEST_F(WsExchangeTest, SaysGoodbyeWithAMasked1001) {
  std::string out;
  WsExchange::append_goodbye(out);
  const ClientFrame f = read_client_frame(out);
  EXPECT_EQ(f.header.opcode, ws::Opcode::close);
  EXPECT_TRUE(f.header.masked);
  EXPECT_EQ(f.payload, std::string("\x03\xe9", 2));
}

TEST(WsConnection, StaysSmall) {
  EXPECT_LE(sizeof(LoadConnection), 64u);
  const LoadConnection c{};
  EXPECT_EQ(c.ws.held, nullptr);
  EXPECT_EQ(int(c.ws.frame_kind), 0);
  EXPECT_FALSE(c.ws.upgraded);
}

// ------------------------------------------------------------ options

std::optional<LoadOptions> parse(std::vector<std::string> args, int& exit_code) {
  args.insert(args.begin(), "httpkit-load");
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  return parse_options(int(argv.size()), argv.data(), exit_code);
}

TEST(WsOptions, WebSocketDeflateAndPath) {
  int exit_code = 0;
  auto o =
      parse({"--websocket", "--deflate", "--ws-path", "/echo", "--length", "0-65535"}, exit_code);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->workload, Workload::websocket);
  EXPECT_TRUE(o->deflate);
  EXPECT_EQ(o->ws_path, "/echo");
  EXPECT_EQ(o->length.max, 65535u);
  o = parse({}, exit_code);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->workload, Workload::http);
  EXPECT_EQ(o->ws_path, "/ws");
  EXPECT_FALSE(parse({"--deflate"}, exit_code));
  EXPECT_EQ(exit_code, 2);
  EXPECT_FALSE(parse({"--websocket", "--length", "1-65536"}, exit_code));
  EXPECT_FALSE(parse({"--websocket", "--ws-path", "ws"}, exit_code));
}

}  // namespace
}  // namespace httpkit::load
