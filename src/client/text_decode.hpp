// What `as text` means: the body in UTF-8, converted from the charset the
// Content-Type names (with glibc's iconv). Unknown charsets and bytes that
// do not convert leave the body as it came.
#pragma once

#include <string>
#include <string_view>

namespace httpkit::client {

// The charset parameter of a Content-Type value, unquoted; empty if none.
std::string charset_of(std::string_view content_type);

// True for types whose body is text (text/*, JSON, XML, JavaScript, forms).
bool is_textual(std::string_view content_type);

// Converts `body` to UTF-8 in place when `charset` is known and not UTF-8
// already. Returns false (body untouched) when it cannot.
bool convert_to_utf8(std::string& body, const std::string& charset);

}  // namespace httpkit::client
