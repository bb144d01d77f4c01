// The seam through which a handler type of a higher layer (the Router, in
// src/app) gives the Server its body plan when the user did not wire one:
// the server layer cannot name Router without depending on src/app, so
// the Router registers a function that recognises its own handlers.
#pragma once

#include "httpkit/server.hpp"

namespace httpkit::server {

// Returns the plan `handler` implies, or null when it is not the
// registrant's kind of handler.
using HandlerBodyPlan = BodyPlanner (*)(const Handler& handler);

// One registrant (the Router); registering again replaces it. Thread-safe.
void register_handler_body_plan(HandlerBodyPlan find);

// The registered function's answer for `handler`; null without one.
BodyPlanner handler_body_plan(const Handler& handler);

}  // namespace httpkit::server
