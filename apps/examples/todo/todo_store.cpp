#include "todo_store.hpp"

#include <utility>

namespace todo {

TodoStore::TodoStore(Listener on_change) : on_change_(std::move(on_change)) {}

TodoStore::Snapshot TodoStore::list() const {
  std::lock_guard lock(mutex_);
  Snapshot out{{}, version_};
  out.todos.reserve(todos_.size());
  for (const auto& [id, todo] : todos_)
    out.todos.push_back(todo);
  return out;
}

std::optional<Todo> TodoStore::get(uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = todos_.find(id);
  if (it == todos_.end()) return std::nullopt;
  return it->second;
}

Todo TodoStore::create(std::string title) {
  std::lock_guard lock(mutex_);
  const uint64_t id = next_id_++;
  Todo& todo = todos_[id] = Todo{id, std::move(title), false};
  changed(ChangeKind::created, todo);
  return todo;
}

std::optional<Todo> TodoStore::update(uint64_t id, const TodoPatch& patch) {
  std::lock_guard lock(mutex_);
  auto it = todos_.find(id);
  if (it == todos_.end()) return std::nullopt;
  if (patch.title) it->second.title = *patch.title;
  if (patch.done) it->second.done = *patch.done;
  changed(ChangeKind::updated, it->second);
  return it->second;
}

bool TodoStore::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = todos_.find(id);
  if (it == todos_.end()) return false;
  const Todo gone = std::move(it->second);
  todos_.erase(it);
  changed(ChangeKind::deleted, gone);
  return true;
}

void TodoStore::changed(ChangeKind kind, const Todo& todo) {
  ++version_;
  if (on_change_) on_change_(Change{kind, todo, version_});
}

}  // namespace todo
