#include "client/exchange.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "client/client_core.hpp"

namespace httpkit::client {
namespace {

// A redirect body bigger than this is not worth draining: the connection is
// closed instead and the next hop opens another.
constexpr uint64_t kMaxDrainedRedirectBody = 256 * 1024;

bool asks_to_close(const RequestOptions& opts) {
  for (const Header& h : opts.headers) {
    if (iequals(h.name, "connection") && h.value.find("close") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Exchange::Exchange(uint64_t exchange_id, RequestOptions options, ResponseCallback cb)
    : id(exchange_id), opts(std::move(options)), callback(std::move(cb)) {
  phase_timer.owner = this;
  phase_timer.fire = &ClientCore::on_phase_timeout;
  deadline_timer.owner = this;
  deadline_timer.fire = &ClientCore::on_deadline;
}

std::optional<std::string> Exchange::prepare() {
  UrlResult parsed = parse_url(opts.url);
  if (!parsed.url) return "invalid URL '" + opts.url + "': " + parsed.error;
  url = std::move(*parsed.url);
  if (url.scheme != "http" && url.scheme != "https")
    return "invalid URL '" + opts.url + "': use websocket() for " + url.scheme + "://";
  add_query_params(url, opts.query_params);
  if (!opts.proxy_url.empty()) {
    UrlResult p = parse_url(opts.proxy_url);
    if (!p.url) return "invalid proxy URL '" + opts.proxy_url + "': " + p.error;
    if (p.url->scheme != "http" && p.url->scheme != "https")
      return "invalid proxy URL '" + opts.proxy_url + "': use an http:// or https:// proxy";
    proxy = std::move(*p.url);
  }
  method = opts.method.empty() ? "GET" : opts.method;
  for (char& ch : method) {
    if (ch >= 'a' && ch <= 'z') ch = char(ch - 32);
  }
  if (!is_token(method)) return "invalid method '" + opts.method + "'";
  if (method == "CONNECT") return "CONNECT is not a request method the client sends";
  if (opts.as == BodyAs::stream && !opts.stream.on_chunk)
    return "as == stream needs stream.on_chunk";
  stream_mode = opts.as == BodyAs::stream;
  keep_alive = opts.keepalive.count() > 0 && !asks_to_close(opts);
  // body gives way to form_params and multipart (as it always has); a file
  // or stream body is exclusive.
  const int external = !opts.body_file.empty() + bool(opts.body_stream);
  if (external > 1 ||
      (external && (!opts.body.empty() || !opts.form_params.empty() || !opts.multipart.empty())))
    return "body_file and body_stream exclude each other and body, form_params, multipart";
  if (auto error = source.open(opts)) return error;
  if (source.kind() != BodySource::Kind::none) {
    body.external = true;
    body.chunked = source.chunked();
    body.length = source.length();
    return std::nullopt;
  }
  return encode_body(opts, body);
}

ResponseSink::HeadAction Exchange::on_head(const http::ResponseHeadView& head) {
  result.status = head.status;
  result.headers.clear();
  result.headers.reserve(head.head_length, head.num_headers);
  std::optional<std::string_view> location;
  for (std::size_t i = 0; i < head.num_headers; ++i) {
    result.headers.add(head.headers[i].name, head.headers[i].value);
    if (!location && iequals(head.headers[i].name, "location")) location = head.headers[i].value;
  }
  redirect = next_hop(head.status, location, method, url, opts.follow_redirects, redirects,
                      opts.max_redirects, opts.allow_unsafe_redirect_methods);
  // A stream already (partly) sent cannot go again: the 3xx is the answer.
  if (redirect.action == RedirectStep::Action::follow && redirect.send_body && send_body &&
      !source.rewindable())
    redirect.action = RedirectStep::Action::none;
  switch (redirect.action) {
    case RedirectStep::Action::follow:
      if (head.framing == http::BodyFraming::until_close ||
          head.framing == http::BodyFraming::chunked ||
          (head.framing == http::BodyFraming::content_length &&
           head.content_length > kMaxDrainedRedirectBody))
        return HeadAction::stop;  // not worth reading: close and go on
      return HeadAction::discard;
    case RedirectStep::Action::too_many:
      sink_error = {ErrorKind::too_many_redirects, TimeoutKind::none, 0, redirect.error};
      return HeadAction::stop;
    case RedirectStep::Action::bad_location:
      sink_error = {ErrorKind::protocol, TimeoutKind::none, 0, redirect.error};
      return HeadAction::stop;
    case RedirectStep::Action::none:
      break;
  }
  if (stream_mode) {
    if (opts.stream.on_headers &&
        !core->guarded([&] { opts.stream.on_headers(result); }, "stream on_headers")) {
      sink_error = {ErrorKind::cancelled, TimeoutKind::none, 0, "stream on_headers threw"};
      return HeadAction::stop;
    }
    return HeadAction::keep;
  }
  if (head.framing == http::BodyFraming::content_length &&
      (opts.max_body == 0 || head.content_length <= opts.max_body))
    result.body.reserve(std::size_t(head.content_length));
  return HeadAction::keep;
}

ResponseSink::Verdict Exchange::on_body(std::string_view piece) {
  body_bytes += piece.size();
  if (opts.max_body && body_bytes > opts.max_body) {
    sink_error = {ErrorKind::body_too_large, TimeoutKind::none, 0,
                  "response body from " + route.describe() + " exceeds max_body (" +
                      std::to_string(opts.max_body) + " bytes)"};
    return Verdict::stop;
  }
  if (!stream_mode) {
    result.body.append(piece);
    return Verdict::go;
  }
  bool more = true;
  if (!core->guarded([&] { more = opts.stream.on_chunk(piece); }, "stream on_chunk")) {
    sink_error = {ErrorKind::cancelled, TimeoutKind::none, 0, "stream on_chunk threw"};
    return Verdict::stop;
  }
  if (!more) paused = true;
  return paused ? Verdict::pause : Verdict::go;
}

}  // namespace httpkit::client
