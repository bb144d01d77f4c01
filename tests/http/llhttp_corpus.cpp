#include "llhttp_corpus.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s <regex>
// when built with -fsanitize=address (the ASan build; GCC PR 105616).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#else
#include <regex>
#endif
#include <sstream>
#include <string_view>
#include <utility>

namespace httpkit::test {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string trim_trailing_whitespace(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

// `\r \n \t \f \xNN`; any other backslash is a literal byte. llhttp's runner
// turns `\xNN` into the character U+00NN of a JavaScript string and sends
// it UTF-8 encoded, so `\xff` is two bytes on its wire (its logged offsets
// show it); we send what it sent.
std::string unescape(std::string_view text) {
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      const char e = text[i + 1];
      const char* simple = e == 'r'   ? "\r"
                           : e == 'n' ? "\n"
                           : e == 't' ? "\t"
                           : e == 'f' ? "\f"
                                      : nullptr;
      if (simple != nullptr) {
        bytes += simple;
        ++i;
        continue;
      }
      if (e == 'x' && i + 3 < text.size()) {
        const auto code = static_cast<unsigned>(
            std::strtoul(std::string(text.substr(i + 2, 2)).c_str(), nullptr, 16));
        if (code < 0x80) {
          bytes.push_back(static_cast<char>(code));
        } else {
          bytes.push_back(static_cast<char>(0xc0 | (code >> 6)));
          bytes.push_back(static_cast<char>(0x80 | (code & 0x3f)));
        }
        i += 3;
        continue;
      }
    }
    bytes.push_back(text[i]);
  }
  return bytes;
}

// The log lines that build messages: spans (by offset into the input) and
// the events around them.
void interpret_log(LlhttpCase& c) {
  static const std::regex kSpan(R"(^off=(\d+) len=(\d+) span\[(\w+)\]=)");
  static const std::regex kHeadersComplete(
      R"(headers complete method=\d+ v=(\d+)/(\d+) flags=([0-9a-f]+))");
  static const std::regex kError(R"(error code=(\d+) reason=\"(.*)\")");
  constexpr unsigned kFlagChunked = 1 << 3;

  std::string pending_field;
  bool after_headers_complete = false;  // the previous line was "headers complete"
  for (const std::string& line : c.log) {
    std::smatch m;
    const bool follows_headers_complete = std::exchange(after_headers_complete, false);
    if (line.find(" message begin") != std::string::npos) {
      c.messages.emplace_back();
      continue;
    }
    if (std::regex_search(line, m, kError)) {
      c.error_code = std::stoi(m[1]);
      c.error_reason = m[2];
      c.error_after_headers_complete = follows_headers_complete;
      continue;
    }
    if (c.messages.empty()) continue;
    LlhttpMessage& msg = c.messages.back();
    if (std::regex_search(line, m, kSpan)) {
      const std::string bytes = c.input.substr(std::stoul(m[1]), std::stoul(m[2]));
      const std::string kind = m[3];
      // Cross-check the offsets against the logged text, where that text has
      // no escapes (the log writes control bytes as \t, \f, ...). A span of
      // one CR or LF is logged unquoted, as `cr` or `lf`.
      const std::string logged = line.substr(m.length(0));
      const std::string text = logged == "cr"   ? "\r"
                               : logged == "lf" ? "\n"
                                                : logged.substr(1, logged.size() - 2);
      if (text.find('\\') == std::string::npos && text != bytes) ++c.span_mismatches;
      if (kind == "method") msg.method += bytes;
      if (kind == "url") msg.url += bytes;
      FieldList& fields = msg.headers_complete ? msg.trailers : msg.headers;
      if (kind == "header_field") pending_field += bytes;
      if (kind == "header_value" && !fields.empty()) fields.back().second += bytes;
      if (kind == "body") msg.body += bytes;
    } else if (line.find(" header_field complete") != std::string::npos) {
      (msg.headers_complete ? msg.trailers : msg.headers).emplace_back(pending_field, "");
      pending_field.clear();
    } else if (line.find(" header_value complete") != std::string::npos) {
      FieldList& fields = msg.headers_complete ? msg.trailers : msg.headers;
      if (!fields.empty()) fields.back().second = trim_trailing_whitespace(fields.back().second);
    } else if (std::regex_search(line, m, kHeadersComplete)) {
      after_headers_complete = true;
      msg.headers_complete = true;
      msg.version_major = std::stoi(m[1]);
      msg.version_minor = std::stoi(m[2]);
      msg.chunked = (std::stoul(m[3], nullptr, 16) & kFlagChunked) != 0;
    } else if (line.find(" message complete") != std::string::npos) {
      msg.message_complete = true;
    }
  }
}

// The value of "key" in the meta comment, which is JSON-ish but small.
std::string meta_string(std::string_view meta, std::string_view key) {
  const std::size_t at = meta.find("\"" + std::string(key) + "\"");
  if (at == std::string_view::npos) return {};
  const std::size_t open = meta.find('"', meta.find(':', at) + 1);
  const std::size_t close = meta.find('"', open + 1);
  return std::string(meta.substr(open + 1, close - open - 1));
}

}  // namespace

std::string decode_http_block(const std::vector<std::string>& lines) {
  // Each line feed stands for CRLF, a trailing backslash joins two lines, the
  // final line feed is dropped; escapes are resolved last.
  std::string text;
  for (const std::string& line : lines) {
    if (!line.empty() && line.back() == '\\') {
      text += line.substr(0, line.size() - 1);
    } else {
      text += line + "\n";
    }
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::string crlf;
  for (char ch : text) {
    if (ch == '\n') crlf += '\r';
    crlf += ch;
  }
  return unescape(crlf);
}

std::vector<LlhttpCase> read_llhttp_cases(const std::string& path, const std::string& name) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) {
    lines.push_back(line);
  }

  std::vector<LlhttpCase> cases;
  std::string title;
  std::string meta;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (starts_with(line, "#")) {
      title = line.substr(line.find_first_not_of("# "));
    } else if (starts_with(line, "<!-- meta=")) {
      meta = line;
    } else if (starts_with(line, "```http")) {
      LlhttpCase c;
      c.file = name;
      c.title = title;
      c.type = meta_string(meta, "type");
      c.pause = meta.find("\"pause\"") != std::string::npos;
      c.skip_body = meta.find("\"skipBody\"") != std::string::npos;
      std::vector<std::string> block;
      for (++i; i < lines.size() && lines[i] != "```"; ++i) {
        block.push_back(lines[i]);
      }
      c.input = decode_http_block(block);
      while (i < lines.size() && !starts_with(lines[i], "```log")) {
        ++i;
      }
      for (++i; i < lines.size() && lines[i] != "```"; ++i) {
        c.log.push_back(lines[i]);
      }
      interpret_log(c);
      cases.push_back(std::move(c));
      meta.clear();
    }
  }
  return cases;
}

}  // namespace httpkit::test
