// What a 3xx answer means for the next hop (RFC 9110 §15.4, http-kit's rules).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "client/url.hpp"

namespace httpkit::client {

struct RedirectStep {
  enum class Action : uint8_t {
    none,          // not a redirect to follow: the response is the answer
    follow,        // go to `url` with `method`
    too_many,      // over max_redirects
    bad_location,  // Location unusable: `error` says why
  };
  Action action = Action::none;
  Url url;
  std::string method;
  bool send_body = true;      // false when the method turned into GET
  bool cross_origin = false;  // scheme, host or port changed
  std::string error;
};

bool is_redirect_status(int status);

// 301/302/303 switch to GET (HEAD stays HEAD) and drop the body; 307/308
// keep both, and so do 301/302 with `allow_unsafe_methods`. `location` is
// the raw header value, if any.
RedirectStep next_hop(int status, std::optional<std::string_view> location, std::string_view method,
                      const Url& current, bool follow, int redirects_so_far, int max_redirects,
                      bool allow_unsafe_methods = false);

}  // namespace httpkit::client
