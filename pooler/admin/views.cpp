// The admin console's SHOW result sets, built from the runtime, the config and client snapshots.
#include "pooler/admin/views.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include "pooler/protocol/codec.hpp"
#include "sql/parser.hpp"

namespace pgopt::pooler::admin {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Cell = std::optional<std::string>;

std::string num(int64_t v) { return std::to_string(v); }
std::string secs(Clock::duration d) { return num(duration_cast<seconds>(d).count()); }

// A steady-clock instant as UTC wall time, for columns people compare with logs.
std::string wall(Clock::time_point t, Clock::time_point now) {
  auto sys = std::chrono::system_clock::now() - duration_cast<std::chrono::system_clock::duration>(now - t);
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", fmt::gmtime(std::chrono::system_clock::to_time_t(sys)));
}

std::string node_name(const std::string& node) { return node.empty() ? "primary" : node; }

// What a server's host is now: for a multi-host database the role its prober last found
// (primary, standby, failed, silent), which may differ from the pool it sits in right after a
// failover; otherwise what the config says.
std::string server_role(Runtime& rt, const std::string& database, const std::string& node, const std::string& host,
                        int port) {
  if (auto c = rt.failover.find(database)) {
    auto i = c->member_of(ServerTarget{host, port, {}});
    if (!i) return "unknown";
    const auto st = c->stats();
    return std::string(*i < st.roles.size() ? topology::to_string(st.roles[*i]) : "unknown");
  }
  return node.empty() ? "primary" : "replica";
}

// "127.0.0.1:5000" (or "::1:5000") into address and port.
std::pair<std::string, std::string> split_peer(const std::string& peer) {
  auto colon = peer.rfind(':');
  if (colon == std::string::npos) return {peer, ""};
  return {peer.substr(0, colon), peer.substr(colon + 1)};
}

}  // namespace

void write_result(std::string& out, const ResultSet& r, std::string_view tag) {
  protocol::row_description(out, r.columns);
  for (const auto& row : r.rows) protocol::data_row(out, row);
  protocol::command_complete(out, tag);
}

ResultSet show_pools(Runtime& rt, const std::vector<ClientSnapshot>& attached_clients,
                     const std::map<const Pool*, int>& idle_by_pool) {
  ResultSet r;
  r.columns = {"database", "user",      "node",     "cl_active", "cl_idle",   "cl_waiting",
               "sv_active", "sv_idle", "sv_other", "sv_total",  "maxwait_ms"};
  auto pools = rt.pools.all();
  std::sort(pools.begin(), pools.end(), [](const Pool* a, const Pool* b) {
    return std::tie(a->database, a->user, a->node) < std::tie(b->database, b->user, b->node);
  });
  for (Pool* p : pools) {
    auto c = p->counts();
    int attached = 0, idle_clients = 0;
    for (const auto& s : attached_clients)
      if (!s.admin && s.server_pool == p) ++attached;
    // A client without a server belongs to its primary pool (replica pools are per read).
    if (auto it = idle_by_pool.find(p); p->node.empty() && it != idle_by_pool.end()) idle_clients = it->second;
    // total counts connections being opened too; what is neither idle nor with a client is opening,
    // being reset or on its way between clients.
    const int other = std::max(0, c.total - c.idle - attached);
    r.rows.push_back({p->database, p->user, node_name(p->node), num(attached), num(idle_clients), num(c.waiting),
                      num(attached), num(c.idle), num(other), num(c.total), num(c.longest_wait.count())});
  }
  return r;
}

ResultSet show_clients(const std::vector<ClientSnapshot>& clients) {
  ResultSet r;
  r.columns = {"id", "user", "database", "state", "addr", "port", "connect_time", "age_s", "idle_s", "tx", "server_id"};
  const auto now = Clock::now();
  for (const auto& s : clients) {
    auto [addr, port] = split_peer(s.peer);
    r.rows.push_back({num(int64_t(s.id)), s.user, s.database, s.state, addr, port, wall(s.connected_at, now),
                      secs(now - s.connected_at), secs(now - s.last_activity), std::string(1, s.tx_status),
                      s.server_id ? Cell(num(int64_t(s.server_id))) : std::nullopt});
  }
  return r;
}

// Every server connection once, by id: those attached to a client from the client snapshots,
// the idle ones from the pools. The snapshots were taken a moment earlier, so a server released in
// between is in both; the pools' view is the later one and wins.
namespace {

template <class Active, class Idle>
std::vector<std::vector<Cell>> server_rows(Runtime& rt, const std::vector<ClientSnapshot>& clients, Active active,
                                           Idle idle) {
  std::vector<std::pair<const Pool*, Pool::IdleServer>> pooled;
  for (Pool* p : rt.pools.all())
    for (auto& i : p->idle_servers()) pooled.emplace_back(p, std::move(i));
  std::set<uint64_t> pooled_ids;
  for (const auto& [p, i] : pooled) pooled_ids.insert(i.id);
  std::vector<std::pair<uint64_t, std::vector<Cell>>> rows;
  for (const auto& s : clients)
    if (s.server_id && s.server_pool && !pooled_ids.contains(s.server_id))
      rows.emplace_back(s.server_id, active(s, *s.server_pool));
  for (const auto& [p, i] : pooled) rows.emplace_back(i.id, idle(*p, i));
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::vector<Cell>> out;
  for (auto& row : rows) out.push_back(std::move(row.second));
  return out;
}

}  // namespace

