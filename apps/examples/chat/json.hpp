// Just enough JSON for the chat's output: strings, escaped.
#pragma once

#include <string>
#include <string_view>

namespace chat {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values
// past U+10FFFF): browsers fail a WebSocket that receives anything else.
bool is_valid_utf8(std::string_view s);

// Appends `s` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace chat
