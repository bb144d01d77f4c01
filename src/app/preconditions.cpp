#include "app/preconditions.hpp"

#include <cstdio>

#include "http/response_writer.hpp"
#include "http/text.hpp"

namespace httpkit::app {
namespace {

// Calls on_tag(tag, weak) for each entity-tag of a list ("a", W/"b"); a
// malformed member ends the walk. Returns true for "*".
template <class OnTag>
bool each_tag(std::string_view list, OnTag&& on_tag) {
  list = http::text::trim_ows(list);
  if (list == "*") return true;
  while (!list.empty()) {
    list = http::text::trim_ows(list);
    if (!list.empty() && list.front() == ',') {
      list.remove_prefix(1);
      continue;
    }
    bool weak = false;
    if (list.substr(0, 2) == "W/") {
      weak = true;
      list.remove_prefix(2);
    }
    if (list.empty() || list.front() != '"') return false;
    const std::size_t close = list.find('"', 1);
    if (close == std::string_view::npos) return false;
    if (on_tag(list.substr(0, close + 1), weak)) return false;
    list.remove_prefix(close + 1);
  }
  return false;
}

bool strong_match(std::string_view list, const std::string& etag) {
  bool matched = false;
  if (each_tag(list,
               [&](std::string_view tag, bool weak) { return matched = !weak && tag == etag; }))
    return true;
  return matched;
}

bool weak_match(std::string_view list, const std::string& etag) {
  bool matched = false;
  if (each_tag(list, [&](std::string_view tag, bool) { return matched = tag == etag; }))
    return true;
  return matched;
}

}  // namespace

Validators validators_of(const struct stat& st, std::string_view coding) {
  Validators v;
  v.modified = st.st_mtim.tv_sec;
  char tag[64];
  std::snprintf(tag, sizeof tag, "\"%llx-%llx", (unsigned long long)st.st_mtim.tv_sec,
                (unsigned long long)st.st_size);
  v.etag = tag;
  if (!coding.empty()) v.etag += "-" + std::string(coding);
  v.etag += '"';
  char date[29];
  http::HttpDate::format(v.modified, date);
  v.last_modified.assign(date, sizeof date);
  return v;
}

Precondition evaluate_preconditions(const Request& req, const Validators& v) {
  if (auto im = req.header("if-match")) {
    if (!strong_match(*im, v.etag)) return Precondition::failed;
  } else if (auto ius = req.header("if-unmodified-since")) {
    if (auto date = http::HttpDate::parse(*ius); date && v.modified > *date)
      return Precondition::failed;
  }
  const bool safe = req.method() == "GET" || req.method() == "HEAD";
  if (auto inm = req.header("if-none-match")) {
    if (weak_match(*inm, v.etag)) return safe ? Precondition::not_modified : Precondition::failed;
  } else if (auto ims = req.header("if-modified-since"); ims && safe) {
    if (auto date = http::HttpDate::parse(*ims); date && v.modified <= *date)
      return Precondition::not_modified;
  }
  return Precondition::proceed;
}

bool if_range_allows(const Request& req, const Validators& v) {
  const auto if_range = req.header("if-range");
  if (!if_range) return true;
  const std::string_view value = http::text::trim_ows(*if_range);
  if (value.substr(0, 1) == "\"" || value.substr(0, 2) == "W/")
    return value == v.etag;  // a strong comparison; a weak tag never matches
  const auto date = http::HttpDate::parse(value);
  return date && *date == v.modified;
}

}  // namespace httpkit::app
