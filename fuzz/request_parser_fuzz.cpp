// libFuzzer target for the pure request parsers: the input is everything a
// client sent on one connection. It is walked request by request — head,
// body (Content-Length or chunked), the next pipelined request — once with
// the default limits and once with tight ones, and every parse is checked
// against the invariants the server relies on (views inside the bytes, the
// same verdict for a prefix, the same body whole or split). A violated
// invariant traps. The server's own buffering of these requests is fuzzed
// by server_connection_fuzz.cpp.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/chunked_decoder.hpp"
#include "http/request_parser.hpp"
#include "httpkit/params.hpp"
#include "httpkit/server.hpp"

namespace {

using namespace httpkit::http;

// The field array the server parses into holds options.max_headers fields.
const std::size_t kFieldCapacity = httpkit::ServerOptions{}.max_headers;

struct Limits {
  ParseLimits head;
  ChunkedLimits body;
};

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool is_error_status(int status) {
  return status == 400 || status == 414 || status == 431 || status == 501 || status == 505;
}

void check_result_shape(const ParseResult& r) {
  FUZZ_CHECK((r.status == ParseStatus::error) == (r.error != ParseError::none));
  FUZZ_CHECK((r.status == ParseStatus::error) == !r.detail.empty());
  if (r.status == ParseStatus::error) FUZZ_CHECK(is_error_status(status_of(r.error)));
}

void check_complete_head(const RequestHead& head, std::string_view input,
                         const std::vector<HeaderField>& fields) {
  FUZZ_CHECK(head.head_length >= 4 && head.head_length <= input.size());
  const std::string_view bytes = input.substr(0, head.head_length);
  FUZZ_CHECK(!head.method.empty() && inside(head.method, bytes));
  FUZZ_CHECK(!head.target.empty() && inside(head.target, bytes));
  FUZZ_CHECK(inside(head.path, head.target) && inside(head.query, head.target));
  FUZZ_CHECK(head.version_minor <= 1);
  FUZZ_CHECK(head.headers == fields.data() && head.num_headers <= kFieldCapacity);
  for (std::size_t i = 0; i < head.num_headers; ++i) {
    FUZZ_CHECK(!head.headers[i].name.empty() && inside(head.headers[i].name, bytes));
    FUZZ_CHECK(inside(head.headers[i].value, bytes));
  }
  FUZZ_CHECK(head.framing == BodyFraming::content_length || head.content_length == 0);
  FUZZ_CHECK(bytes.substr(bytes.size() - 4) == "\r\n\r\n");
  FUZZ_CHECK(find_head_end(input) == head.head_length);
}

// The same answer whatever the split: a prefix is incomplete or parses alike.
void check_prefix(std::string_view input, std::size_t prefix_length, const ParseResult& whole,
                  const Limits& limits) {
  std::vector<HeaderField> fields(kFieldCapacity);
  RequestHead head;
  const ParseResult r = parse_request_head(input.substr(0, prefix_length), limits.head,
                                           fields.data(), fields.size(), head);
  check_result_shape(r);
  if (r.status == ParseStatus::incomplete) return;
  FUZZ_CHECK(r.status == whole.status && r.error == whole.error);
}

// Decodes `body` whole and in two pieces; both must agree. Returns the step
// of the whole decode; the decoded bytes are left at the start of `body`.
ChunkedDecoder::Step decode_chunked(char* body, std::size_t len, const Limits& limits) {
  std::vector<char> copy(body, body + len);

  ChunkedDecoder whole;
  const ChunkedDecoder::Step step = whole.decode(body, len, limits.body);
  FUZZ_CHECK(step.consumed <= len && step.decoded <= step.consumed);
  FUZZ_CHECK(step.status != ChunkedStatus::more || step.consumed == len);
  FUZZ_CHECK(whole.body_bytes() == step.decoded);

  ChunkedDecoder split;
  const std::size_t half = len / 2;
  const ChunkedDecoder::Step first = split.decode(copy.data(), half, limits.body);
  FUZZ_CHECK(first.consumed <= half && first.decoded <= first.consumed);
  std::size_t consumed = first.consumed;
  std::size_t decoded = first.decoded;
  ChunkedStatus status = first.status;
  if (status == ChunkedStatus::more) {
    // Move the first piece's output next to where the second one will land.
    char* second_input = copy.data() + half;
    const ChunkedDecoder::Step second = split.decode(second_input, len - half, limits.body);
    FUZZ_CHECK(second.consumed <= len - half && second.decoded <= second.consumed);
    for (std::size_t i = 0; i < second.decoded; ++i) {
      copy[decoded + i] = second_input[i];
    }
    consumed += second.consumed;
    decoded += second.decoded;
    status = second.status;
  }
  FUZZ_CHECK(status == step.status && consumed == step.consumed && decoded == step.decoded);
  for (std::size_t i = 0; i < decoded; ++i) {
    FUZZ_CHECK(copy[i] == body[i]);
  }
  return step;
}

void walk(std::vector<char> connection, const Limits& limits) {
  std::size_t pos = 0;
  while (pos < connection.size()) {
    const std::string_view input(connection.data() + pos, connection.size() - pos);
    std::vector<HeaderField> fields(kFieldCapacity);
    RequestHead head;
    const ParseResult r =
        parse_request_head(input, limits.head, fields.data(), fields.size(), head);
    check_result_shape(r);
    check_prefix(input, input.size() / 2, r, limits);
    check_prefix(input, input.size() - 1, r, limits);
    if (r.status == ParseStatus::incomplete) {
      // With a whole head in view the parser would have come to a verdict.
      FUZZ_CHECK(find_head_end(input) == 0 || find_head_end(input) > limits.head.max_head_bytes);
      return;
    }
    if (r.status == ParseStatus::error) return;
    check_complete_head(head, input, fields);
    for (const httpkit::Param& p : httpkit::Params::parse(head.query)) {
      FUZZ_CHECK(p.name.size() + p.value.size() <= head.query.size());
    }
    pos += head.head_length;

    const std::size_t available = connection.size() - pos;
    if (head.framing == BodyFraming::content_length) {
      if (head.content_length > available) return;
      pos += head.content_length;
    } else if (head.framing == BodyFraming::chunked) {
      const ChunkedDecoder::Step step = decode_chunked(connection.data() + pos, available, limits);
      if (step.status != ChunkedStatus::done) return;
      pos += step.consumed;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::vector<char> connection(data, data + size);
  walk(connection, Limits{});

  Limits tight;
  tight.head.max_request_line = 48;
  tight.head.max_head_bytes = 256;
  tight.head.max_headers = 6;
  tight.body.max_body = 512;
  tight.body.max_line = 24;
  tight.body.max_trailers = 64;
  walk(connection, tight);
  return 0;
}
