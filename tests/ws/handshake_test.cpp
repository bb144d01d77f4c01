#include "ws/handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace httpkit::ws {
namespace {

using Headers = std::vector<HeaderView>;

// RFC 6455 §1.3 / §4.2.2.
constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

Headers upgrade_headers() {
  return {{"Host", "server.example.com"},   {"Upgrade", "websocket"},
          {"Connection", "Upgrade"},        {"Sec-WebSocket-Key", kRfcKey},
          {"Origin", "http://example.com"}, {"Sec-WebSocket-Version", "13"}};
}

Headers with(Headers h, HeaderView extra) {
  h.push_back(extra);
  return h;
}

Headers without(Headers h, std::string_view name) {
  std::erase_if(h, [&](const HeaderView& v) { return iequals(v.name, name); });
  return h;
}

std::string header_value(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return "<absent>";
}

// ------------------------------------------------------------ keys

TEST(Handshake, RfcAcceptKey) {
  EXPECT_EQ(compute_accept_key(kRfcKey), kRfcAccept);
}

TEST(Handshake, ClientKeyValidation) {
  EXPECT_TRUE(is_valid_client_key(kRfcKey));
  EXPECT_TRUE(is_valid_client_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_TRUE(is_valid_client_key("+/+/+/+/+/+/+/+/+/+/+w=="));
  EXPECT_FALSE(is_valid_client_key(""));
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ="));   // 23
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ"));    // unpadded
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQAA"));  // 18 bytes
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZ==="));  // 15 bytes
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ==x"));
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25j*Q=="));  // not base64
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ= ="));
}

// ------------------------------------------------------------ server

TEST(ServerHandshake, AcceptsTheRfcRequest) {
  const Headers h = upgrade_headers();
  const UpgradeResponse r = accept_upgrade("GET", 1, h, {});
  ASSERT_EQ(r.status, 101) << r.error;
  EXPECT_EQ(r.accept, kRfcAccept);
  EXPECT_TRUE(r.subprotocol.empty());
  EXPECT_FALSE(r.deflate);
  const auto headers = r.headers();
  EXPECT_EQ(header_value(headers, "Upgrade"), "websocket");
  EXPECT_EQ(header_value(headers, "Connection"), "Upgrade");
  EXPECT_EQ(header_value(headers, "Sec-WebSocket-Accept"), kRfcAccept);
  EXPECT_EQ(header_value(headers, "Sec-WebSocket-Protocol"), "<absent>");
  EXPECT_EQ(header_value(headers, "Sec-WebSocket-Extensions"), "<absent>");
}

TEST(ServerHandshake, WholeResponses) {
  std::string out;
  accept_upgrade("GET", 1, upgrade_headers(), {}).append_response(out);
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");

  out.clear();
  accept_upgrade("GET", 1, without(upgrade_headers(), "Sec-WebSocket-Version"), {})
      .append_response(out);
  EXPECT_EQ(out,
            "HTTP/1.1 426 Upgrade Required\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 57\r\n"
            "Connection: close\r\n"
            "\r\n"
            "unsupported Sec-WebSocket-Version; this server speaks 13\n");

  out.clear();
  accept_upgrade("POST", 1, upgrade_headers(), {}).append_response(out);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 400 Bad Request\r\n")) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\na WebSocket upgrade must be a GET\n")) << out;
}

TEST(ServerHandshake, TokenListsAndCase) {
  Headers h = without(without(upgrade_headers(), "Connection"), "Upgrade");
  h.push_back({"upgrade", "WebSocket"});
  h.push_back({"connection", "keep-alive"});
  h.push_back({"CONNECTION", "foo,  UPGRADE , bar"});
  EXPECT_EQ(accept_upgrade("GET", 1, h, {}).status, 101);
  // HTTP/1.2, should it ever exist, is still 1.1 or later.
  EXPECT_EQ(accept_upgrade("GET", 2, upgrade_headers(), {}).status, 101);
}

struct BadRequest {
  const char* what;
  std::string_view method;
  int minor;
  Headers headers;
  int status;
};