ResultSet show_servers(Runtime& rt, const std::vector<ClientSnapshot>& clients) {
  ResultSet r;
  r.columns = {"id", "database", "user", "node", "host", "port", "state", "age_s", "idle_s", "client_id", "role"};
  const auto now = Clock::now();
  r.rows = server_rows(
      rt, clients,
      [&](const ClientSnapshot& s, const Pool& p) -> std::vector<Cell> {
        return {num(int64_t(s.server_id)), p.database, p.user, node_name(p.node), s.server_host, num(s.server_port),
                "active", secs(now - s.server_created), "0", num(int64_t(s.id)),
                server_role(rt, p.database, p.node, s.server_host, s.server_port)};
      },
      [&](const Pool& p, const Pool::IdleServer& i) -> std::vector<Cell> {
        return {num(int64_t(i.id)), p.database, p.user, node_name(p.node), i.host, num(i.port), "idle",
                secs(now - i.created), secs(now - i.last_used),
                i.last_client ? Cell(num(int64_t(i.last_client))) : std::nullopt,
                server_role(rt, p.database, p.node, i.host, i.port)};
      });
  return r;
}

ResultSet show_prepared(Runtime& rt, const std::vector<ClientSnapshot>& clients) {
  ResultSet r;
  r.columns = {"server_id", "database", "user", "node", "state", "statements", "hits", "misses", "evictions",
               "registry_statements"};
  const std::string registry = num(int64_t(rt.statements.size()));
  r.rows = server_rows(
      rt, clients,
      [&](const ClientSnapshot& s, const Pool& p) -> std::vector<Cell> {
        return {num(int64_t(s.server_id)), p.database, p.user, node_name(p.node), "active",
                num(int64_t(s.server_prepared)), num(int64_t(s.server_prepared_hits)),
                num(int64_t(s.server_prepared_misses)), num(int64_t(s.server_prepared_evictions)), registry};
      },
      [&](const Pool& p, const Pool::IdleServer& i) -> std::vector<Cell> {
        return {num(int64_t(i.id)), p.database, p.user, node_name(p.node), "idle", num(int64_t(i.prepared)),
                num(int64_t(i.prepared_hits)), num(int64_t(i.prepared_misses)), num(int64_t(i.prepared_evictions)),
                registry};
      });
  return r;
}

ResultSet show_databases(Runtime& rt, const Config& cfg) {
  ResultSet r;
  // The last four are for multi-host databases (`hosts`), NULL otherwise: each member with the role
  // its prober last found, the election's state, when that state began, and how often the primary
  // changed. host/port stay the first member (the config's view).
  r.columns = {"name",          "host",          "port",     "dbname",          "pool_mode",
               "pool_size",     "min_pool_size", "max_db_connections", "replicas", "read_write_split",
               "hosts",         "failover_state", "state_since", "primary_changes"};
  const auto now = Clock::now();
  for (const auto& [name, db] : cfg.databases) {
    std::string replicas;
    for (const auto& rc : db.replicas)
      replicas += fmt::format("{}{}:{}", replicas.empty() ? "" : ",", rc.host, rc.port);
    std::vector<Cell> row{name, db.host, num(db.port), db.dbname, std::string(to_string(cfg.pool_mode(db))),
                          num(cfg.pool_size(db)), num(cfg.min_pool_size(db)), num(cfg.max_db_connections(db)), replicas,
                          db.read_write_split ? "true" : "false"};
    if (auto c = rt.failover.find(name)) {
      const auto st = c->stats();
      std::string hosts;
      for (size_t i = 0; i < c->members().size(); ++i)
        hosts += fmt::format("{}{}:{}={}", i ? "," : "", c->members()[i].host, c->members()[i].port,
                             i < st.roles.size() ? topology::to_string(st.roles[i]) : "unknown");
      row.insert(row.end(), {hosts, std::string(topology::to_string(st.state)),
                             st.since == Clock::time_point{} ? Cell() : Cell(wall(st.since, now)),
                             num(int64_t(st.changes))});
    } else {
      row.insert(row.end(), 4, std::nullopt);
    }
    r.rows.push_back(std::move(row));
  }
  return r;
}

ResultSet show_config(const Config& cfg) {
  ResultSet r;
  r.columns = {"section", "key", "value", "reloadable"};
  for (std::string_view key : pooler_keys())
    r.rows.push_back({"pooler", std::string(key), pooler_value(cfg.pooler, key),
                      reloadable("pooler." + std::string(key)) ? "yes" : "no"});
  for (const auto& [name, db] : cfg.databases)
    for (std::string_view key : database_keys())
      r.rows.push_back({"databases." + name, std::string(key), database_value(cfg, db, key), "yes"});
  return r;
}

