// Where a transaction-mode relay waits between transactions instead of ending: one per awake client.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <memory>
#include <utility>

#include "pooler/net.hpp"

namespace pgopt::pooler {

struct ServerConn;

// Why: starting a coroutine for every transaction (co_spawn: a new awaitable thread, its frames,
// the completion machinery) cost about 2,600 of the ~18,000 instructions of a pgbench -S
// transaction (bench/callgrind_relay.sh, issue 16). The relay that gave its server back waits here
// instead; the next attach hands it the new server and resumes it.
//
// Rules:
//  - while docked a relay holds no owning pointer to its session: the session's end, or its
//    parking (which frees Awake and this dock with it), destroys the docked coroutine (Asio unwinds
//    an abandoned awaitable on its executor). No cycle keeps a session alive;
//  - one relay docks at a time: a relay that docks while another is docked (the first finished
//    its release after the client had already attached again) replaces it, which ends the first;
//  - board() hands a server only to a docked relay and resumes it by a post, after the caller's
//    current step: the batch that made the attach is counted before the relay reads its replies.
//    The post owns the session (`owner`) until the relay runs again and owns it itself;
//  - a relay that is not docked is running or gone: the caller starts a new one.
// `Server` is what a relay is handed (a server connection; anything movable in the unit tests).
template <class Server>
class Dock {
 public:
  bool occupied() const { return static_cast<bool>(resume_); }

  // The relay's wait: completes once board() gave it a server (take() it then).
  template <class Token>
  auto wait(Token&& token) {
    return asio::async_initiate<Token, void()>(
        [this](auto handler) {
          // Swapped in, never assigned (see Resume); a relay docked before is destroyed here.
          asio::any_completion_handler<void()> h(std::move(handler));
          h.swap(resume_);
        },
        token);
  }

  // Gives `server` to the docked relay and resumes it on `exec`, `owner` (its session) kept alive
  // until then; false, and nothing changes, when no relay is docked.
  bool board(Server server, std::shared_ptr<void> owner, const asio::any_io_executor& exec) {
    if (!resume_) return false;
    next_ = std::move(server);
    asio::post(exec, Resume(asio::any_completion_handler<void()>(std::move(resume_)), std::move(owner)));
    return true;
  }

  Server take() { return std::exchange(next_, Server{}); }

 private:
  // The posted resumption, move-only. Boost 1.81's any_completion_handler may only be moved by
  // its move constructor: its move assignment copies `other` as an lvalue, which its unconstrained
  // converting constructor takes as a new handler to wrap, without end (a stack overflow; fixed
  // in Boost 1.82).
  struct Resume {
    asio::any_completion_handler<void()> handler;
    std::shared_ptr<void> owner;
    Resume(asio::any_completion_handler<void()> h, std::shared_ptr<void> o) : handler(std::move(h)), owner(std::move(o)) {}
    Resume(Resume&&) noexcept = default;
    Resume(const Resume&) = delete;
    Resume& operator=(const Resume&) = delete;
    Resume& operator=(Resume&&) = delete;
    ~Resume() = default;
    void operator()() { std::move(handler)(); }
  };
  asio::any_completion_handler<void()> resume_;
  Server next_{};
};

using RelayDock = Dock<std::shared_ptr<ServerConn>>;

}  // namespace pgopt::pooler
