#include "app/content_types.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "httpkit/header_view.hpp"

namespace httpkit::app {
namespace {

// Sorted by extension for binary search (checked once, below).
constexpr std::array<std::pair<std::string_view, std::string_view>, 48> kTypes = {{
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/x-icon"},
    {"ics", "text/calendar; charset=utf-8"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"m4a", "audio/mp4"},
    {"manifest", "application/manifest+json"},
    {"map", "application/json"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"rss", "application/rss+xml"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xml", "application/xml"},
    {"yaml", "application/yaml"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
}};

constexpr bool sorted() {
  for (std::size_t i = 1; i < kTypes.size(); ++i)
    if (!(kTypes[i - 1].first < kTypes[i].first)) return false;
  return true;
}
static_assert(sorted(), "kTypes must stay sorted by extension");

}  // namespace

std::string_view content_type_for(std::string_view path) {
  const std::size_t slash = path.find_last_of('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos || dot + 1 == name.size() || name.size() - dot > 13)
    return "application/octet-stream";
  char lower[12];
  const std::string_view ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), lower,
                 [](char c) { return c >= 'A' && c <= 'Z' ? char(c | 0x20) : c; });
  const std::string_view key(lower, ext.size());
  auto it = std::lower_bound(kTypes.begin(), kTypes.end(), key,
                             [](const auto& entry, std::string_view k) { return entry.first < k; });
  return it != kTypes.end() && it->first == key ? it->second : "application/octet-stream";
}

bool is_compressible(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  if (type.size() >= 5 && iequals(type.substr(0, 5), "text/")) return true;
  for (std::string_view t :
       {"application/json", "application/javascript", "application/xml", "application/xhtml+xml",
        "application/rss+xml", "image/svg+xml", "application/ld+json", "application/manifest+json",
        "application/wasm", "application/yaml", "image/x-icon", "image/bmp", "font/ttf",
        "font/otf"})
    if (iequals(type, t)) return true;
  // application/problem+json, vnd.api+json and the like.
  return type.size() > 5 && iequals(type.substr(type.size() - 5), "+json");
}

}  // namespace httpkit::app
