#include "client/redirect.hpp"

namespace httpkit::client {

bool is_redirect_status(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

RedirectStep next_hop(int status, std::optional<std::string_view> location, std::string_view method,
                      const Url& current, bool follow, int redirects_so_far, int max_redirects,
                      bool allow_unsafe_methods) {
  RedirectStep step;
  if (!follow || !is_redirect_status(status) || !location) return step;
  if (redirects_so_far >= max_redirects) {
    step.action = RedirectStep::Action::too_many;
    step.error = "more than " + std::to_string(max_redirects) + " redirects";
    return step;
  }
  UrlResult target = resolve_reference(current, *location);
  if (!target.url) {
    step.action = RedirectStep::Action::bad_location;
    step.error = "redirect to unusable Location '" + std::string(*location) + "': " + target.error;
    return step;
  }
  if (target.url->scheme != "http" && target.url->scheme != "https") {
    step.action = RedirectStep::Action::bad_location;
    step.error = "redirect to unsupported scheme '" + target.url->scheme + "'";
    return step;
  }
  step.action = RedirectStep::Action::follow;
  step.url = std::move(*target.url);
  step.cross_origin = !step.url.same_origin(current);
  const bool to_get = status == 303 || ((status == 301 || status == 302) && !allow_unsafe_methods);
  if (to_get && method != "HEAD") {
    step.method = "GET";
    step.send_body = false;
  } else {
    step.method = std::string(method);
  }
  return step;
}

}  // namespace httpkit::client
