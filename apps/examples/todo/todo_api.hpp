// The REST API, mounted under /api:
//
//   GET    /todos       200 [todo...], Todo-Version: the last change's event id
//   POST   /todos       {"title": "..."}            201 todo, Location: /api/todos/ID
//   GET    /todos/:id   200 todo
//   PATCH  /todos/:id   {"title"?: "...", "done"?: bool}   200 todo
//   DELETE /todos/:id   204
//   GET    /events      the changes, as server-sent events (todo_events.hpp)
//
// Errors are JSON too, {"error": "why"}: 400 for a body that is not JSON or
// not the right shape, 404 for an unknown id, 415 for a body that is not
// application/json. The router itself answers 405 (with Allow) for a
// method a path does not have.
#pragma once

#include "httpkit/router.hpp"
#include "todo_events.hpp"
#include "todo_store.hpp"

namespace todo {

// Titles are at most this many bytes.
inline constexpr std::size_t kMaxTitle = 200;

// `store` and `feed` must outlive the router.
httpkit::Router api_routes(TodoStore& store, const TodoFeed& feed);

}  // namespace todo
