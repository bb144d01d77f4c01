// The chat's single page: HTML, CSS and script in one string, no CDN.
#pragma once

#include <string_view>

namespace chat {

std::string_view chat_page();

}  // namespace chat
