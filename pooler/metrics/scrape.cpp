// The whole /metrics page from a plain snapshot of the pooler.
#include "pooler/metrics/scrape.hpp"

#include <algorithm>

#include "pooler/metrics/exposition.hpp"

namespace pgopt::pooler::metrics {

namespace {

using T = Exposition::Type;

// The process, its clients and its pools.
void render_pooler(Exposition& e, const Snapshot& s) {
  e.family("pgopt_up", T::Gauge, "1 while the pooler process runs.");
  e.sample("pgopt_up", {}, uint64_t(1));
  e.family("pgopt_info", T::Gauge, "Always 1; the labels describe the running pooler.");
  e.sample("pgopt_info", {{"version", s.version}}, uint64_t(1));
  e.family("pgopt_draining", T::Gauge, "1 during a graceful shutdown (no new clients), else 0.");
  e.sample("pgopt_draining", {}, uint64_t(s.accepting ? 0 : 1));

  e.family("pgopt_clients", T::Gauge, "Client connections by database, user and state (login, idle, waiting, active).");
  for (const auto& c : s.clients)
    e.sample("pgopt_clients", {{"database", c.database}, {"user", c.user}, {"state", c.state}}, c.count);
  e.family("pgopt_servers", T::Gauge,
           "Server connections by pool and state: active (with a client), idle (pooled), other (opening, resetting).");
  for (const auto& p : s.pools) {
    const std::pair<const char*, uint64_t> states[] = {{"active", p.active}, {"idle", p.idle}, {"other", p.other}};
    for (const auto& [state, n] : states)
      e.sample("pgopt_servers", {{"database", p.database}, {"user", p.user}, {"node", p.node}, {"state", state}}, n);
  }
  e.family("pgopt_pool_size", T::Gauge, "Configured server connections per pool (pool_size) for each database.");
  for (const auto& [db, n] : s.pool_size) e.sample("pgopt_pool_size", {{"database", db}}, n);
  e.family("pgopt_pool_longest_wait_seconds", T::Gauge, "How long the longest-waiting client of the pool has waited.");
  for (const auto& p : s.pools)
    e.sample("pgopt_pool_longest_wait_seconds", {{"database", p.database}, {"user", p.user}, {"node", p.node}},
             p.longest_wait_seconds);
}

// What went through each database: queries, transactions, bytes, waits, errors, routing.
void render_traffic(Exposition& e, const Snapshot& s) {
  e.family("pgopt_queries_total", T::Counter,
           "Queries relayed to a server and answered (a simple Query, an extended-protocol group up to Sync).");
  for (const auto& [db, st] : s.stats) e.sample("pgopt_queries_total", {{"database", db}}, st.query_count);
  e.family("pgopt_transactions_total", T::Counter, "Transactions ended (an autocommit statement counts as one).");
  for (const auto& [db, st] : s.stats) e.sample("pgopt_transactions_total", {{"database", db}}, st.xact_count);
  e.family("pgopt_received_bytes_total", T::Counter, "Bytes received from clients.");
  for (const auto& [db, st] : s.stats) e.sample("pgopt_received_bytes_total", {{"database", db}}, st.received);
  e.family("pgopt_sent_bytes_total", T::Counter, "Bytes sent to clients.");
  for (const auto& [db, st] : s.stats) e.sample("pgopt_sent_bytes_total", {{"database", db}}, st.sent);
  e.family("pgopt_client_wait_seconds_total", T::Counter, "Time clients spent waiting for a server connection.");
  for (const auto& [db, st] : s.stats)
    e.sample("pgopt_client_wait_seconds_total", {{"database", db}}, double(st.wait_time_us) / 1e6);
  e.family("pgopt_query_duration_seconds", T::Histogram, "Query time as seen by the pooler, sent to ReadyForQuery.");
  for (const auto& [db, st] : s.stats) e.histogram("pgopt_query_duration_seconds", {{"database", db}}, st.query);
  e.family("pgopt_transaction_duration_seconds", T::Histogram,
           "Transaction time as seen by the pooler, first query sent to the ReadyForQuery that ends it.");
  for (const auto& [db, st] : s.stats) e.histogram("pgopt_transaction_duration_seconds", {{"database", db}}, st.xact);

  e.family("pgopt_errors_total", T::Counter,
           "Errors clients received, by SQLSTATE (\"other\" past 32 distinct codes) and by source: the server's "
           "ErrorResponses relayed, or pgopt's own (FATAL closes, refused statements).");
  for (const auto& [db, st] : s.stats)
    for (const auto& [k, n] : st.errors)
      e.sample("pgopt_errors_total",
               {{"database", db}, {"sqlstate", k.first}, {"source", k.second == ErrorSource::Server ? "server" : "pgopt"}},
               n);

  e.family("pgopt_routed_statements_total", T::Counter,
           "Queries of a read/write-split database by where they ran (primary or replica).");
  for (const auto& db : s.split_databases) {
    auto it = s.stats.find(db);
    const DbStats zero;
    const DbStats& st = it == s.stats.end() ? zero : it->second;
    e.sample("pgopt_routed_statements_total", {{"database", db}, {"target", "primary"}}, st.routed_primary);
    e.sample("pgopt_routed_statements_total", {{"database", db}, {"target", "replica"}}, st.routed_replica);
  }

}

// The shared prepared statements, and each replica's health and lag.
void render_replicas(Exposition& e, const Snapshot& s) {
  e.family("pgopt_prepared_statements", T::Gauge,
           "Distinct prepared statements (text and parameter types) in the shared registry, as servers prepare them.");
  e.sample("pgopt_prepared_statements", {}, s.prepared_statements);

  e.family("pgopt_replica_up", T::Gauge, "1 when the replica is polled healthy, in recovery and not banned.");
  for (const auto& r : s.replicas)
    e.sample("pgopt_replica_up", {{"database", r.database}, {"replica", r.node}}, uint64_t(r.up ? 1 : 0));
  e.family("pgopt_replica_banned", T::Gauge, "1 while the replica gets no reads after a failure (replica_ban_time).");
  for (const auto& r : s.replicas)
    e.sample("pgopt_replica_banned", {{"database", r.database}, {"replica", r.node}}, uint64_t(r.banned ? 1 : 0));
  e.family("pgopt_replica_lag_seconds", T::Gauge, "Replication lag in time (absent while unknown).");
  for (const auto& r : s.replicas)
    if (r.lag_seconds) e.sample("pgopt_replica_lag_seconds", {{"database", r.database}, {"replica", r.node}}, *r.lag_seconds);
  e.family("pgopt_replica_lag_bytes", T::Gauge, "Replication lag in WAL bytes (absent while unknown).");
  for (const auto& r : s.replicas)
    if (r.lag_bytes) e.sample("pgopt_replica_lag_bytes", {{"database", r.database}, {"replica", r.node}}, *r.lag_bytes);
}

// Multi-host databases: the members' roles and the election state.
void render_failover(Exposition& e, const Snapshot& s) {
  e.family("pgopt_failover_primary", T::Gauge, "1 for the member of a multi-host database that takes its writes now.");
  for (const auto& m : s.members)
    e.sample("pgopt_failover_primary", {{"database", m.database}, {"member", m.member}}, uint64_t(m.primary ? 1 : 0));
  // One series per member and possible role, 1 for the current one, so a role change is a step in
  // a graph and an alert can match role="failed" without knowing the names.
  e.family("pgopt_failover_member_role", T::Gauge, "1 for the role the prober last found for a member of a multi-host database.");
  for (const auto& m : s.members)
    for (const char* role : {"primary", "standby", "failed", "silent"})
      e.sample("pgopt_failover_member_role", {{"database", m.database}, {"member", m.member}, {"role", role}},
               uint64_t(m.role == role ? 1 : 0));
  e.family("pgopt_failover_state", T::Gauge, "1 for the election state of a multi-host database.");
  for (const auto& el : s.elections)
    for (const char* state : {"discovering", "stable", "no_primary", "split_brain", "disagree"})
      e.sample("pgopt_failover_state", {{"database", el.database}, {"state", state}}, uint64_t(el.state == state ? 1 : 0));
  e.family("pgopt_failover_last_change_timestamp_seconds", T::Gauge,
           "Unix time the election state last changed (a primary found, lost, moved, or a split brain).");
  for (const auto& el : s.elections)
    if (el.since_unix) e.sample("pgopt_failover_last_change_timestamp_seconds", {{"database", el.database}}, *el.since_unix);
  e.family("pgopt_failover_split_brain", T::Gauge, "1 while two or more members claim to be primary (writes refused).");
  for (const auto& el : s.elections)
    e.sample("pgopt_failover_split_brain", {{"database", el.database}}, uint64_t(el.split_brain ? 1 : 0));
  e.family("pgopt_failover_primary_changes_total", T::Counter, "Times the primary of a multi-host database changed (found, lost, moved).");
  for (const auto& el : s.elections) e.sample("pgopt_failover_primary_changes_total", {{"database", el.database}}, el.changes);
  e.family("pgopt_failover_split_brains_total", T::Counter, "Times a split brain began.");
  for (const auto& el : s.elections) e.sample("pgopt_failover_split_brains_total", {{"database", el.database}}, el.split_brains);
}

// The result cache's change streams (invalidation = "logical"), per database: up or not, and the
// delay from a transaction's commit on the server to pgopt's invalidation of its tables.
void render_cache_streams(Exposition& e, const Snapshot& s) {
  if (s.cache_streams.empty()) return;
  e.family("pgopt_cache_stream_up", T::Gauge,
           "1 while the database's logical-decoding change stream is up; while 0 its cached entries are not served.");
  for (const auto& st : s.cache_streams)
    e.sample("pgopt_cache_stream_up", {{"database", st.database}}, uint64_t(st.state == cache::StreamState::Up));
  e.family("pgopt_cache_stream_transactions_total", T::Counter, "Committed transactions the change stream decoded.");
  for (const auto& st : s.cache_streams)
    e.sample("pgopt_cache_stream_transactions_total", {{"database", st.database}}, st.transactions);
  e.family("pgopt_cache_stream_connects_total", T::Counter, "Times the change stream came up.");
  for (const auto& st : s.cache_streams)
    e.sample("pgopt_cache_stream_connects_total", {{"database", st.database}}, st.connects);
  e.family("pgopt_cache_invalidation_lag_seconds", T::Histogram,
           "From a transaction's commit on the server (its commit time) to pgopt's invalidation of the tables it "
           "wrote: how stale a cached entry can be after a write that bypassed the pooler.");
  for (const auto& st : s.cache_streams) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < st.lag_buckets.size(); ++i) {
      cumulative += st.lag_buckets[i];
      e.sample("pgopt_cache_invalidation_lag_seconds_bucket",
               {{"database", st.database}, {"le", format_value(cache::StreamSnapshot::kLagBuckets[i])}}, cumulative);
    }
    e.sample("pgopt_cache_invalidation_lag_seconds_bucket", {{"database", st.database}, {"le", "+Inf"}},
             st.lag_count);
    e.sample("pgopt_cache_invalidation_lag_seconds_sum", {{"database", st.database}}, st.lag_sum);
    e.sample("pgopt_cache_invalidation_lag_seconds_count", {{"database", st.database}}, st.lag_count);
  }
  e.family("pgopt_cache_invalidation_lag_max_seconds", T::Gauge, "The largest commit-to-invalidation delay seen.");
  for (const auto& st : s.cache_streams)
    e.sample("pgopt_cache_invalidation_lag_max_seconds", {{"database", st.database}}, st.lag_max);
}

