// multipart/form-data bodies (RFC 7578).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "httpkit/client.hpp"

namespace httpkit::client {

// Appends the whole body to `out` and returns nullopt, or returns why it
// could not (a file part that cannot be read). `boundary` must not occur in
// any part; random_boundary() makes that overwhelmingly likely.
std::optional<std::string> encode_multipart(const std::vector<MultipartPart>& parts,
                                            const std::string& boundary, std::string& out);

std::string random_boundary();

}  // namespace httpkit::client
