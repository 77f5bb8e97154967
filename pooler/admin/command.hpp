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
  ShowStats,     // per database: transactions, queries, bytes, wait time, latency
  ShowPrepared,  // per server: prepared statements it holds
  ShowQueries,   // the workload capture: per fingerprint
  ShowCache,     // the result cache: per rule
  CacheClear,    // CACHE CLEAR [rule]: drop the result cache's entries (of one rule)
  Reload,
  KillClient,
  Kill,      // KILL db: disconnect the database's clients and close its servers
  Pause,     // PAUSE [db]: new transactions wait; returns when running ones have finished
  Resume,    // RESUME [db]
  Set,       // SET key = value (a live-reloadable [pooler] key)
  Shutdown,
  Empty,  // only blanks, comments or semicolons: PostgreSQL answers EmptyQueryResponse
};

struct Command {
  CommandKind kind = CommandKind::Empty;
  uint64_t client_id = 0;  // KillClient
  std::string database;    // Kill (required), Pause/Resume (empty: every database)
  std::string key, value;  // Set: value as TOML text ("30s" quoted, 5, true), ready for the parser
  std::string rule;        // CacheClear: one rule's entries (a [[cache.rules]] name or "hint"); empty: all
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
