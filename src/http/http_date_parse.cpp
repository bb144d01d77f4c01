// HttpDate::parse: the three HTTP-date forms, without the C locale's
// strptime (a program may have called setlocale).
#include <ctime>

#include "http/response_writer.hpp"
#include "http/text.hpp"

namespace httpkit::http {
namespace {

constexpr std::string_view kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Reads exactly `n` digits (the first may be a space when `space_ok`).
bool digits(std::string_view& s, int n, int& out, bool space_ok = false) {
  if (s.size() < std::size_t(n)) return false;
  out = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[std::size_t(i)];
    if (i == 0 && space_ok && c == ' ') continue;
    if (!text::is_digit(c)) return false;
    out = out * 10 + (c - '0');
  }
  s.remove_prefix(std::size_t(n));
  return true;
}

bool literal(std::string_view& s, std::string_view want) {
  if (s.substr(0, want.size()) != want) return false;
  s.remove_prefix(want.size());
  return true;
}

bool month(std::string_view& s, int& out) {
  for (int m = 0; m < 12; ++m)
    if (literal(s, kMonths[m])) {
      out = m;
      return true;
    }
  return false;
}

bool clock(std::string_view& s, std::tm& tm) {
  return digits(s, 2, tm.tm_hour) && literal(s, ":") && digits(s, 2, tm.tm_min) &&
         literal(s, ":") && digits(s, 2, tm.tm_sec);
}

}  // namespace

std::optional<std::time_t> HttpDate::parse(std::string_view s) {
  std::tm tm{};
  const std::size_t comma = s.find(',');
  bool ok;
  if (comma == 3) {  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    s.remove_prefix(4);
    ok = literal(s, " ") && digits(s, 2, tm.tm_mday) && literal(s, " ") && month(s, tm.tm_mon) &&
         literal(s, " ") && digits(s, 4, tm.tm_year) && literal(s, " ") && clock(s, tm) &&
         literal(s, " GMT") && s.empty();
    tm.tm_year -= 1900;
  } else if (comma != std::string_view::npos) {  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    s.remove_prefix(comma + 1);
    ok = literal(s, " ") && digits(s, 2, tm.tm_mday) && literal(s, "-") && month(s, tm.tm_mon) &&
         literal(s, "-") && digits(s, 2, tm.tm_year) && literal(s, " ") && clock(s, tm) &&
         literal(s, " GMT") && s.empty();
    // Two-digit years: 50 and beyond are the past century (§5.6.7).
    if (tm.tm_year < 50) tm.tm_year += 100;
  } else {  // asctime: Sun Nov  6 08:49:37 1994
    if (s.size() < 4) return std::nullopt;
    s.remove_prefix(4);
    ok = month(s, tm.tm_mon) && literal(s, " ") && digits(s, 2, tm.tm_mday, true) &&
         literal(s, " ") && clock(s, tm) && literal(s, " ") && digits(s, 4, tm.tm_year) &&
         s.empty();
    tm.tm_year -= 1900;
  }
  if (!ok || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  return timegm(&tm);
}

}  // namespace httpkit::http
