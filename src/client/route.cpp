#include "client/route.hpp"

#include "client/request_encoder.hpp"

namespace httpkit::client {
namespace {

std::string host_port(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

std::string Route::describe() const {
  std::string target =
      tunnel_authority.empty() ? host_port(dial_host, dial_port) : tunnel_authority;
  if (!tunnel_authority.empty() || absolute_form)
    return target + (proxy_tls ? " via https proxy " : " via proxy ") +
           host_port(dial_host, dial_port);
  return target;
}

Route route_for(const Url& url, const std::optional<Url>& proxy, const TlsOptions& tls) {
  Route r;
  r.tls = url.tls();
  if (r.tls) {
    r.tls_host = url.host;
    r.tls_options = tls;
  }
  if (proxy) {
    r.dial_host = proxy->host;
    r.dial_port = proxy->port;
    if (proxy->tls()) {
      r.proxy_tls = true;
      r.proxy_tls_host = proxy->host;
      r.tls_options = tls;  // the same trust for the proxy as for the origin
    }
    if (r.tls) {
      r.tunnel_authority = host_port(url.host, url.port);
    } else {
      r.absolute_form = true;
    }
    if (proxy->has_userinfo)
      r.proxy_authorization = "Basic " + base64_encode(proxy->user + ":" + proxy->password);
  } else {
    r.dial_host = url.host;
    r.dial_port = url.port;
  }
  // Plain requests through one proxy share its connections whatever the
  // origin; everything else is keyed by origin (and proxy).
  if (r.absolute_form) {
    r.key = std::string(r.proxy_tls ? "https-proxy|" : "proxy|") +
            host_port(r.dial_host, r.dial_port) + "|" + r.proxy_authorization;
  } else {
    r.key = url.scheme + "://" + host_port(url.host, url.port);
    if (proxy)
      r.key += std::string(r.proxy_tls ? "|via https " : "|via ") +
               host_port(r.dial_host, r.dial_port) + "|" + r.proxy_authorization;
  }
  if (r.tls || r.proxy_tls) {
    r.key += "|tls " + std::string(tls.insecure ? "insecure" : "verify") + "|" + tls.ca_file + "|" +
             tls.ca_dir + "|" + tls.cert_file + "|" + tls.key_file;
  }
  return r;
}

}  // namespace httpkit::client
