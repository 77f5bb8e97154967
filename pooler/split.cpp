// Read/write splitting as the running pooler holds it: each database's replica set, one router per
// worker, and the helpers the relay and the poller share.
#include "pooler/split.hpp"

#include <fmt/format.h>

#include "pooler/runtime.hpp"

namespace pgopt::pooler {

bool split_active(const Config& cfg, const DatabaseConfig& db) {
  return db.read_write_split && (!db.replicas.empty() || db.hosts.size() > 1) && cfg.pool_mode(db) == PoolMode::Transaction;
}

routing::ReplicaSetOptions replica_options(const Config& cfg, const DatabaseConfig& db) {
  routing::ReplicaSetOptions o;
  switch (db.load_balance) {
    case LoadBalance::RoundRobin: o.balance = routing::Balance::RoundRobin; break;
    case LoadBalance::LeastConnections: o.balance = routing::Balance::LeastConnections; break;
    case LoadBalance::Random: o.balance = routing::Balance::Random; break;
  }
  if (db.max_replica_lag.kind == LagLimit::Kind::Time) {
    o.max_lag_time = db.max_replica_lag.time;
    o.max_lag_bytes = 0;
  } else {
    o.max_lag_time = std::chrono::milliseconds(0);
    o.max_lag_bytes = db.max_replica_lag.bytes;
  }
  o.ban_time = cfg.pooler.replica_ban_time;
  // A few missed polls are noise; more means the poller cannot vouch for the replica.
  o.stale_after = std::max(std::chrono::milliseconds(2000), 20 * cfg.pooler.lag_poll_interval);
  return o;
}

routing::RouterOptions router_options(const Config& cfg, const DatabaseConfig& db) {
  routing::RouterOptions o;
  o.write_functions = db.write_functions;
  o.read_only_functions = db.read_only_functions;
  o.unknown_functions_are_reads = cfg.pooler.unknown_functions_are_reads;
  return o;
}

std::string node_key(const routing::ReplicaEndpoint& e) { return fmt::format("{}:{}", e.host, e.port); }

namespace {
std::vector<routing::ReplicaEndpoint> endpoints_of(const DatabaseConfig& db) {
  std::vector<routing::ReplicaEndpoint> out;
  for (const auto& r : db.replicas) out.push_back({r.host, r.port, r.weight});
  for (const auto& h : db.hosts) out.push_back({h.host, h.port, 1});  // the primary member reads as "promoted": none
  return out;
}
}  // namespace

std::vector<std::pair<std::string, std::shared_ptr<routing::ReplicaSet>>> Splits::update(const Config& cfg) {
  std::vector<std::pair<std::string, std::shared_ptr<routing::ReplicaSet>>> fresh;
  std::lock_guard lk(mu_);
  std::map<std::string, std::shared_ptr<routing::ReplicaSet>, std::less<>> next;
  for (const auto& [name, db] : cfg.databases) {
    if (!split_active(cfg, db)) continue;
    auto eps = endpoints_of(db);
    auto it = sets_.find(name);
    if (it != sets_.end() && it->second->endpoints() == eps) {
      it->second->set_options(replica_options(cfg, db));
      next.emplace(name, it->second);
      continue;
    }
    auto set = std::make_shared<routing::ReplicaSet>(std::move(eps), replica_options(cfg, db));
    next.emplace(name, set);
    fresh.emplace_back(name, set);
  }
  for (auto& [name, set] : sets_) {
    auto it = next.find(name);
    if (it == next.end() || it->second != set) set->retire();
  }
  sets_ = std::move(next);
  return fresh;
}

std::shared_ptr<routing::ReplicaSet> Splits::find(std::string_view database) const {
  std::lock_guard lk(mu_);
  auto it = sets_.find(database);
  return it == sets_.end() ? nullptr : it->second;
}

void Splits::retire_all() {
  std::lock_guard lk(mu_);
  for (auto& [name, set] : sets_) set->retire();
}

routing::Router& worker_router(Worker& w, const std::shared_ptr<const Config>& cfg, const DatabaseConfig& db) {
  if (w.routers_config != cfg) {  // held, not just compared: a freed config's address can come back
    w.routers.clear();
    w.routers_config = cfg;
  }
  auto it = w.routers.find(db.name);
  if (it == w.routers.end())
    it = w.routers.emplace(db.name, std::make_unique<routing::Router>(router_options(*cfg, db))).first;
  return *it->second;
}

void drop_idle_servers(Runtime& rt, std::string_view database, std::string_view node) {
  for (Pool* p : rt.pools.all()) {
    if (p->database != database || p->node != node) continue;
    for (auto& s : p->take_all_idle()) p->discard(s);
  }
}

std::optional<ServerCredentials> poll_credentials(Runtime& rt, std::string_view database) {
  for (Pool* p : rt.pools.all()) {
    if (p->database != database || !p->node.empty()) continue;
    ServerCredentials c = server_credentials(rt, *p);
    // A SCRAM verifier alone cannot log in until a client of that user has proven its password.
    if (c.scram_server_key && !c.scram_client_key) continue;
    return c;
  }
  return std::nullopt;
}

}  // namespace pgopt::pooler
