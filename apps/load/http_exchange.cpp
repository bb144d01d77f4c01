#include "http_exchange.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "http/response_parser.hpp"

namespace httpkit::load {
namespace {

constexpr std::string_view kBefore = "GET /?length=";
constexpr std::string_view kAfter = " HTTP/1.1\r\nHost: localhost\r\n\r\n";
constexpr std::size_t kMaxFields = 32;

}  // namespace

std::size_t HttpExchange::start(LoadConnection& c, Random& random, char* out) const {
  c.http.length_param = random.in(length_);
  c.http.request_offset = 0;
  c.http.head_done = false;
  c.http.body_left = 0;
  return request_of(c, out);
}

std::size_t HttpExchange::request_of(const LoadConnection& c, char* out) const {
  char* p = out;
  std::memcpy(p, kBefore.data(), kBefore.size());
  p += kBefore.size();
  p = std::to_chars(p, p + 10, c.http.length_param).ptr;
  std::memcpy(p, kAfter.data(), kAfter.size());
  p += kAfter.size();
  return std::size_t(p - out);
}

HttpExchange::Result HttpExchange::on_bytes(LoadConnection& c, const char* data,
                                            std::size_t size) const {
  if (!c.http.head_done) {
    std::size_t used = 0;
    Result head = on_head(c, data, size, used);
    if (head.status != Result::done) return head;
    data += used;
    size -= used;
  }
  return on_body(c, data, size);
}

// Parses the head from `data` or, when it arrived in pieces, from the
// connection's copy; `used` is how many of `data`'s bytes belong to it.
HttpExchange::Result HttpExchange::on_head(LoadConnection& c, const char* data, std::size_t size,
                                           std::size_t& used) const {
  std::string_view bytes(data, size);
  std::size_t earlier = 0;
  if (c.http.partial_head) {
    earlier = c.http.partial_len;
    const std::size_t take = std::min(size, kMaxHead - earlier);
    std::memcpy(c.http.partial_head + earlier, data, take);
    c.http.partial_len = uint16_t(earlier + take);
    bytes = {c.http.partial_head, c.http.partial_len};
  }

  http::HeaderField fields[kMaxFields];
  http::ResponseHeadView head;
  http::ResponseLimits limits;
  limits.max_head_bytes = kMaxHead;
  const auto parsed = http::parse_response_head(bytes, {}, limits, fields, kMaxFields, head);
  if (parsed.status == http::ParseStatus::error) return {Result::failed};
  if (parsed.status == http::ParseStatus::incomplete) {
    if (bytes.size() >= kMaxHead) return {Result::failed};
    if (!c.http.partial_head) {
      c.http.partial_head = static_cast<char*>(std::malloc(kMaxHead));
      if (!c.http.partial_head) return {Result::failed};
      std::memcpy(c.http.partial_head, data, size);
      c.http.partial_len = uint16_t(size);
    }
    return {Result::more};
  }

  used = head.head_length - earlier;
  release(c);
  if (head.status != 200) return {Result::failed, LoadFailure::bad_status};
  const uint32_t expected = expected_body(c.http.length_param);
  if (head.framing != http::BodyFraming::content_length || head.content_length != expected ||
      !head.keep_alive) {
    return {Result::failed};
  }
  c.http.head_done = true;
  c.http.body_left = expected;
  return {Result::done};
}

// `data` continues the body where the previous piece ended: its offset in
// the text is what came so far.
HttpExchange::Result HttpExchange::on_body(LoadConnection& c, const char* data,
                                           std::size_t size) const {
  const std::size_t piece = std::min<std::size_t>(size, c.http.body_left);
  const std::size_t offset = expected_body(c.http.length_param) - c.http.body_left;
  if (std::memcmp(data, benchmark::kText.data() + offset, piece) != 0) {
    return {Result::failed, LoadFailure::wrong_body};
  }
  if (size > piece) return {Result::failed};  // stray bytes after the body
  c.http.body_left -= uint32_t(piece);
  return {c.http.body_left == 0 ? Result::done : Result::more};
}

LoadFailure HttpExchange::error_on_close(const LoadConnection& c) const {
  const bool started = c.http.head_done || c.http.partial_head;
  return started ? LoadFailure::short_response : LoadFailure::unexpected_close;
}

void HttpExchange::release(LoadConnection& c) {
  std::free(c.http.partial_head);
  c.http.partial_head = nullptr;
  c.http.partial_len = 0;
}

}  // namespace httpkit::load
