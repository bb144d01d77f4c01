// Reads llhttp's markdown test cases (../shared/corpora/llhttp, format in
// its README): the raw bytes of each case and what llhttp's callback log says
// it made of them.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace httpkit::test {

using FieldList = std::vector<std::pair<std::string, std::string>>;

// One message as llhttp reported it. Spans are taken from the input by their
// logged offset and length, so no escaping of the log text is involved.
struct LlhttpMessage {
  std::string method;
  std::string url;
  FieldList headers;   // values with trailing whitespace removed (llhttp keeps it)
  FieldList trailers;  // fields after a chunked body
  std::string body;
  bool headers_complete = false;
  bool message_complete = false;
  int version_major = 0;
  int version_minor = 0;
  bool chunked = false;  // F_CHUNKED in the logged flags
};

struct LlhttpCase {
  std::string file;        // e.g. "request/connection.md"
  std::string title;       // the nearest heading
  std::string type;        // meta "type": "request", "request-lenient-headers", ...
  bool pause = false;      // meta has "pause": tests llhttp's pause API
  bool skip_body = false;  // meta has "skipBody": a callback feature
  std::string input;       // the bytes on the wire
  std::vector<std::string> log;

  std::vector<LlhttpMessage> messages;
  std::optional<int> error_code;  // from "error code=N"
  std::string error_reason;
  // The error line directly follows "headers complete": llhttp refused the
  // head in its checks after the on_headers_complete callback.
  bool error_after_headers_complete = false;
  int span_mismatches = 0;  // logged span text that disagrees with the input at its offset
};

// Every case of one markdown file, or an empty list if it cannot be read.
std::vector<LlhttpCase> read_llhttp_cases(const std::string& path, const std::string& name);

// Turns the escaped text of an ```http block into bytes (exposed for tests).
std::string decode_http_block(const std::vector<std::string>& lines);

// llhttp's error codes that are not errors: it stops to hand the connection
// over (HPE_PAUSED_UPGRADE for Upgrade and CONNECT, HPE_PAUSED_H2_UPGRADE for PRI).
inline constexpr int kPausedUpgrade = 22;
// HPE_INVALID_TRANSFER_ENCODING: also raised after on_headers_complete, when
// the Transfer-Encoding of a request does not end in chunked.
inline constexpr int kInvalidTransferEncoding = 15;
inline constexpr int kPausedH2Upgrade = 23;

}  // namespace httpkit::test
