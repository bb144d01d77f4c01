// The server's side of the WebSocket workload, as httpkit's server plays
// it, for the load client's tests: its answer to an upgrade and its frames.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/request_parser.hpp"
#include "ws/frame.hpp"
#include "ws/handshake.hpp"

namespace httpkit::load::test {

struct ParsedRequest {
  std::string bytes;  // the fields point into it
  http::HeaderField fields[32];
  http::RequestHead head;
  http::ParseResult result;
};

inline void parse_request(ParsedRequest& r) {
  r.result = http::parse_request_head(r.bytes, {}, r.fields, 32, r.head);
}

// What httpkit's server answers to `request`, deflate as it is configured.
inline std::string server_answer(const std::string& request, bool server_deflate) {
  ParsedRequest r;
  r.bytes = request;
  parse_request(r);
  EXPECT_EQ(r.result.status, http::ParseStatus::complete);
  ws::UpgradeOptions options;
  options.deflate.enabled = server_deflate;
  const ws::UpgradeResponse response =
      ws::accept_upgrade(r.head.method, r.head.version_minor,
                         std::span<const HeaderView>(r.fields, r.head.num_headers), options);
  EXPECT_EQ(response.status, 101) << response.error;
  std::string out;
  response.append_response(out);
  return out;
}

// A frame as httpkit's server writes it: unmasked.
inline std::string server_frame(ws::Opcode opcode, std::string_view payload, bool fin = true,
                                bool rsv1 = false) {
  std::string out;
  ws::append_frame(out, {opcode, fin, rsv1, std::nullopt}, payload);
  return out;
}

}  // namespace httpkit::load::test
