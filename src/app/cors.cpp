#include <algorithm>

#include "httpkit/middleware.hpp"

namespace httpkit {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

struct Cors {
  CorsOptions options;
  bool any_origin;

  bool allows(std::string_view origin) const {
    return any_origin || std::find(options.allowed_origins.begin(), options.allowed_origins.end(),
                                   origin) != options.allowed_origins.end();
  }

  void add_origin(Response& r, std::string_view origin) const {
    const bool echo = !any_origin || options.allow_credentials;
    r.header("Access-Control-Allow-Origin", echo ? std::string(origin) : "*");
    if (options.allow_credentials) r.header("Access-Control-Allow-Credentials", "true");
  }

  Response preflight(const Request& req, std::string_view origin, std::string_view method) const {
    const auto& methods = options.allowed_methods;
    if (!allows(origin) || std::find(methods.begin(), methods.end(), method) == methods.end()) {
      Response refused = Response::text("CORS request refused", 403);
      refused.header("Vary",
                     "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      return refused;
    }
    Response r(204, "");
    add_origin(r, origin);
    r.header("Access-Control-Allow-Methods", join(methods));
    const std::string headers =
        options.allowed_headers.empty()
            ? std::string(req.header("access-control-request-headers").value_or(""))
            : join(options.allowed_headers);
    if (!headers.empty()) r.header("Access-Control-Allow-Headers", headers);
    r.header("Access-Control-Max-Age", std::to_string(options.max_age.count()));
    r.header("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    return r;
  }
};

}  // namespace

Handler wrap_cors(Handler next, CorsOptions options) {
  const bool any = std::find(options.allowed_origins.begin(), options.allowed_origins.end(), "*") !=
                   options.allowed_origins.end();
  auto cors = std::make_shared<const Cors>(Cors{std::move(options), any});
  return [next = std::move(next), cors](const Request& req) {
    const auto origin = req.header("origin");
    if (!origin) return next(req);
    if (req.method() == "OPTIONS") {
      if (auto method = req.header("access-control-request-method"))
        return cors->preflight(req, *origin, *method);
    }
    Response r = next(req);
    if (cors->allows(*origin)) {
      cors->add_origin(r, *origin);
      if (!cors->options.exposed_headers.empty())
        r.header("Access-Control-Expose-Headers", join(cors->options.exposed_headers));
    }
    // Vary even when refused: a cache must not serve one origin's answer
    // to another.
    r.header("Vary", "Origin");
    return r;
  };
}

}  // namespace httpkit