// The result cache (docs/result-cache.md), per rule: what SHOW CACHE shows.
void render_cache(Exposition& e, const Snapshot& s) {
  if (s.cache.empty()) return;  // cache off: no empty families on every scrape
  e.family("pgopt_cache_entries", T::Gauge, "Result cache entries held, per rule (\"hint\": cached by their hint alone).");
  for (const auto& [rule, c] : s.cache) e.sample("pgopt_cache_entries", {{"rule", rule}}, c.entries);
  e.family("pgopt_cache_bytes", T::Gauge, "Memory charged to the result cache's entries, per rule.");
  for (const auto& [rule, c] : s.cache) e.sample("pgopt_cache_bytes", {{"rule", rule}}, c.bytes);
  const std::pair<const char*, uint64_t cache::RuleCounters::*> counters[] = {
      {"hits", &cache::RuleCounters::hits},
      {"misses", &cache::RuleCounters::misses},
      {"evictions", &cache::RuleCounters::evictions},
      {"expirations", &cache::RuleCounters::expirations},
      {"invalidations", &cache::RuleCounters::invalidations},
      {"refused", &cache::RuleCounters::refused}};
  const char* help[] = {"Statements answered from the result cache.",
                        "Cacheable statements the result cache did not have (sent to the server).",
                        "Entries evicted (least recently used) to stay under max_memory.",
                        "Entries dropped when met past their TTL.",
                        "Entries dropped because a write through the pooler to a table they read committed.",
                        "Replies not stored: over max_entry_size, or a table they read was written during the fill."};
  for (size_t i = 0; i < std::size(counters); ++i) {
    const std::string name = std::string("pgopt_cache_") + counters[i].first + "_total";
    e.family(name, T::Counter, help[i]);
    for (const auto& [rule, c] : s.cache) e.sample(name, {{"rule", rule}}, c.*counters[i].second);
  }
  render_cache_streams(e, s);
}

}  // namespace

std::string render(const Snapshot& s) {
  Exposition e;
  render_pooler(e, s);
  render_traffic(e, s);
  render_replicas(e, s);
  render_failover(e, s);
  render_cache(e, s);
  return e.text();
}

}  // namespace pgopt::pooler::metrics
