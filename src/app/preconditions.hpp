// Conditional requests on a file (RFC 9110 §13): its validators, and what
// If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since and
// If-Range make of a request, evaluated in the RFC's order (§13.2.2).
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <string>
#include <string_view>

#include "httpkit/request.hpp"

namespace httpkit::app {

struct Validators {
  std::string etag;           // strong: "<mtime>-<size>[-coding]" in hex
  std::string last_modified;  // IMF-fixdate
  std::time_t modified = 0;
};

// `coding` distinguishes a pre-compressed variant's tag from the file's.
Validators validators_of(const struct stat& st, std::string_view coding);

enum class Precondition { proceed, not_modified, failed };

// 412 (failed) or 304 (not_modified, GET and HEAD) or go on.
Precondition evaluate_preconditions(const Request& req, const Validators& v);

// Whether a Range may be honoured: no If-Range, or one that names the
// current representation (a strong tag match, or exactly its date).
bool if_range_allows(const Request& req, const Validators& v);

}  // namespace httpkit::app