TEST(ServerHandshake, Rejections) {
  const Headers good = upgrade_headers();
  const BadRequest cases[] = {
      {"POST", "POST", 1, good, 400},
      {"lower-case get", "get", 1, good, 400},
      {"HTTP/1.0", "GET", 0, good, 400},
      {"no Upgrade", "GET", 1, without(good, "Upgrade"), 400},
      {"Upgrade: h2c", "GET", 1, with(without(good, "Upgrade"), {"Upgrade", "h2c"}), 400},
      {"no Connection", "GET", 1, without(good, "Connection"), 400},
      {"Connection: keep-alive", "GET", 1,
       with(without(good, "Connection"), {"Connection", "keep-alive"}), 400},
      {"Connection: upgraded", "GET", 1,
       with(without(good, "Connection"), {"Connection", "upgraded"}), 400},
      {"no key", "GET", 1, without(good, "Sec-WebSocket-Key"), 400},
      {"short key", "GET", 1,
       with(without(good, "Sec-WebSocket-Key"), {"Sec-WebSocket-Key", "c2hvcnQ="}), 400},
      {"two keys", "GET", 1, with(good, {"Sec-WebSocket-Key", kRfcKey}), 400},
      {"version 8", "GET", 1,
       with(without(good, "Sec-WebSocket-Version"), {"Sec-WebSocket-Version", "8"}), 426},
      {"no version", "GET", 1, without(good, "Sec-WebSocket-Version"), 426},
      {"version list", "GET", 1,
       with(without(good, "Sec-WebSocket-Version"), {"Sec-WebSocket-Version", "13, 8"}), 426},
      {"two versions", "GET", 1, with(good, {"Sec-WebSocket-Version", "13"}), 426},
  };
  for (const BadRequest& c : cases) {
    const UpgradeResponse r = accept_upgrade(c.method, c.minor, c.headers, {});
    EXPECT_EQ(r.status, c.status) << c.what;
    EXPECT_FALSE(r.error.empty()) << c.what;
    const auto headers = r.headers();
    if (c.status == 426) {
      ASSERT_EQ(headers.size(), 1u);
      EXPECT_EQ(header_value(headers, "Sec-WebSocket-Version"), "13");
    } else {
      EXPECT_TRUE(headers.empty()) << c.what;
    }
  }
}

TEST(ServerHandshake, SubprotocolFollowsServerPreference) {
  const std::vector<std::string> supported = {"chat.v2", "chat", "superchat"};
  EXPECT_EQ(select_subprotocol(with(upgrade_headers(), {"Sec-WebSocket-Protocol", "chat, chat.v2"}),
                               supported),
            "chat.v2");
  EXPECT_EQ(select_subprotocol(with(with(upgrade_headers(), {"Sec-WebSocket-Protocol", "x"}),
                                    {"Sec-WebSocket-Protocol", "superchat,chat"}),
                               supported),
            "chat");
  EXPECT_EQ(select_subprotocol(with(upgrade_headers(), {"Sec-WebSocket-Protocol", "CHAT, other"}),
                               supported),
            "");  // names are case-sensitive
  EXPECT_EQ(select_subprotocol(upgrade_headers(), supported), "");

  UpgradeOptions options;
  options.subprotocols = supported;
  const UpgradeResponse r = accept_upgrade(
      "GET", 1, with(upgrade_headers(), {"Sec-WebSocket-Protocol", "chat"}), options);
  ASSERT_EQ(r.status, 101);
  EXPECT_EQ(header_value(r.headers(), "Sec-WebSocket-Protocol"), "chat");
}

// ------------------------------------------------------------ extensions

TEST(Extensions, ParsesListsParamsAndQuotedValues) {
  std::vector<Extension> ext;
  ASSERT_TRUE(parse_extensions(
      R"(permessage-deflate; client_max_window_bits; server_max_window_bits="10" , ,x-foo;a=b)",
      ext));
  ASSERT_EQ(ext.size(), 2u);
  EXPECT_EQ(ext[0].name, "permessage-deflate");
  ASSERT_EQ(ext[0].params.size(), 2u);
  EXPECT_EQ(ext[0].params[0].name, "client_max_window_bits");
  EXPECT_FALSE(ext[0].params[0].has_value);
  EXPECT_EQ(ext[0].params[1].name, "server_max_window_bits");
  EXPECT_EQ(ext[0].params[1].value, "10");
  EXPECT_EQ(ext[1].name, "x-foo");
  EXPECT_EQ(ext[1].params[0].value, "b");

  ext.clear();
  ASSERT_TRUE(parse_extensions(R"(e; p="\1\0")", ext));  // quoted-pairs unescape
  EXPECT_EQ(ext[0].params[0].value, "10");

  for (const char* bad : {"e;", "e; =1", "e; p=", "e; p=\"1", "e; p=\"a b\"", "e; p=\"\"", "e f",
                          ";p", "e; p=1 2", "e, \"q\"", "e; p=\"\\"}) {
    std::vector<Extension> out;
    EXPECT_FALSE(parse_extensions(bad, out)) << bad;
  }
}

