// The admin console's SHOW result sets, built from the runtime, the config and client snapshots.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/admin/snapshot.hpp"
#include "pooler/capture/store.hpp"
#include "pooler/runtime.hpp"

namespace pgopt::pooler::admin {

// Text columns only, as PgBouncer's console: psql and scripts read them alike.
struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt: SQL NULL
};

// RowDescription, the DataRows and CommandComplete `tag`.
void write_result(std::string& out, const ResultSet& r, std::string_view tag);

// `attached`: snapshots of the clients with a server; `idle_by_pool`: Idle clients without one.
ResultSet show_pools(Runtime& rt, const std::vector<ClientSnapshot>& attached,
                     const std::map<const Pool*, int>& idle_by_pool);
ResultSet show_clients(const std::vector<ClientSnapshot>& clients);
ResultSet show_servers(Runtime& rt, const std::vector<ClientSnapshot>& clients);
ResultSet show_databases(Runtime& rt, const Config& cfg);
ResultSet show_config(const Config& cfg);
ResultSet show_replicas(Runtime& rt, const Config& cfg);
// Per rule (then "hint"): entries, bytes, hits, misses, evictions, expirations, invalidations,
// refused fills. No rows while no session has used the cache.
ResultSet show_cache(Runtime& rt);
// Per database since the pooler started (times in microseconds, as PgBouncer): every configured
// database, and any a reload removed that had traffic.
ResultSet show_stats(Runtime& rt, const Config& cfg);
// Per server connection, active or idle: the shared prepared statements it holds and how often a
// client's statement was found there (hits) or had to be prepared first (misses).
ResultSet show_prepared(Runtime& rt, const std::vector<ClientSnapshot>& clients);
// The workload capture per (database, fingerprint), normalized text only (never the samples); times
// in milliseconds as pg_stat_statements, by total_time, highest first.
ResultSet show_queries(const capture::Snapshot& snap);

}  // namespace pgopt::pooler::admin
