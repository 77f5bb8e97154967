// The admin console as a part of a client session of its own kind (ClientSession::Kind::Admin):
// after the login, a client of database "pgopt" is answered by the pooler itself, never a server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pooler/net.hpp"

namespace pgopt::pooler {

class ClientSession;

namespace admin {

struct Command;

class AdminSession {
 public:
  explicit AdminSession(ClientSession& c) : c_(c) {}
  // Checks admin_users, welcomes the client and answers its commands until it leaves.
  awaitable<void> run();

 private:
  // The next simple Query's text; nullopt once the session is over (each way out disconnected).
  awaitable<std::optional<std::string>> read_query();
  // One command, its result or error appended to `reply`; true for SHUTDOWN (done after the reply).
  awaitable<bool> run_command(const Command& cmd, std::string& reply);
  awaitable<void> reload(std::string& reply);
  awaitable<void> kill_client(uint64_t client_id, std::string& reply);

  ClientSession& c_;
};

}  // namespace admin
}  // namespace pgopt::pooler
