#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "http/text.hpp"
#include "httpkit/request.hpp"
#include "server/request_builder.hpp"

namespace httpkit {

Request RequestBuilder::from_head(const http::RequestHead& head, std::string_view body, int fd,
                                  bool secure, bool body_pending) {
  Request r;
  r.method_ = head.method;
  r.target_ = head.target;
  r.path_ = head.path;
  r.query_ = head.query;
  r.body_ = body;
  r.headers_ = {head.headers, head.num_headers};
  r.version_minor_ = head.version_minor;
  r.keep_alive_ = head.keep_alive;
  r.fd_ = fd;
  r.secure_ = secure;
  r.body_pending_ = body_pending;
  // A vDSO clock read (tens of nanoseconds): cheaper than keeping a cached
  // wall clock right across the loop's iterations.
  r.start_time_ = std::chrono::system_clock::now();
  return r;
}

std::string_view Request::server_name() const {
  if (auto host = header("host"); host && !host->empty()) {
    std::string_view name = *host;
    if (name.front() == '[') {  // IPv6 literal: the port follows the ']'
      const std::size_t close = name.find(']');
      if (close != std::string_view::npos) return name.substr(0, close + 1);
      return name;
    }
    return name.substr(0, name.find(':'));
  }
  load_addresses();
  return local_addr_;
}

bool Request::is_websocket() const {
  if (method_ != "GET") return false;
  bool upgrade = false, connection = false;
  for (const HeaderView& h : headers_) {
    if (iequals(h.name, "upgrade") && http::text::list_has(h.value, "websocket")) upgrade = true;
    if (iequals(h.name, "connection") && http::text::list_has(h.value, "upgrade"))
      connection = true;
  }
  return upgrade && connection;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const HeaderView& h : headers_)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

std::vector<std::string_view> Request::header_values(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const HeaderView& h : headers_)
    if (iequals(h.name, name)) values.push_back(h.value);
  return values;
}

std::optional<std::string_view> Request::path_param(std::string_view name) const {
  for (const PathParam& p : path_params_)
    if (p.name == name) return p.value;
  return std::nullopt;
}

Params Request::query_params() const {
  return Params::parse(query_);
}

Params Request::form_params() const {
  auto type = content_type();
  if (!type) return {};
  std::string_view media = type->substr(0, type->find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t'))
    media.remove_suffix(1);
  if (!iequals(media, "application/x-www-form-urlencoded")) return {};
  return Params::parse(body_);
}

void Request::load_addresses() const {
  if (addresses_loaded_ || fd_ < 0) return;
  addresses_loaded_ = true;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    if (ss.ss_family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      remote_addr_ = text;
      remote_port_ = ntohs(v4->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
      char text[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      remote_addr_ = text;
      remote_port_ = ntohs(v6->sin6_port);
    }
  }
  len = sizeof ss;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    char text[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
      inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      local_port_ = ntohs(v4->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      local_port_ = ntohs(v6->sin6_port);
    }
    local_addr_ = text;
  }
}

const std::string& Request::remote_addr() const {
  load_addresses();
  return remote_addr_;
}

uint16_t Request::remote_port() const {
  load_addresses();
  return remote_port_;
}

uint16_t Request::local_port() const {
  load_addresses();
  return local_port_;
}

// Every view in one copy; see detached().
Request Request::copy_bytes() const {
  // Every view of a request points into one byte range (the head and the
  // body follow each other), except after a chunked body was decoded in
  // place, where they are still inside that range. Copy the span from the
  // lowest to the highest address and rebase the views into the copy.
  const char* lo = method_.data();
  const char* hi = method_.data() + method_.size();
  auto widen = [&](std::string_view v) {
    if (v.empty()) return;
    lo = std::min(lo, v.data());
    hi = std::max(hi, v.data() + v.size());
  };
  widen(target_);
  widen(body_);
  for (const HeaderView& h : headers_) {
    widen(h.name);
    widen(h.value);
  }
  auto bytes = std::make_shared<std::string>(lo, hi);
  auto rebase = [&](std::string_view v) -> std::string_view {
    if (v.empty()) return {};
    return {bytes->data() + (v.data() - lo), v.size()};
  };
  Request copy = *this;
  copy.method_ = rebase(method_);
  copy.target_ = rebase(target_);
  copy.path_ = rebase(path_);
  copy.query_ = rebase(query_);
  copy.body_ = rebase(body_);
  auto headers = std::make_shared<std::vector<HeaderView>>();
  headers->reserve(headers_.size());
  for (const HeaderView& h : headers_)
    headers->push_back({rebase(h.name), rebase(h.value)});
  copy.headers_ = *headers;
  copy.owned_bytes_ = std::move(bytes);
  copy.owned_headers_ = std::move(headers);
  return copy;
}

Request Request::detached() const {
  load_addresses();
  // A request that already owns its bytes (detached, or made by
  // with_body, whose body and head are two strings) shares them.
  Request copy = owned_bytes_ ? *this : copy_bytes();
  copy.fd_ = -1;
  if (!path_params_.empty()) {
    auto owned = std::make_shared<OwnedPathParams>();
    for (const PathParam& p : path_params_)
      owned->bytes.append(p.name).append(p.value);
    std::size_t at = 0;
    for (const PathParam& p : path_params_) {
      const std::string_view name(owned->bytes.data() + at, p.name.size());
      const std::string_view value(owned->bytes.data() + at + p.name.size(), p.value.size());
      owned->params.push_back({name, value});
      at += p.name.size() + p.value.size();
    }
    copy.path_params_ = owned->params;
    copy.owned_path_params_ = std::move(owned);
  }
  return copy;
}

Request Request::with_body(std::string body, std::span<const HeaderView> headers) const {
  // The new body is moved in, not copied (it may be megabytes); the head
  // goes into a second string beside it. One allocation holds both, and
  // owned_bytes_ aliases the body.
  struct Storage {
    std::string body, head;
  };
  auto storage = std::make_shared<Storage>();
  storage->body = std::move(body);
  std::size_t head_size = method_.size() + target_.size() + path_.size() + query_.size();
  for (const HeaderView& h : headers)
    head_size += h.name.size() + h.value.size();
  storage->head.reserve(head_size);  // views into it stay put
  auto keep = [&](std::string_view v) -> std::string_view {
    const std::size_t at = storage->head.size();
    storage->head.append(v);
    return {storage->head.data() + at, v.size()};
  };
  Request copy = *this;
  copy.method_ = keep(method_);
  copy.target_ = keep(target_);
  copy.path_ = keep(path_);
  copy.query_ = keep(query_);
  auto fields = std::make_shared<std::vector<HeaderView>>();
  fields->reserve(headers.size());
  for (const HeaderView& h : headers) {
    const std::string_view name = keep(h.name);
    fields->push_back({name, keep(h.value)});
  }
  copy.headers_ = *fields;
  copy.owned_headers_ = std::move(fields);
  copy.body_ = storage->body;
  copy.body_pending_ = false;
  copy.owned_bytes_ = std::shared_ptr<const std::string>(storage, &storage->body);
  return copy;
}

}  // namespace httpkit
