// Starting a coroutine that runs on its own: its end by an exception is never silent.
#pragma once

#include <csignal>
#include <exception>

#include "pooler/log.hpp"
#include "pooler/net.hpp"

namespace pgopt::pooler {

// What an exception out of a spawned coroutine means (asio::detached would drop it unseen):
//   Log       logged; the rest of the process goes on (one client's relay, one poll round)
//   Shutdown  logged, then the process drains and exits as on SIGTERM: a loop it cannot work
//             without (accepting clients, the sweep, signals) has stopped, and a supervisor that
//             restarts it does better than a process that silently stopped accepting
enum class OnFailure { Log, Shutdown };

// `what` names the coroutine in the log; a string literal (no allocation per spawn: relays are
// spawned often).
// `where` is an executor or an io_context, as for asio::co_spawn.
template <class Where, class Awaitable>
void spawn(Where&& where, Awaitable&& work, const char* what, OnFailure on_failure = OnFailure::Log) {
  asio::co_spawn(std::forward<Where>(where), std::forward<Awaitable>(work), [what, on_failure](std::exception_ptr e) {
    if (!e) return;
    std::string why = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      why = x.what();
    } catch (...) {
    }
    if (on_failure == OnFailure::Shutdown) {
      log::error("{} stopped: {}; shutting down", what, why);
      std::raise(SIGTERM);
    } else {
      log::error("{} ended with an error: {}", what, why);
    }
  });
}

}  // namespace pgopt::pooler
