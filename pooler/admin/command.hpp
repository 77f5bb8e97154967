// The admin console's command language: one statement of Query text to a command, socket-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace pgopt::pooler::admin {

enum class CommandKind {
  ShowPools,
  ShowClients,
  ShowServers,
  ShowDatabases,
  ShowConfig,
  ShowReplicas,
  Reload,
  KillClient,
  Shutdown,
  Empty,  // only blanks, comments or semicolons: PostgreSQL answers EmptyQueryResponse
};

struct Command {
  CommandKind kind = CommandKind::Empty;
  uint64_t client_id = 0;  // KillClient
};

struct CommandError {
  std::string sqlstate;  // 42601 syntax, 0A000 more than one statement
  std::string message;
  std::string hint;
};

// Keywords are case-insensitive; one optional trailing semicolon; `--` and `/* */` comments are
// blanks. Anything else (unknown words, extra arguments, a second statement) is an error.
std::variant<Command, CommandError> parse_command(std::string_view text);

// "SHOW POOLS, SHOW CLIENTS, ...": every command, for hints and docs.
std::string_view command_list();

}  // namespace pgopt::pooler::admin
