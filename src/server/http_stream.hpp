// The state of an HTTP channel's response beyond a plain channel's: its
// output filters and, for a StreamBody, the generator pulled as the socket
// drains. Allocated only for responses that have either, and freed when
// the response ends (release_channel), so a filter's state (a compressor)
// lives no longer than its stream.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "httpkit/response.hpp"

namespace httpkit::server {

struct HttpStream {
  std::vector<OutputFilter> setups;  // run when the head is written, then dropped
  std::vector<std::unique_ptr<BodyFilter>> filters;
  std::string scratch;  // between two filters

  // A StreamBody: its generator, the head to write before the first piece,
  // the length it promised and what it produced so far.
  std::function<std::optional<std::string>()> next;
  int status = 200;
  std::vector<Header> headers;
  std::optional<uint64_t> length;
  uint64_t produced = 0;
  bool generator = false;    // a StreamBody, not a channel
  bool pull_posted = false;  // a pull task is on its way

  bool filtering() const { return !filters.empty(); }
  // Runs `in` through the filters into `out`. False when one failed or
  // threw (`error` says which); the response cannot go on then.
  bool filter(std::string_view in, bool flush, bool last, std::string& out, std::string& error);
};

// The Content-Length a handler put on its answer to HEAD: the length the
// GET would have (RFC 9110 §9.3.2), which the server cannot know. Kept
// instead of the server's own; nullopt when there is none or it is not
// one valid number.
std::optional<uint64_t> declared_length(std::span<const Header> headers);

}  // namespace httpkit::server
