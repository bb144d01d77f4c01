// Where a request's connection goes and what it must be to be shared: the
// pool key is scheme, host, port, proxy and TLS settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client/url.hpp"
#include "httpkit/client.hpp"

namespace httpkit::client {

struct Route {
  std::string dial_host;  // where TCP goes: the origin, or the proxy
  uint16_t dial_port = 0;
  bool tls = false;      // TLS to the origin (inside the tunnel when proxied)
  std::string tls_host;  // SNI and the name the certificate must carry
  TlsOptions tls_options;
  std::string tunnel_authority;     // "host:port" to CONNECT to; empty without a tunnel
  std::string proxy_authorization;  // for the CONNECT request, from the proxy URL's userinfo
  bool absolute_form = false;       // plain http through a proxy
  // An https:// proxy: TLS to the proxy itself (checked against
  // proxy_tls_host), and the CONNECT or the request inside it. An https
  // origin then gets a second TLS session inside the first.
  bool proxy_tls = false;
  std::string proxy_tls_host;
  std::string key;

  std::string describe() const;  // "example.com:443" or "example.com:443 via proxy:3128"
};

// The route for `url`, through `proxy` when given.
Route route_for(const Url& url, const std::optional<Url>& proxy, const TlsOptions& tls);

}  // namespace httpkit::client
