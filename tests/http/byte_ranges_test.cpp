#include "http/byte_ranges.hpp"

#include <gtest/gtest.h>

namespace httpkit::http {
namespace {

void expect_ranges(const RangeRequest& r, std::vector<std::pair<uint64_t, uint64_t>> want) {
  ASSERT_EQ(r.status, RangeStatus::satisfiable);
  ASSERT_EQ(r.ranges.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.ranges[i].first, want[i].first) << i;
    EXPECT_EQ(r.ranges[i].length, want[i].second) << i;
  }
}

TEST(ByteRanges, TheRfcExamples) {  // RFC 9110 §14.1.2, a 10000-byte representation
  expect_ranges(parse_range("bytes=0-499", 10000), {{0, 500}});
  expect_ranges(parse_range("bytes=500-999", 10000), {{500, 500}});
  expect_ranges(parse_range("bytes=-500", 10000), {{9500, 500}});
  expect_ranges(parse_range("bytes=9500-", 10000), {{9500, 500}});
  expect_ranges(parse_range("bytes=0-0,-1", 10000), {{0, 1}, {9999, 1}});
  expect_ranges(parse_range("bytes= 0-999, 4500-5499, -1000", 10000),
                {{0, 1000}, {4500, 1000}, {9000, 1000}});
  // Overlapping: merged.
  expect_ranges(parse_range("bytes=500-600,601-999", 10000), {{500, 500}});
  expect_ranges(parse_range("bytes=500-700,601-999", 10000), {{500, 500}});
}

TEST(ByteRanges, ClampedToTheSize) {
  expect_ranges(parse_range("bytes=0-99999", 100), {{0, 100}});
  expect_ranges(parse_range("bytes=-99999", 100), {{0, 100}});
  // One unsatisfiable range among satisfiable ones is dropped.
  expect_ranges(parse_range("bytes=200-300, 0-9", 100), {{0, 10}});
}

TEST(ByteRanges, Unsatisfiable) {
  EXPECT_EQ(parse_range("bytes=100-", 100).status, RangeStatus::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100).status, RangeStatus::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0).status, RangeStatus::unsatisfiable);
}

TEST(ByteRanges, IgnoredWhenMalformedOrForeign) {
  EXPECT_EQ(parse_range("", 100).status, RangeStatus::ignore);
  EXPECT_EQ(parse_range("items=0-5", 100).status, RangeStatus::ignore);
  EXPECT_EQ(parse_range("bytes=5-1", 100).status, RangeStatus::ignore);
  EXPECT_EQ(parse_range("bytes=abc", 100).status, RangeStatus::ignore);
  EXPECT_EQ(parse_range("bytes=1-2-3", 100).status, RangeStatus::ignore);
  EXPECT_EQ(parse_range("bytes=+1-2", 100).status, RangeStatus::ignore);
  EXPECT_EQ(parse_range("bytes=", 100).status, RangeStatus::ignore);
  EXPECT_EQ(parse_range("bytes=99999999999999999999-", 100).status, RangeStatus::ignore);
}

TEST(ByteRanges, TooManyRangesAreServedWhole) {
  std::string many = "bytes=";
  for (int i = 0; i < 17; ++i)
    many += std::to_string(i * 10) + "-" + std::to_string(i * 10 + 1) + ",";
  EXPECT_EQ(parse_range(many, 1000).status, RangeStatus::ignore);
  EXPECT_EQ(parse_range(many, 1000, 32).status, RangeStatus::satisfiable);
}

}  // namespace
}  // namespace httpkit::http
