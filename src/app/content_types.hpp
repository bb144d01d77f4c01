// Content-Type by file extension: a built-in table of the types a web
// service serves (text with charset=utf-8), looked up case-insensitively.
#pragma once

#include <string_view>

namespace httpkit::app {

// The type for `path`'s extension; application/octet-stream if unknown.
std::string_view content_type_for(std::string_view path);

// Whether compressing a body of this type pays (text, JSON, JS, SVG...);
// already-compressed formats (images, video, archives, fonts) do not.
bool is_compressible(std::string_view content_type);

}  // namespace httpkit::app
