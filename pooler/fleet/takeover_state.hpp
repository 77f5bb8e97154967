// Socket-free: what an idle transaction-mode client carries from an old pgopt process to the new
// one in an online takeover (docs/fleet.md, "Upgrades"), and its byte encoding.
//
// Only a client between transactions moves (parked: no server, nothing owed, no bytes read and
// unprocessed, no TLS), so its whole session lives in the pooler: the settings it has (reported
// ones with the values it was sent in ParameterStatus, replayed ones as the SQL that makes them),
// its named prepared statements (text and parameter types, or a SQL PREPARE's text around the
// name), its cancel key and read-your-writes position. The encoding is versioned: a new process
// that does not know the old one's version refuses every client (they are then drained).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pgopt::pooler::fleet {

inline constexpr uint32_t kTakeoverVersion = 1;

struct MovedSetting {
  std::string name;   // as the server spells it
  std::string value;  // reported: the value; replayed: the SQL statement
  bool replayed = false;
  bool operator==(const MovedSetting&) const = default;
};

struct MovedStatement {
  std::string name;  // the client's name
  std::string query;
  std::vector<int32_t> param_types;
  // A SQL PREPARE: its text before and after the name (both empty for a protocol-level Parse).
  std::string sql_before, sql_after;
  bool operator==(const MovedStatement&) const = default;
};

struct MovedClient {
  uint64_t id = 0;  // the old process's client number, for the log lines of both
  std::string peer, user, database;
  int32_t cancel_pid = 0, cancel_secret = 0;
  bool read_your_writes = true;
  // A commit whose read-your-writes stamp the old process had not taken yet: the new process takes
  // the first stamp it polls, which is after the commit.
  bool ryw_pending = false;
  uint64_t ryw_lsn = 0;
  uint8_t route = 0;  // routing::Route as a number (SET pgopt.route)
  bool cache_off = false;  // SET pgopt.cache = off
  std::vector<MovedSetting> settings;
  std::vector<MovedStatement> statements;
  // SCRAM passthrough: the ClientKey the client proved, which the new process's pool needs to log
  // in to PostgreSQL as this user (empty when the auth file has no SCRAM verifier for it).
  std::string scram_client_key;
  bool operator==(const MovedClient&) const = default;
};

std::string encode(const MovedClient& c);
// nullopt for bytes that are not a whole MovedClient of kTakeoverVersion.
std::optional<MovedClient> decode_moved_client(std::span<const uint8_t> bytes);

}  // namespace pgopt::pooler::fleet
