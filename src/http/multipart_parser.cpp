#include "http/multipart_parser.hpp"

#include <array>

#include "http/field_scanner.hpp"
#include "http/text.hpp"
#include "httpkit/header_view.hpp"

namespace httpkit::http {
namespace {

// bchars (RFC 2046 §5.1.1).
bool is_bchar(char c) {
  return text::is_alnum(c) || std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

// Reads `name=value` parameters after the first ';' of a field value,
// calling on_param(name, value) with quoted-strings unescaped into `scratch`.
template <class OnParam>
bool read_parameters(std::string_view rest, OnParam&& on_param) {
  while (!rest.empty()) {
    rest = text::trim_ows(rest);
    if (rest.empty()) break;
    if (rest.front() == ';') {
      rest.remove_prefix(1);
      continue;
    }
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view name = text::trim_ows(rest.substr(0, eq));
    rest = text::trim_ows(rest.substr(eq + 1));
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      std::size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i]);
      }
      if (i == rest.size()) return false;  // unterminated quoted-string
      rest.remove_prefix(i + 1);
    } else {
      const std::size_t end = rest.find(';');
      value = text::trim_ows(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    }
    on_param(name, std::move(value));
  }
  return true;
}

// Content-Disposition: form-data; name="..."; filename="..."
bool read_disposition(std::string_view value, MultipartPartHead& head) {
  const std::size_t semi = value.find(';');
  if (!iequals(text::trim_ows(value.substr(0, semi)), "form-data")) return false;
  bool named = false;
  const bool ok = semi != std::string_view::npos &&
                  read_parameters(value.substr(semi), [&](std::string_view n, std::string v) {
                    if (iequals(n, "name")) {
                      head.name = std::move(v);
                      named = true;
                    } else if (iequals(n, "filename")) {
                      head.filename = std::move(v);
                      head.has_filename = true;
                    }
                  });
  return ok && named;
}

}  // namespace

std::optional<std::string_view> multipart_boundary(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  const std::string_view media = text::trim_ows(content_type.substr(0, semi));
  if (media.size() < 10 || !iequals(media.substr(0, 10), "multipart/")) return std::nullopt;
  std::string_view rest = semi == std::string_view::npos ? "" : content_type.substr(semi + 1);
  // Parameters are views here (a boundary never needs unescaping).
  while (!rest.empty()) {
    const std::size_t next = rest.find(';');
    const std::string_view param = text::trim_ows(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos || !iequals(text::trim_ows(param.substr(0, eq)), "boundary"))
      continue;
    std::string_view b = text::trim_ows(param.substr(eq + 1));
    if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
    if (b.empty() || b.size() > 70 || b.back() == ' ') return std::nullopt;
    for (char c : b)
      if (!is_bchar(c)) return std::nullopt;
    return b;
  }
  return std::nullopt;
}

std::string_view to_string(MultipartError e) {
  switch (e) {
    case MultipartError::none:
      return "no error";
    case MultipartError::malformed:
      return "malformed multipart body";
    case MultipartError::head_too_long:
      return "multipart part head too long";
    case MultipartError::too_many_parts:
      return "too many multipart parts";
    case MultipartError::no_disposition:
      return "multipart part without Content-Disposition: form-data; name";
    case MultipartError::unterminated:
      return "multipart body ended before its closing boundary";
    case MultipartError::refused:
      return "multipart part refused";
  }
  return "multipart error";
}

MultipartParser::MultipartParser(std::string_view boundary, Limits limits)
    : delimiter_("\r\n--" + std::string(boundary)), limits_(limits), buffer_("\r\n") {
  // The leading CRLF lets the first delimiter, which opens the body
  // without one, match like every other.
}

bool MultipartParser::fail(MultipartError e) {
  error_ = e;
  state_ = State::failed;
  buffer_.clear();
  buffer_.shrink_to_fit();
  return false;
}

