// httpkit-fetch's exit statuses: curl's numbers for the same failures, so
// scripts written for curl read them the same way.
#pragma once

#include "httpkit/client.hpp"

namespace httpkit::fetch_app {

inline constexpr int kUsage = 2;  // bad flags (curl: 2 "failed to initialize")
inline constexpr int kWriteError = 23;
inline constexpr int kFileTooLarge = 63;  // CURLE_FILESIZE_EXCEEDED (--max-filesize)

int exit_code_for(const ClientError& error);

}  // namespace httpkit::fetch_app
