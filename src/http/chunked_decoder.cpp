#include "http/chunked_decoder.hpp"

#include <algorithm>
#include <cstring>

#include "http/text.hpp"

namespace httpkit::http {
namespace {

using text::is_ows;
using text::is_token_char;

// qdtext and the second byte of a quoted-pair (RFC 9110 §5.6.4).
bool is_qdtext(char c) {
  return text::is_value_char(c) && c != '"' && c != '\\';
}
bool is_quotable(char c) {
  return text::is_value_char(c);
}

}  // namespace

ChunkedDecoder::Step ChunkedDecoder::decode(char* data, std::size_t len,
                                            const ChunkedLimits& limits) {
  std::size_t in = 0;   // next input byte
  std::size_t out = 0;  // end of the decoded bytes
  while (in < len && !is_final()) {
    switch (state_) {
      case State::data: {
        // The bulk of the body: one move per contiguous run of chunk data.
        const auto n = static_cast<std::size_t>(std::min<uint64_t>(remaining_, len - in));
        if (out != in) std::memmove(data + out, data + in, n);
        in += n;
        out += n;
        remaining_ -= n;
        total_ += n;
        if (remaining_ == 0) state_ = State::data_cr;
        continue;
      }
      case State::data_cr:
        if (len - in >= 2 && data[in] == '\r' && data[in + 1] == '\n') {
          in += 2;
          state_ = State::size_first;
          continue;
        }
        break;
      case State::size_first:
        if (const std::size_t n = take_plain_size_line(data + in, len - in, limits)) {
          in += n;
          continue;
        }
        break;
      default:
        break;
    }
    step(data[in], limits);
    // On a fault `in` stays at the byte at fault.
    if (state_ == State::bad || state_ == State::too_large) break;
    ++in;
  }
  switch (state_) {
    case State::done:
      return {ChunkedStatus::done, in, out};
    case State::bad:
      return {ChunkedStatus::bad, in, out};
    case State::too_large:
      return {ChunkedStatus::too_large, in, out};
    default:
      return {ChunkedStatus::more, in, out};
  }
}

bool ChunkedDecoder::fits_body(uint64_t chunk_size, const ChunkedLimits& limits) const {
  return chunk_size <= limits.max_body - std::min(total_, limits.max_body);
}

std::size_t ChunkedDecoder::take_plain_size_line(const char* p, std::size_t n,
                                                 const ChunkedLimits& limits) {
  // "1a0\r\n": hex digits straight to CRLF, as nearly every client writes
  // it. Anything else, or anything near a limit, goes byte by byte so that a
  // fault is reported at its byte.
  uint64_t size = 0;
  std::size_t digits = 0;
  for (; digits < n && digits < 16; ++digits) {
    const int value = text::hex_value(p[digits]);
    if (value < 0) break;
    size = (size << 4) | static_cast<uint64_t>(value);
  }
  const std::size_t line = digits + 2;
  if (digits == 0 || line > n || p[digits] != '\r' || p[digits + 1] != '\n') return 0;
  if (line > limits.max_line || !fits_body(size, limits)) return 0;
  chunk_size_ = size;
  remaining_ = size;
  state_ = size == 0 ? State::trailer_start : State::data;
  return line;
}

void ChunkedDecoder::end_chunk_size(const ChunkedLimits& limits) {
  if (!fits_body(chunk_size_, limits)) state_ = State::too_large;
}

void ChunkedDecoder::step(char c, const ChunkedLimits& limits) {
  const bool in_size_line = state_ <= State::size_lf;
  if (in_size_line && ++line_bytes_ > limits.max_line) {
    state_ = State::bad;
    return;
  }
  const bool in_trailers = state_ >= State::trailer_start && state_ <= State::final_lf;
  if (in_trailers && ++trailer_bytes_ > limits.max_trailers) {
    state_ = State::too_large;
    return;
  }

  State next = State::bad;
  switch (state_) {
    case State::size_first:
      if (text::hex_value(c) >= 0) {
        chunk_size_ = static_cast<uint64_t>(text::hex_value(c));
        next = State::size;
      }
      break;
    case State::size:
      if (const int digit = text::hex_value(c); digit >= 0) {
        if ((chunk_size_ >> 60) != 0) break;  // one more digit would overflow
        chunk_size_ = (chunk_size_ << 4) | static_cast<uint64_t>(digit);
        next = State::size;
        break;
      }
      end_chunk_size(limits);
      if (state_ == State::too_large) return;
      if (c == '\r') next = State::size_lf;
      if (c == ';') next = State::ext_name_start;
      if (is_ows(c)) next = State::size_ws;
      break;
    case State::size_ws:
      if (is_ows(c)) next = State::size_ws;
      if (c == ';') next = State::ext_name_start;
      break;
    case State::ext_name_start:
      if (is_ows(c)) next = State::ext_name_start;
      if (is_token_char(c)) next = State::ext_name;
      break;
    case State::ext_name:
      if (is_token_char(c)) next = State::ext_name;
      if (is_ows(c)) next = State::ext_name_ws;
      if (c == '=') next = State::ext_value_start;
      if (c == ';') next = State::ext_name_start;
      if (c == '\r') next = State::size_lf;
      break;
    case State::ext_name_ws:
      if (is_ows(c)) next = State::ext_name_ws;
      if (c == '=') next = State::ext_value_start;
      if (c == ';') next = State::ext_name_start;
      break;
    case State::ext_value_start:
      if (is_ows(c)) next = State::ext_value_start;
      if (is_token_char(c)) next = State::ext_token;
      if (c == '"') next = State::ext_quoted;
      break;
    case State::ext_token:
      if (is_token_char(c)) next = State::ext_token;
      if (is_ows(c)) next = State::ext_value_ws;
      if (c == ';') next = State::ext_name_start;
      if (c == '\r') next = State::size_lf;
      break;
    case State::ext_quoted:
      if (is_qdtext(c)) next = State::ext_quoted;
      if (c == '\\') next = State::ext_quoted_pair;
      if (c == '"') next = State::ext_value_end;
      break;
    case State::ext_quoted_pair:
      if (is_quotable(c)) next = State::ext_quoted;
      break;
    case State::ext_value_end:
      if (is_ows(c)) next = State::ext_value_ws;
      if (c == ';') next = State::ext_name_start;
      if (c == '\r') next = State::size_lf;
      break;
    case State::ext_value_ws:
      if (is_ows(c)) next = State::ext_value_ws;
      if (c == ';') next = State::ext_name_start;
      break;
    case State::size_lf:
      if (c != '\n') break;
      line_bytes_ = 0;
      if (chunk_size_ == 0) {
        next = State::trailer_start;
      } else {
        remaining_ = chunk_size_;
        next = State::data;
      }
      break;
    case State::data_cr:
      if (c == '\r') next = State::data_lf;
      break;
    case State::data_lf:
      if (c == '\n') next = State::size_first;
      break;
    case State::trailer_start:
      // Whitespace here would be obs-fold, an empty name a stray colon.
      if (c == '\r') next = State::final_lf;
      if (is_token_char(c)) next = State::trailer_name;
      break;
    case State::trailer_name:
      if (is_token_char(c)) next = State::trailer_name;
      if (c == ':') next = State::trailer_value;
      break;
    case State::trailer_value:
      if (text::is_value_char(c)) next = State::trailer_value;
      if (c == '\r') next = State::trailer_lf;
      break;
    case State::trailer_lf:
      if (c == '\n') next = State::trailer_start;
      break;
    case State::final_lf:
      if (c == '\n') next = State::done;
      break;
    case State::data:
    case State::done:
    case State::bad:
    case State::too_large:
      return;  // handled by decode()
  }
  state_ = next;
}

}  // namespace httpkit::http
