#include "todo_api.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace todo {
namespace {

using nlohmann::json;

httpkit::Response json_response(const json& body, int status = 200) {
  httpkit::Response r(status, body.dump());
  r.header("Content-Type", "application/json");
  // The data changes under the browser's feet; never answer from a cache.
  r.header("Cache-Control", "no-store");
  return r;
}

httpkit::Response error(int status, std::string_view why) {
  return json_response(json{{"error", why}}, status);
}

// The route's :id, when it is a number (anything else cannot name a todo).
std::optional<uint64_t> todo_id(const httpkit::Request& request) {
  const auto text = request.path_param("id").value_or("");
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

// application/json, in any case, maybe with parameters (; charset=utf-8).
bool is_json(const httpkit::Request& request) {
  std::string_view type = request.header("content-type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  return std::equal(type.begin(), type.end(), kJson.begin(), kJson.end(),
                    [](char a, char b) { return std::tolower((unsigned char)a) == b; });
}

// The body as a JSON object, or the error response to send instead.
// nlohmann's parser also refuses strings that are not valid UTF-8, so
// every title stored can be dumped back out.
std::variant<json, httpkit::Response> read_object(const httpkit::Request& request) {
  if (!is_json(request)) return error(415, "Content-Type must be application/json");
  json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return error(400, "the body is not valid JSON");
  if (!body.is_object()) return error(400, "the body must be a JSON object");
  return body;
}

// Checks a title; returns why it is refused, or nullptr.
const char* bad_title(const json& title) {
  if (!title.is_string()) return "title must be a string";
  const auto& s = title.get_ref<const std::string&>();
  if (s.find_first_not_of(" \t\r\n") == std::string::npos) return "title must not be empty";
  if (s.size() > kMaxTitle) return "title is too long (200 bytes at most)";
  return nullptr;
}

}  // namespace

httpkit::Router api_routes(TodoStore& store, const TodoFeed& feed) {
  httpkit::Router api;

  api.get("/todos", [&store](const httpkit::Request&) {
    auto snapshot = store.list();
    auto response = json_response(json(snapshot.todos));
    // The feed's event id of the last change included (see app.js).
    response.header("Todo-Version", std::to_string(snapshot.version));
    return response;
  });

  api.post("/todos", [&store](const httpkit::Request& request) {
    auto parsed = read_object(request);
    if (auto* refusal = std::get_if<httpkit::Response>(&parsed)) return std::move(*refusal);
    const json& body = std::get<json>(parsed);
    if (!body.contains("title")) return error(400, "title is missing");
    if (const char* why = bad_title(body["title"])) return error(400, why);
    Todo created = store.create(body["title"].get<std::string>());
    auto response = json_response(json(created), 201);
    response.header("Location", "/api/todos/" + std::to_string(created.id));
    return response;
  });

  api.get("/todos/:id", [&store](const httpkit::Request& request) {
    auto id = todo_id(request);
    auto found = id ? store.get(*id) : std::nullopt;
    if (!found) return error(404, "no such todo");
    return json_response(json(*found));
  });

  api.patch("/todos/:id", [&store](const httpkit::Request& request) {
    auto id = todo_id(request);
    if (!id || !store.get(*id)) return error(404, "no such todo");
    auto parsed = read_object(request);
    if (auto* refusal = std::get_if<httpkit::Response>(&parsed)) return std::move(*refusal);
    const json& body = std::get<json>(parsed);
    TodoPatch patch;
    if (body.contains("title")) {
      if (const char* why = bad_title(body["title"])) return error(400, why);
      patch.title = body["title"].get<std::string>();
    }
    if (body.contains("done")) {
      if (!body["done"].is_boolean()) return error(400, "done must be true or false");
      patch.done = body["done"].get<bool>();
    }
    // Deleted meanwhile by another request: still a 404.
    auto updated = store.update(*id, patch);
    if (!updated) return error(404, "no such todo");
    return json_response(json(*updated));
  });

  api.del("/todos/:id", [&store](const httpkit::Request& request) {
    auto id = todo_id(request);
    if (!id || !store.remove(*id)) return error(404, "no such todo");
    return httpkit::Response(204, std::string());
  });

  api.get("/events", [&feed](const httpkit::Request& request) { return feed.listen(request); });
  return api;
}

}  // namespace todo
