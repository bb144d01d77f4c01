// What httpkit-server answers GET /?length=L with: the first body_length(L)
// bytes of http-kit's constant text (the sentence of its benchmark server,
// repeated). One definition, so that httpkit-load checks the very bytes
// the server sends.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace httpkit::benchmark {

inline constexpr std::string_view kSentence =
    "http-kit is a http server & client written from scrach for high performance clojure "
    "web applications, support async and websocket";
inline constexpr std::size_t kMaxBody = 10240;
inline constexpr long kDefaultLength = 1024;  // when ?length= is absent

// The body size for ?length=L: max(1, min(kMaxBody, L)).
constexpr std::size_t body_length(long length) {
  return length < 1 ? 1 : (length > long(kMaxBody) ? kMaxBody : std::size_t(length));
}

// Built at compile time: no startup work, no allocation, shared read-only.
inline constexpr std::array<char, kMaxBody> kTextBytes = [] {
  std::array<char, kMaxBody> text{};
  for (std::size_t i = 0; i < kMaxBody; ++i)
    text[i] = kSentence[i % kSentence.size()];
  return text;
}();

// The longest body; every answer is a prefix of it.
inline constexpr std::string_view kText{kTextBytes.data(), kTextBytes.size()};

}  // namespace httpkit::benchmark
