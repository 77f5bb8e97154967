// Online takeover (issue 20, docs/fleet.md "Upgrades"): a new pgopt process takes the listening
// sockets and the idle transaction-mode clients of the running one, over a Unix socket
// (fleet/fd_channel.hpp), so that those clients keep their connections, settings, prepared
// statements and cancel keys across an upgrade.
//
//   old: pgopt pool --config C --handover-socket /run/pgopt/takeover.sock
//   new: pgopt pool --config C --takeover /run/pgopt/takeover.sock
//
// The old process (Handover) waits for a successor on its socket. When one connects it sends its
// listening sockets and the size of its session table ('L'), closes its own copies (the sockets
// stay open in the new process, so no connection in the accept queue is lost), and starts a
// shutdown in which every client that can move does so at its next idle point ('C': its state and
// socket); the others (TLS, session mode, the admin console, logins, clients still in a transaction
// at shutdown_timeout) drain as on SIGTERM. 'E' ends the handover. The new process (Takeover)
// listens on what it got and builds a parked session from each client it receives.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pooler/runtime.hpp"

namespace pgopt::pooler {

namespace fleet {
struct MovedClient;
}

inline constexpr char kTakeoverListeners = 'L';
inline constexpr char kTakeoverClient = 'C';
inline constexpr char kTakeoverEnd = 'E';

// The old process's side. Sessions call send_client() from their own workers.
class Handover {
 public:
  explicit Handover(std::string path) : path_(std::move(path)) {}
  ~Handover();
  bool open(std::string& error);  // binds the socket; call before the daemon runs
  // Waits for a successor, then sends it `listeners` and the session table's size at that moment.
  // False: the socket failed (logged) and no handover will happen.
  awaitable<bool> wait_for_successor(asio::io_context& main, const std::vector<int>& listeners, ClientTable& table);
  // One parked client's state and socket (any worker thread). False: not sent; the caller keeps it.
  bool send_client(const fleet::MovedClient& c, int fd);
  void finish();  // no more clients: the successor releases the session slots nobody claimed
  size_t moved() const { return moved_; }

 private:
  std::string path_;
  int listen_fd_ = -1;
  int peer_fd_ = -1;
  std::mutex send_mu_;  // one message at a time from any worker (and finish())
  std::atomic<size_t> moved_{0};
};

// The new process's side.
class Takeover {
 public:
  explicit Takeover(std::string path) : path_(std::move(path)) {}
  ~Takeover();
  // Connects and waits (up to 10 s) for the old process's listening sockets. False: `error` says why,
  // and the caller exits without having touched the old process's clients.
  bool take_listeners(std::vector<int>& listeners, std::string& error);
  // Receives clients until the old process says it is done (or goes away), each built as a parked
  // session on a worker, round robin.
  awaitable<void> receive_clients(Runtime& rt);

 private:
  void adopt(Runtime& rt, fleet::MovedClient moved, int fd, size_t& next_worker);
  std::string path_;
  int fd_ = -1;
  size_t slots_ = 0;  // the old process's session table size: those slots are kept for its clients
};

}  // namespace pgopt::pooler
