// A todo item and its JSON form, shared by the store, the REST API and the
// event feed so that all three speak the same shape:
//   {"id": 3, "title": "buy milk", "done": false}
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace todo {

struct Todo {
  uint64_t id = 0;
  std::string title;
  bool done = false;
};

// Found by nlohmann::json through argument-dependent lookup:
// `nlohmann::json j = todo;`
inline void to_json(nlohmann::json& j, const Todo& t) {
  j = nlohmann::json{{"id", t.id}, {"title", t.title}, {"done", t.done}};
}

}  // namespace todo
