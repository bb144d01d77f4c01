// Helpers shared by the ws tests: feed bytes to an assembler in pieces and
// record what comes out.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/message_assembler.hpp"

namespace httpkit::ws::test {

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list)
    s.push_back(static_cast<char>(b));
  return s;
}

struct Got {
  EventKind kind;
  uint16_t code;
  std::string payload;
  bool operator==(const Got&) const = default;
};

inline void PrintTo(const Got& g, std::ostream* os) {
  *os << "{kind " << static_cast<int>(g.kind) << ", code " << g.code << ", "
      << testing::PrintToString(g.payload) << "}";
}

// Feeds `wire` in pieces of `piece` bytes, each copied into a buffer of its
// own as a read would be, until an error. The payload of each event is
// copied out before the next call, as a caller must.
inline std::vector<Got> feed(MessageAssembler& a, const std::string& wire, std::size_t piece,
                             DeflateContext* deflate = nullptr) {
  std::vector<Got> got;
  std::size_t offset = 0;
  do {
    std::string read = wire.substr(offset, piece);
    offset += read.size();
    char* p = read.data();
    std::size_t n = read.size();
    for (;;) {
      const Event e = a.next(p, n, deflate);
      EXPECT_LE(e.consumed, n);
      p += e.consumed;
      n -= e.consumed;
      if (e.kind == EventKind::need_more) {
        EXPECT_EQ(n, 0u);
        break;
      }
      got.push_back({e.kind, e.code, std::string(e.payload)});
      if (e.kind == EventKind::error) return got;
    }
  } while (offset < wire.size());
  return got;
}

inline std::vector<Got> feed_whole(const std::string& wire, const AssemblerOptions& options = {},
                                   DeflateContext* deflate = nullptr) {
  MessageAssembler a(options);
  return feed(a, wire, wire.size() + 1, deflate);
}

// The events must not depend on how the bytes were split into reads.
inline std::vector<Got> feed_every_split(const std::string& wire,
                                         const AssemblerOptions& options = {},
                                         DeflateContext* deflate = nullptr) {
  const std::vector<Got> whole = feed_whole(wire, options, deflate);
  for (std::size_t piece = 1; piece <= wire.size(); ++piece) {
    MessageAssembler a(options);
    EXPECT_EQ(feed(a, wire, piece, deflate), whole) << "pieces of " << piece;
  }
  return whole;
}

inline Got error(uint16_t code) {
  return {EventKind::error, code, {}};
}

}  // namespace httpkit::ws::test