ResultSet show_replicas(Runtime& rt, const Config& cfg) {
  ResultSet r;
  r.columns = {"database", "host", "port", "weight", "state", "lag_ms", "lag_bytes", "replay_lsn", "in_use"};
  const auto now = routing::SteadyClock::now();
  for (const auto& [name, db] : cfg.databases) {
    auto set = rt.splits.find(name);
    if (!set) continue;
    const auto& eps = set->endpoints();
    for (size_t i = 0; i < eps.size(); ++i) {
      auto st = set->status(int(i), now);
      const bool known = st.known && !st.banned;
      std::string state = st.banned ? "banned" : st.promoted ? "promoted" : st.known ? "healthy" : "unknown";
      r.rows.push_back({name, eps[i].host, num(eps[i].port), num(eps[i].weight), state,
                        known ? Cell(num(st.lag.count())) : std::nullopt,
                        known ? Cell(num(int64_t(st.lag_bytes))) : std::nullopt,
                        known ? Cell(routing::format_lsn(st.replay_lsn)) : std::nullopt, num(st.in_use)});
    }
  }
  return r;
}

ResultSet show_stats(Runtime& rt, const Config& cfg) {
  ResultSet r;
  r.columns = {"database",        "total_xact_count", "total_query_count", "total_received",
               "total_sent",      "total_xact_time",  "total_query_time",  "total_wait_time",
               "avg_xact_time",   "avg_query_time",   "p95_query_time",    "p99_query_time"};
  auto stats = rt.stats.collect();
  for (const auto& [name, db] : cfg.databases) stats[name];  // with traffic or not
  auto u = [](uint64_t v) { return num(int64_t(v)); };
  auto avg = [](uint64_t total, uint64_t n) { return num(n ? int64_t(total / n) : 0); };
  for (const auto& [name, s] : stats) {
    r.rows.push_back({name, u(s.xact_count), u(s.query_count), u(s.received), u(s.sent), u(s.xact_time_us),
                      u(s.query_time_us), u(s.wait_time_us), avg(s.xact_time_us, s.xact_count),
                      avg(s.query_time_us, s.query_count), num(int64_t(s.query.quantile(0.95))),
                      num(int64_t(s.query.quantile(0.99)))});
  }
  return r;
}

ResultSet show_queries(const capture::Snapshot& snap) {
  ResultSet r;
  r.columns = {"database", "fingerprint", "query", "calls", "errors", "rows", "total_time", "mean_time",
               "p95_time", "max_time", "primary_calls", "replica_calls", "cache_hits"};
  auto ms = [](double v) { return fmt::format("{:.3f}", v); };
  for (const auto& q : snap.queries) {  // merge() sorted them by total_ms
    r.rows.push_back({q.database, sql::fingerprint_hex(q.fingerprint), q.query, std::to_string(q.calls),
                      std::to_string(q.errors), std::to_string(q.rows), ms(q.total_ms),
                      ms(q.calls ? q.total_ms / double(q.calls) : 0), ms(capture::nearest_rank(q.durations_ms, 95)),
                      ms(q.max_ms), std::to_string(q.primary_calls), std::to_string(q.replica_calls),
                      std::to_string(q.cache_hits)});
  }
  return r;
}

ResultSet show_cache(Runtime& rt) {
  ResultSet r;
  // The per-rule rows, then one row per change stream (invalidation = "logical"): its rule column
  // is "stream:<database>", its state in the last columns (NULL on rule rows).
  r.columns = {"rule",          "entries", "bytes",  "hits",        "misses",      "evictions", "expirations",
               "invalidations", "refused", "stream", "stream_detail", "lag_last_ms", "lag_max_ms"};
  auto rc = rt.result_cache_if_made();
  if (!rc) return r;
  auto u = [](uint64_t v) { return num(int64_t(v)); };
  const auto counters = rc->store.counters();
  for (size_t i = 0; i < counters.size(); ++i) {
    const cache::RuleCounters& c = counters[i];
    r.rows.push_back({std::string(rc->rules.slot_name(i)), u(c.entries), u(c.bytes), u(c.hits), u(c.misses),
                      u(c.evictions), u(c.expirations), u(c.invalidations), u(c.refused), std::nullopt, std::nullopt,
                      std::nullopt, std::nullopt});
  }
  auto ms = [](double seconds) { return fmt::format("{:.3f}", seconds * 1000); };
  for (const cache::StreamSnapshot& st : rc->streams.snapshot()) {
    // invalidations: the decoded transactions that invalidated something.
    r.rows.push_back({"stream:" + st.database, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                      std::nullopt, u(st.invalidations), std::nullopt,
                      std::string(st.state == cache::StreamState::Up ? "up" : "down"), st.detail, ms(st.lag_last),
                      ms(st.lag_max)});
  }
  return r;
}

}  // namespace pgopt::pooler::admin
