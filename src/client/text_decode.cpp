#include "client/text_decode.hpp"

#include <iconv.h>

#include <cerrno>

#include "http/text.hpp"

namespace httpkit::client {
namespace {

using http::text::iequals;
using http::text::trim_ows;

bool contains_ci(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

}  // namespace

std::string charset_of(std::string_view type) {
  std::size_t pos = 0;
  while ((pos = type.find(';', pos)) != std::string_view::npos) {
    std::string_view param = trim_ows(type.substr(pos + 1));
    std::size_t end = param.find(';');
    param = trim_ows(param.substr(0, end));
    ++pos;
    std::size_t eq = param.find('=');
    if (eq == std::string_view::npos || !iequals(trim_ows(param.substr(0, eq)), "charset"))
      continue;
    std::string_view value = trim_ows(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return {};
}

bool is_textual(std::string_view type) {
  std::string_view mime = trim_ows(type.substr(0, type.find(';')));
  if (mime.size() >= 5 && iequals(mime.substr(0, 5), "text/")) return true;
  return contains_ci(mime, "json") || contains_ci(mime, "xml") || contains_ci(mime, "javascript") ||
         iequals(mime, "application/x-www-form-urlencoded");
}

bool convert_to_utf8(std::string& body, const std::string& charset) {
  if (charset.empty() || iequals(charset, "utf-8") || iequals(charset, "utf8") ||
      iequals(charset, "us-ascii") || iequals(charset, "ascii"))
    return true;
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == iconv_t(-1)) return false;
  std::string out(body.size() * 2 + 16, '\0');
  char* in_ptr = body.data();
  std::size_t in_left = body.size();
  std::size_t done = 0;
  bool ok = true;
  while (in_left > 0) {
    char* out_ptr = out.data() + done;
    std::size_t out_left = out.size() - done;
    std::size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    done = out.size() - out_left;
    if (rc != std::size_t(-1)) break;
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    ok = false;  // EILSEQ / EINVAL: not in that charset after all
    break;
  }
  iconv_close(cd);
  if (!ok) return false;
  out.resize(done);
  body = std::move(out);
  return true;
}

}  // namespace httpkit::client
