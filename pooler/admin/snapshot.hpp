// What a client session shows the admin console: the console's database name, and a copy of the
// session's state taken on the session's own worker.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pooler/server_conn.hpp"

namespace pgopt::pooler {

class Pool;

// The startup database that gets the admin console instead of a pooled session.
inline constexpr std::string_view kAdminDatabase = "pgopt";

struct ClientSnapshot {
  uint64_t id = 0;
  std::string user, database, peer;
  std::string state;  // to_string(ClientState)
  bool admin = false;
  Clock::time_point connected_at, last_activity;
  char tx_status = 'I';
  // The attached server, if any.
  uint64_t server_id = 0;
  std::string server_host;
  int server_port = 0;
  Clock::time_point server_created;
  // Pools live as long as the process and their database/user/node never change, so reading those
  // from any thread is safe.
  const Pool* server_pool = nullptr;
  // Its prepared statements (transaction mode; prepared::ServerStatements).
  size_t server_prepared = 0;
  uint64_t server_prepared_hits = 0, server_prepared_misses = 0, server_prepared_evictions = 0;
};

}  // namespace pgopt::pooler
