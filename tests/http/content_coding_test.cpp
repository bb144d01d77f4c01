#include "http/content_coding.hpp"

#include <gtest/gtest.h>

namespace httpkit::http {
namespace {

constexpr ContentCoding kAll[] = {ContentCoding::zstd, ContentCoding::br, ContentCoding::gzip,
                                  ContentCoding::deflate};

ContentCoding pick(std::string_view header) {
  return choose_coding(header, kAll).coding;
}

TEST(ContentCoding, AbsentOrEmptyMeansIdentity) {
  EXPECT_EQ(pick(""), ContentCoding::identity);
  EXPECT_EQ(pick(" , "), ContentCoding::identity);
}

TEST(ContentCoding, ServerPreferenceBreaksTies) {
  EXPECT_EQ(pick("gzip, deflate, br"), ContentCoding::br);
  EXPECT_EQ(pick("gzip, deflate, br, zstd"), ContentCoding::zstd);
  EXPECT_EQ(pick("deflate, gzip"), ContentCoding::gzip);
  EXPECT_EQ(pick("GZIP"), ContentCoding::gzip);
  EXPECT_EQ(pick("x-gzip"), ContentCoding::gzip);
}

TEST(ContentCoding, QValuesRank) {
  EXPECT_EQ(pick("br;q=0.5, gzip;q=0.8"), ContentCoding::gzip);
  EXPECT_EQ(pick("br;q=0, gzip"), ContentCoding::gzip);
  EXPECT_EQ(pick("br; q=0.9 , gzip ;q=0.1"), ContentCoding::br);
  EXPECT_EQ(pick("gzip;q=0.5, identity;q=1"), ContentCoding::identity);
  EXPECT_EQ(pick("*;q=0.3, gzip;q=0.2"), ContentCoding::zstd);  // * rates the rest
}

TEST(ContentCoding, RefusedIdentityIsReported) {
  const CodingChoice a = choose_coding("identity;q=0, gzip", kAll);
  EXPECT_EQ(a.coding, ContentCoding::gzip);
  EXPECT_FALSE(a.identity_allowed);
  const CodingChoice b = choose_coding("*;q=0", kAll);
  EXPECT_EQ(b.coding, ContentCoding::identity);
  EXPECT_FALSE(b.identity_allowed);
  constexpr ContentCoding only_gzip[] = {ContentCoding::gzip};
  EXPECT_EQ(choose_coding("br", only_gzip).coding, ContentCoding::identity);
}

TEST(ContentCoding, MalformedEntriesAreIgnored) {
  EXPECT_EQ(pick("br;q=2, gzip"), ContentCoding::gzip);
  EXPECT_EQ(pick("br;q=0.1234, gzip;q=0.5"), ContentCoding::gzip);
  EXPECT_EQ(pick("br;level=3, gzip"), ContentCoding::gzip);
  EXPECT_EQ(pick("br;q=1.000"), ContentCoding::br);
  EXPECT_EQ(pick("br;q=1.001, gzip"), ContentCoding::gzip);
}

}  // namespace
}  // namespace httpkit::http
