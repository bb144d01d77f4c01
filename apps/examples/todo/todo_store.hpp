// The todos, in memory. Handlers may run on several event loops or on a
// worker pool (--workers), so every operation takes the store's lock.
//
// Each change is reported to a listener while the lock is still held: the
// feed then sees changes in exactly the order the store made them, so a
// browser never gets "updated" after "deleted" for the same todo. The
// listener must return quickly (Topic::publish does: it only posts).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "todo.hpp"

namespace todo {

enum class ChangeKind { created, updated, deleted };

struct Change {
  ChangeKind kind;
  Todo todo;         // the todo after the change (before it, for deleted)
  uint64_t version;  // increases by one per change: the SSE event id
};

// Fields a PATCH may set; the absent ones stay as they are.
struct TodoPatch {
  std::optional<std::string> title;
  std::optional<bool> done;
};

class TodoStore {
 public:
  using Listener = std::function<void(const Change&)>;

  explicit TodoStore(Listener on_change = {});

  // Every todo, in id order (creation order), and the version they are
  // at: a client that loads the list while listening to the feed skips
  // the events it already has (those with an id up to this version).
  struct Snapshot {
    std::vector<Todo> todos;
    uint64_t version;
  };
  Snapshot list() const;
  std::optional<Todo> get(uint64_t id) const;
  Todo create(std::string title);
  std::optional<Todo> update(uint64_t id, const TodoPatch& patch);
  bool remove(uint64_t id);

 private:
  void changed(ChangeKind kind, const Todo& todo);  // caller holds mutex_

  Listener on_change_;
  mutable std::mutex mutex_;
  std::map<uint64_t, Todo> todos_;  // ordered: list() needs no sort
  uint64_t next_id_ = 1;
  uint64_t version_ = 0;
};

}  // namespace todo
