// The whole /metrics page from a plain snapshot of the pooler (socket-free, so tests render it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pooler/cache/store.hpp"
#include "pooler/cache/stream_status.hpp"
#include "pooler/metrics/stats.hpp"

namespace pgopt::pooler::metrics {

struct Snapshot {
  std::string version;
  std::map<std::string, DbStats, std::less<>> stats;  // by database
  struct Clients {
    std::string database, user, state;
    uint64_t count = 0;
  };
  std::vector<Clients> clients;
  struct Pool {
    std::string database, user, node;  // node: "primary" or the replica's "host:port"
    uint64_t active = 0, idle = 0, other = 0;
    double longest_wait_seconds = 0;
  };
  std::vector<Pool> pools;
  std::map<std::string, uint64_t> pool_size;  // configured, by database
  std::vector<std::string> split_databases;  // with read/write splitting active
  uint64_t prepared_statements = 0;
  struct Replica {
    std::string database, node;  // "host:port"
    bool up = false;             // healthy: polled, in recovery, not banned
    bool banned = false;
    std::optional<double> lag_seconds;
    std::optional<uint64_t> lag_bytes;
  };
  std::vector<Replica> replicas;
  // Multi-host databases (`hosts`, failover): each member, and the election of each database.
  struct Member {
    std::string database, member;  // "host:port"
    bool primary = false;
    std::string role;  // what its prober last found: primary, standby, failed, silent
  };
  std::vector<Member> members;
  struct Election {
    std::string database;
    bool split_brain = false;
    uint64_t changes = 0, split_brains = 0;
    std::string state;                      // discovering, stable, no_primary, split_brain
    std::optional<double> since_unix;       // when that state began (the last role change)
  };
  std::vector<Election> elections;
  // The result cache, per rule then "hint" (SHOW CACHE's rows); empty while no session used it.
  std::vector<std::pair<std::string, cache::RuleCounters>> cache;
  // `invalidation = "logical"`: each database's change stream; empty otherwise.
  std::vector<cache::StreamSnapshot> cache_streams;
  bool accepting = true;  // false while draining
};

// Every series, in a fixed order; documented in docs/operations.md ("Metrics").
std::string render(const Snapshot& s);

}  // namespace pgopt::pooler::metrics
