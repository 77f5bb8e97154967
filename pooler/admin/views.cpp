// The admin console's SHOW result sets, built from the runtime, the config and client snapshots.
#include "pooler/admin/views.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <tuple>

#include "pooler/protocol/codec.hpp"

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

ResultSet show_pools(Runtime& rt, const std::vector<ClientSnapshot>& clients) {
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
    for (const auto& s : clients) {
      if (s.admin) continue;
      if (s.server_pool == p) ++attached;
      // A client without a server belongs to its primary pool (replica pools are per read).
      else if (p->node.empty() && s.server_id == 0 && s.state == "idle" && s.database == p->database &&
               s.user == p->user)
        ++idle_clients;
    }
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

ResultSet show_servers(Runtime& rt, const std::vector<ClientSnapshot>& clients) {
  ResultSet r;
  r.columns = {"id", "database", "user", "node", "host", "port", "state", "age_s", "idle_s", "client_id"};
  const auto now = Clock::now();
  struct Row {
    uint64_t id;
    std::vector<Cell> cells;
  };
  std::vector<Row> rows;
  for (const auto& s : clients) {
    if (!s.server_id || !s.server_pool) continue;
    const Pool* p = s.server_pool;
    rows.push_back({s.server_id,
                    {num(int64_t(s.server_id)), p->database, p->user, node_name(p->node), s.server_host,
                     num(s.server_port), "active", secs(now - s.server_created), "0", num(int64_t(s.id))}});
  }
  for (Pool* p : rt.pools.all()) {
    for (const auto& i : p->idle_servers()) {
      rows.push_back({i.id,
                      {num(int64_t(i.id)), p->database, p->user, node_name(p->node), i.host, num(i.port), "idle",
                       secs(now - i.created), secs(now - i.last_used),
                       i.last_client ? Cell(num(int64_t(i.last_client))) : std::nullopt}});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  for (auto& row : rows) r.rows.push_back(std::move(row.cells));
  return r;
}

ResultSet show_databases(const Config& cfg) {
  ResultSet r;
  r.columns = {"name",          "host",               "port",     "dbname",          "pool_mode",
               "pool_size",     "min_pool_size",      "max_db_connections", "replicas", "read_write_split"};
  for (const auto& [name, db] : cfg.databases) {
    std::string replicas;
    for (const auto& rc : db.replicas)
      replicas += fmt::format("{}{}:{}", replicas.empty() ? "" : ",", rc.host, rc.port);
    r.rows.push_back({name, db.host, num(db.port), db.dbname, std::string(to_string(cfg.pool_mode(db))),
                      num(cfg.pool_size(db)), num(cfg.min_pool_size(db)), num(cfg.max_db_connections(db)), replicas,
                      db.read_write_split ? "true" : "false"});
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

}  // namespace pgopt::pooler::admin