struct Negotiation {
  const char* offer;
  DeflatePolicy policy;
  const char* response;  // nullptr: declined
};

TEST(Extensions, DeflateNegotiation) {
  const DeflatePolicy memory;  // the default: no takeover either way
  const DeflatePolicy takeover{true, false, false, 15, 15};
  const DeflatePolicy small{true, false, false, 10, 11};
  const DeflatePolicy off{false};
  const Negotiation cases[] = {
      // The defaults ask for no context takeover both ways, offered or not.
      {"permessage-deflate", memory,
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
      {"permessage-deflate; client_max_window_bits", memory,
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
      {"permessage-deflate; client_max_window_bits", takeover, "permessage-deflate"},
      {"permessage-deflate", takeover, "permessage-deflate"},
      // What the client asks for is granted.
      {"permessage-deflate; server_no_context_takeover", takeover,
       "permessage-deflate; server_no_context_takeover"},
      {"permessage-deflate; client_no_context_takeover", takeover,
       "permessage-deflate; client_no_context_takeover"},
      {"permessage-deflate; server_max_window_bits=10", takeover,
       "permessage-deflate; server_max_window_bits=10"},
      {"permessage-deflate; server_max_window_bits=8", takeover,
       "permessage-deflate; server_max_window_bits=8"},
      {"permessage-deflate; server_max_window_bits=\"12\"", takeover,
       "permessage-deflate; server_max_window_bits=12"},
      {"permessage-deflate; client_max_window_bits=9", takeover,
       "permessage-deflate; client_max_window_bits=9"},
      {"permessage-deflate; client_max_window_bits=15", takeover, "permessage-deflate"},
      // Our own limits: announced for our window, and for the client's
      // only when it said it understands client_max_window_bits.
      {"permessage-deflate", small, "permessage-deflate; server_max_window_bits=10"},
      {"permessage-deflate; client_max_window_bits", small,
       "permessage-deflate; server_max_window_bits=10; client_max_window_bits=11"},
      {"permessage-deflate; server_max_window_bits=12; client_max_window_bits=13", small,
       "permessage-deflate; server_max_window_bits=10; client_max_window_bits=11"},
      {"permessage-deflate; server_max_window_bits=9; client_max_window_bits=8", small,
       "permessage-deflate; server_max_window_bits=9; client_max_window_bits=8"},
      // Bad offers are skipped for the next one.
      {"permessage-deflate; foo, permessage-deflate; client_no_context_takeover", takeover,
       "permessage-deflate; client_no_context_takeover"},
      {"permessage-deflate; server_max_window_bits=16, permessage-deflate", takeover,
       "permessage-deflate"},
      {"permessage-deflate; server_max_window_bits=7", takeover, nullptr},
      {"permessage-deflate; server_max_window_bits=010", takeover, nullptr},
      {"permessage-deflate; server_max_window_bits", takeover, nullptr},
      {"permessage-deflate; client_max_window_bits=0", takeover, nullptr},
      {"permessage-deflate; client_max_window_bits=abc", takeover, nullptr},
      {"permessage-deflate; server_no_context_takeover=1", takeover, nullptr},
      {"permessage-deflate; client_no_context_takeover; client_no_context_takeover", takeover,
       nullptr},
      {"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", takeover,
       nullptr},
      {"permessage-deflate; client_max_window_bits; client_max_window_bits=10", takeover, nullptr},
      // Other extensions are declined; a malformed header declines all.
      {"x-webkit-deflate-frame, permessage-deflate", takeover, "permessage-deflate"},
      {"x-webkit-deflate-frame", takeover, nullptr},
      {"permessage-deflate; p=\"unterminated", takeover, nullptr},
      {"permessage-deflate", off, nullptr},
  };
  for (const Negotiation& c : cases) {
    const Headers h = with(upgrade_headers(), {"Sec-WebSocket-Extensions", c.offer});
    const auto agreed = negotiate_deflate(h, c.policy);
    if (c.response == nullptr) {
      EXPECT_FALSE(agreed) << c.offer << " -> " << agreed->response;
      continue;
    }
    ASSERT_TRUE(agreed) << c.offer;
    EXPECT_EQ(agreed->response, c.response) << c.offer;
  }
}

TEST(Extensions, AgreedParamsMatchTheResponse) {
  const DeflatePolicy small{true, false, true, 10, 11};
  const Headers h = with(upgrade_headers(), {"Sec-WebSocket-Extensions",
                                             "permessage-deflate; client_max_window_bits"});
  const auto agreed = negotiate_deflate(h, small);
  ASSERT_TRUE(agreed);
  EXPECT_FALSE(agreed->params.server_no_context_takeover);
  EXPECT_TRUE(agreed->params.client_no_context_takeover);
  EXPECT_EQ(agreed->params.server_max_window_bits, 10);
  EXPECT_EQ(agreed->params.client_max_window_bits, 11);
}

TEST(Extensions, OffersAcrossSeveralHeaders) {
  Headers h = with(upgrade_headers(), {"Sec-WebSocket-Extensions", "x-foo"});
  h.push_back({"sec-websocket-extensions", "permessage-deflate; client_max_window_bits"});
  UpgradeOptions options;
  const UpgradeResponse r = accept_upgrade("GET", 1, h, options);
  ASSERT_EQ(r.status, 101);
  ASSERT_TRUE(r.deflate);
  EXPECT_EQ(header_value(r.headers(), "Sec-WebSocket-Extensions"),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

// ------------------------------------------------------------ client

std::vector<HeaderView> views(const std::vector<Header>& headers) {
  std::vector<HeaderView> v;
  for (const Header& h : headers)
    v.push_back({h.name, h.value});
  return v;
}

TEST(ClientHandshake, RfcNonceGivesTheRfcKey) {
  const std::string nonce = "the sample nonce";
  std::array<uint8_t, 16> bytes;
  std::copy(nonce.begin(), nonce.end(), bytes.begin());
  const ClientHandshake h = make_client_handshake(std::span<const uint8_t, 16>(bytes));
  EXPECT_EQ(h.key, kRfcKey);
  EXPECT_EQ(h.expected_accept, kRfcAccept);
}

TEST(ClientHandshake, RandomKeysAreValidAndDiffer) {
  const ClientHandshake a = make_client_handshake();
  const ClientHandshake b = make_client_handshake();
  EXPECT_TRUE(is_valid_client_key(a.key));
  EXPECT_NE(a.key, b.key);
}

TEST(ClientHandshake, DeflateOffer) {
  EXPECT_EQ(deflate_offer({true, false, false, 15, 15}),
            "permessage-deflate; client_max_window_bits");
  EXPECT_EQ(deflate_offer({true, true, true, 10, 12}),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=12");
}

// A client and a server of ours agree, each way the policies combine.
TEST(ClientHandshake, RoundTripWithOurServer) {
  const DeflatePolicy policies[] = {{true, true, true, 15, 15},
                                    {true, false, false, 15, 15},
                                    {true, false, false, 9, 10},
                                    {true, true, false, 12, 8},
                                    {false}};
  for (const DeflatePolicy& client_policy : policies) {
    for (const DeflatePolicy& server_policy : policies) {
      const ClientHandshake client = make_client_handshake({"chat", "echo"}, client_policy);
      std::vector<Header> request = client.headers();
      request.push_back({"Host", "localhost"});
      const auto request_views = views(request);
      UpgradeOptions options;
      options.subprotocols = {"echo"};
      options.deflate = server_policy;
      const UpgradeResponse response = accept_upgrade("GET", 1, request_views, options);
      ASSERT_EQ(response.status, 101) << response.error;
      const std::vector<Header> response_headers = response.headers();
      const UpgradeResult result =
          check_upgrade_response(response.status, views(response_headers), client);
      ASSERT_TRUE(result.ok) << result.error << " offer "
                             << header_value(request, "Sec-WebSocket-Extensions") << " answer "
                             << response.extensions;
      EXPECT_EQ(result.subprotocol, "echo");
      ASSERT_EQ(result.deflate.has_value(), client_policy.enabled && server_policy.enabled);
      if (!result.deflate) continue;
      const DeflateParams& s = *response.deflate;
      const DeflateParams& c = *result.deflate;
      // What the server will send, the client can inflate, and back.
      EXPECT_EQ(c.server_no_context_takeover, s.server_no_context_takeover);
      EXPECT_EQ(c.server_max_window_bits, s.server_max_window_bits);
      EXPECT_LE(c.client_max_window_bits, s.client_max_window_bits);
      EXPECT_TRUE(!s.client_no_context_takeover || c.client_no_context_takeover);
      // The client's own wishes hold.
      EXPECT_TRUE(!client_policy.server_no_context_takeover || s.server_no_context_takeover);
      EXPECT_LE(s.server_max_window_bits, std::max<int>(client_policy.server_max_window_bits, 8));
      EXPECT_LE(c.client_max_window_bits, std::max<int>(client_policy.client_max_window_bits, 8));
    }
  }
}

TEST(ClientHandshake, RejectsBadResponses) {
  const ClientHandshake client =
      make_client_handshake({"chat"}, DeflatePolicy{true, true, false, 10, 15});
  const std::string accept = client.expected_accept;
  auto base = [&] {
    return Headers{
        {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept}};
  };
  const std::string good_ext =
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=10";
  EXPECT_TRUE(check_upgrade_response(101, base(), client).ok);
  EXPECT_TRUE(
      check_upgrade_response(101, with(base(), {"Sec-WebSocket-Extensions", good_ext}), client).ok);

  // Header views do not own their values: keep these alive.
  const std::string deflate_twice = good_ext + ", " + good_ext;
  const std::string client_bits_without_value = good_ext + "; client_max_window_bits";
  const std::string unknown_param = good_ext + "; x=1";
  struct Case {
    const char* what;
    int status;
    Headers headers;
  };
  const Case cases[] = {
      {"200", 200, base()},
      {"no Upgrade", 101, without(base(), "Upgrade")},
      {"no Connection", 101, without(base(), "Connection")},
      {"wrong accept", 101,
       with(without(base(), "Sec-WebSocket-Accept"), {"Sec-WebSocket-Accept", kRfcAccept})},
      {"no accept", 101, without(base(), "Sec-WebSocket-Accept")},
      {"two accepts", 101, with(base(), {"Sec-WebSocket-Accept", accept})},
      {"unoffered subprotocol", 101, with(base(), {"Sec-WebSocket-Protocol", "echo"})},
      {"two subprotocols", 101, with(base(), {"Sec-WebSocket-Protocol", "chat, chat"})},
      {"unoffered extension", 101, with(base(), {"Sec-WebSocket-Extensions", "x-foo"})},
      {"deflate twice", 101, with(base(), {"Sec-WebSocket-Extensions", deflate_twice})},
      {"ignored server_no_context_takeover", 101,
       with(base(), {"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10"})},
      {"window over what was asked", 101,
       with(base(), {"Sec-WebSocket-Extensions",
                     "permessage-deflate; server_no_context_takeover; server_max_window_bits=11"})},
      {"client_max_window_bits without a value", 101,
       with(base(), {"Sec-WebSocket-Extensions", client_bits_without_value})},
      {"unknown parameter", 101, with(base(), {"Sec-WebSocket-Extensions", unknown_param})},
      {"malformed extensions", 101,
       with(base(), {"Sec-WebSocket-Extensions", "permessage-deflate;"})},
  };
  for (const Case& c : cases) {
    const UpgradeResult r = check_upgrade_response(c.status, c.headers, client);
    EXPECT_FALSE(r.ok) << c.what;
    EXPECT_FALSE(r.error.empty()) << c.what;
  }

  // Deflate in the answer to a client that did not offer it.
  const ClientHandshake plain = make_client_handshake({}, DeflatePolicy{false});
  const Headers answer{{"Upgrade", "websocket"},
                       {"Connection", "Upgrade"},
                       {"Sec-WebSocket-Accept", plain.expected_accept},
                       {"Sec-WebSocket-Extensions", "permessage-deflate"}};
  EXPECT_FALSE(check_upgrade_response(101, answer, plain).ok);
}

}  // namespace
}  // namespace httpkit::ws
