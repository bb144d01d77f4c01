#include "app/content_types.hpp"

#include <gtest/gtest.h>

namespace httpkit::app {
namespace {

TEST(ContentTypes, ByExtensionCaseInsensitively) {
  EXPECT_EQ(content_type_for("/site/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a/b.c/photo.jpeg"), "image/jpeg");
  EXPECT_EQ(content_type_for("font.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("site.webmanifest"), "application/manifest+json");
}

TEST(ContentTypes, UnknownIsOctetStream) {
  EXPECT_EQ(content_type_for("README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("a.b/README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("file."), "application/octet-stream");
  EXPECT_EQ(content_type_for("x.averyveryverylongextension"), "application/octet-stream");
  EXPECT_EQ(content_type_for("x.exe"), "application/octet-stream");
}

TEST(ContentTypes, Compressible) {
  EXPECT_TRUE(is_compressible("text/html; charset=utf-8"));
  EXPECT_TRUE(is_compressible("application/json"));
  EXPECT_TRUE(is_compressible("application/problem+json"));
  EXPECT_TRUE(is_compressible("image/svg+xml"));
  EXPECT_FALSE(is_compressible("image/png"));
  EXPECT_FALSE(is_compressible("application/zip"));
  EXPECT_FALSE(is_compressible("video/mp4"));
  EXPECT_FALSE(is_compressible("font/woff2"));
}

}  // namespace
}  // namespace httpkit::app
