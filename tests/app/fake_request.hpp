// A Request as the server builds it (views into one buffer), without a
// server: method, target and header fields.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "http/request_parser.hpp"
#include "httpkit/response.hpp"
#include "server/request_builder.hpp"

namespace httpkit::test {

class FakeRequest {
 public:
  FakeRequest(const std::string& method, const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& fields = {}) {
    bytes_ = method + " " + target;
    std::vector<std::pair<std::size_t, std::size_t>> at;  // name and value offsets
    for (const auto& [name, value] : fields) {
      at.push_back({bytes_.size(), bytes_.size() + name.size()});
      bytes_ += name + value;
    }
    const std::string_view all = bytes_;
    http::RequestHead head;
    head.method = all.substr(0, method.size());
    head.target = all.substr(method.size() + 1, target.size());
    const std::size_t q = head.target.find('?');
    head.path = head.target.substr(0, q);
    if (q != std::string_view::npos) head.query = head.target.substr(q + 1);
    for (std::size_t i = 0; i < fields.size(); ++i)
      fields_.push_back({all.substr(at[i].first, fields[i].first.size()),
                         all.substr(at[i].second, fields[i].second.size())});
    head.headers = fields_.data();
    head.num_headers = fields_.size();
    request_ = RequestBuilder::from_head(head, {}, -1, false);
  }
  FakeRequest(const FakeRequest&) = delete;
  FakeRequest& operator=(const FakeRequest&) = delete;
  const Request& operator*() const { return request_; }

 private:
  std::string bytes_;
  std::vector<http::HeaderField> fields_;
  Request request_;
};

inline std::string response_header(const Response& r, std::string_view name) {
  for (const Header& h : r.headers)
    if (iequals(h.name, name)) return h.value;
  return "<none>";
}

inline std::string response_text(const Response& r) {
  if (auto* s = std::get_if<std::string>(&r.body)) return *s;
  return {};
}

}  // namespace httpkit::test