bool MultipartParser::feed(std::string_view bytes, MultipartSink& sink) {
  if (state_ == State::failed) return false;
  if (state_ == State::epilogue) return true;  // the epilogue is ignored
  buffer_.append(bytes);
  while (step(sink)) {
  }
  return state_ != State::failed;
}

bool MultipartParser::finish() {
  if (state_ == State::failed) return false;
  if (state_ != State::epilogue) return fail(MultipartError::unterminated);
  return true;
}

// One move of the state machine over buffer_; consumed bytes are erased
// as it goes, so buffer_ never holds more than a head or a delimiter's
// length beyond the last input.
bool MultipartParser::step(MultipartSink& sink) {
  const std::string_view buf = buffer_;
  const std::size_t keep = delimiter_.size() - 1;  // a delimiter may start in these
  switch (state_) {
    case State::preamble:
    case State::data: {
      const std::size_t at = buf.find(delimiter_);
      const std::size_t safe =
          at != std::string_view::npos ? at : (buf.size() > keep ? buf.size() - keep : 0);
      if (state_ == State::data && safe > 0 && !sink.on_part_data(buf.substr(0, safe)))
        return fail(MultipartError::refused);
      if (at == std::string_view::npos) {
        buffer_.erase(0, safe);
        return false;
      }
      if (state_ == State::data && !sink.on_part_end()) return fail(MultipartError::refused);
      buffer_.erase(0, at + delimiter_.size());
      state_ = State::after_delimiter;
      return true;
    }
    case State::after_delimiter: {
      if (buf.size() < 2) return false;
      if (buf.substr(0, 2) == "--") {
        state_ = State::epilogue;
        buffer_.clear();
        buffer_.shrink_to_fit();
        return false;
      }
      std::size_t i = 0;
      while (i < buf.size() && (buf[i] == ' ' || buf[i] == '\t'))
        ++i;  // transport padding
      if (i > 256) return fail(MultipartError::malformed);
      if (buf.size() < i + 2) return false;
      if (buf.substr(i, 2) != "\r\n") return fail(MultipartError::malformed);
      buffer_.erase(0, i + 2);
      state_ = State::head;
      return true;
    }
    case State::head:
      return read_head(sink);
    case State::epilogue:
    case State::failed:
      return false;
  }
  return false;
}

bool MultipartParser::read_head(MultipartSink& sink) {
  const std::string_view buf = buffer_;
  std::size_t end;  // just past the blank line
  if (buf.substr(0, 2) == "\r\n") {
    end = 2;
  } else {
    const std::size_t blank = buf.find("\r\n\r\n");
    if (blank == std::string_view::npos) {
      if (buf.size() > limits_.max_part_head) return fail(MultipartError::head_too_long);
      return false;
    }
    end = blank + 4;
  }
  if (end > limits_.max_part_head) return fail(MultipartError::head_too_long);
  if (++parts_ > limits_.max_parts) return fail(MultipartError::too_many_parts);

  std::array<HeaderField, 16> fields;
  FieldRules rules(MessageKind::response, 1);  // part fields have no request rules (Host)
  FieldScanner scanner(fields.data(), fields.size(), rules);
  const char* p = buf.data();
  if (end > 2 && scanner.scan(p, buf.data() + end) != ScanStatus::complete)
    return fail(MultipartError::malformed);
  MultipartPartHead head;
  head.content_type = "text/plain";
  bool disposition = false;
  for (std::size_t i = 0; i < scanner.count(); ++i) {
    if (iequals(fields[i].name, "content-disposition")) {
      disposition = read_disposition(fields[i].value, head);
    } else if (iequals(fields[i].name, "content-type")) {
      head.content_type = fields[i].value;
    }
  }
  if (!disposition) return fail(MultipartError::no_disposition);
  if (!sink.on_part_begin(head)) return fail(MultipartError::refused);
  buffer_.erase(0, end);
  state_ = State::data;
  return true;
}

}  // namespace httpkit::http
