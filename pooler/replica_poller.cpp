// The replica poller: WAL positions of the primary and each replica every lag_poll_interval, for
// the lag limit and read-your-writes, and the health checks that ban and readmit replicas.
#include <fmt/format.h>

#include <algorithm>

#include "pooler/log.hpp"
#include "pooler/runtime.hpp"
#include "pooler/split.hpp"

namespace pgopt::pooler {

namespace {

using routing::SteadyClock;

// One query on a kept connection, (re)connecting first when needed, all within `timeout`: a
// server that hangs must not stall the positions of the others for long.
awaitable<std::optional<InternalResult>> poll_query(Runtime& rt, ServerPtr& conn, const ServerTarget& target,
                                                    const ServerCredentials& creds, const std::string& sql,
                                                    std::chrono::milliseconds timeout, std::string& error,
                                                    bool& timed_out) {
  timed_out = false;
  if (!conn) {
    auto lr = co_await connect_server(target, creds, timeout, rt.next_server_id.fetch_add(1, std::memory_order_relaxed));
    if (!lr.server) {
      error = lr.error;
      co_return std::nullopt;
    }
    conn = std::move(lr.server);
  }
  auto r = co_await run_internal_within(conn, sql, timeout, timed_out);
  if (r.broken || !r.ok || r.row.empty()) {
    error = r.error.empty() ? "no result" : r.error;
    conn->close();
    conn.reset();
    co_return std::nullopt;
  }
  co_return r;
}

// The poller of one database with replicas: its kept connections and what it last logged.
struct ReplicaPoller {
  Runtime& rt;
  std::string database;
  std::shared_ptr<routing::ReplicaSet> set;
  ServerPtr primary;
  std::vector<ServerPtr> conns;
  std::vector<bool> down;  // per replica: failed (or banned) since it last answered
  bool primary_down = false;

  // The primary's WAL insert position for this round, from the member the failover prober elected
  // for a multi-host database (none: no position this round, and read-your-writes reads go to the
  // primary meanwhile).
  awaitable<void> poll_primary(const DatabaseConfig& db, const ServerCredentials& creds, uint64_t round,
                               std::chrono::milliseconds timeout) {
    std::string error;
    bool timed_out = false;
    const auto primary_at = primary_target(rt, db);
    if (primary && primary_at && (primary->target.host != primary_at->host || primary->target.port != primary_at->port)) {
      primary->close();
      primary.reset();
    }
    std::optional<InternalResult> pr;
    if (primary_at)
      pr = co_await poll_query(rt, primary, *primary_at, creds, "SELECT pg_catalog.pg_current_wal_insert_lsn()",
                               timeout, error, timed_out);
    std::optional<uint64_t> head = pr && (*pr).row[0] ? routing::parse_lsn(*(*pr).row[0]) : std::nullopt;
    if (head) {
      set->primary_position(round, *head, SteadyClock::now());
      if (primary_down) log::info("database {}: the primary's WAL position is readable again", database);
      primary_down = false;
    } else if (!primary_down) {
      // Replicas still get reads within their health; read-your-writes sends reads to the primary.
      log::warn("database {}: cannot read the primary's WAL position ({}:{}): {}", database,
                primary_at ? primary_at->host : db.host, primary_at ? primary_at->port : db.port,
                error.empty() ? "unexpected result" : error);
      primary_down = true;
    }
  }

  // Replica `i`'s health and replay position: banned when it fails, readmitted when it answers.
  awaitable<void> poll_replica(size_t i, const Config& cfg, const DatabaseConfig& db, const ServerCredentials& creds,
                               std::chrono::milliseconds timeout) {
    const auto& ep = set->endpoints()[i];
    if (!set->due(int(i), SteadyClock::now())) {
      down[i] = true;  // banned by a worker: pooled connections are suspect when it returns
      if (conns[i]) conns[i]->close();
      conns[i].reset();
      co_return;
    }
    ServerTarget target{ep.host, ep.port, db.dbname.empty() ? db.name : db.dbname};
    std::string error;
    bool timed_out = false;
    auto rr = co_await poll_query(rt, conns[i], target, creds,
                                  "SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.pg_last_wal_replay_lsn()", timeout,
                                  error, timed_out);
    std::optional<uint64_t> lsn;
    bool in_recovery = false;
    if (rr && (*rr).row.size() == 2 && (*rr).row[0]) {
      in_recovery = *(*rr).row[0] == "t";
      lsn = (*rr).row[1] ? routing::parse_lsn(*(*rr).row[1]) : std::optional<uint64_t>(0);
    }
    if (!lsn && timed_out) {
      // Slow, not down (a loaded machine, a long replay): its last position ages out after
      // stale_after and reads stop until a poll answers; a ban would also drop its pooled
      // connections and keep it out for replica_ban_time.
      log::debug("database {}: replica {}:{} did not answer a poll within {} ms", database, ep.host, ep.port,
                 timeout.count());
      co_return;
    }
    if (!lsn) {
      const bool first = set->ban(int(i), SteadyClock::now()) && !down[i];
      const std::string why = error.empty() ? std::string("unexpected result") : error;
      // Once per outage at warning level; the rechecks after each ban only at debug.
      if (first)
        log::warn("database {}: replica {}:{} failed its health check ({}); no reads for {} ms, then rechecked",
                  database, ep.host, ep.port, why, cfg.pooler.replica_ban_time.count());
      else
        log::debug("database {}: replica {}:{} still failing ({})", database, ep.host, ep.port, why);
      drop_idle_servers(rt, database, node_key(ep));
      down[i] = true;
      co_return;
    }
    // A member of `hosts` out of recovery is its primary (the failover prober's business), not news.
    const bool member = std::any_of(db.hosts.begin(), db.hosts.end(),
                                    [&](const HostConfig& h) { return h.host == ep.host && h.port == ep.port; });
    if (!in_recovery && !member && !set->status(int(i), SteadyClock::now()).promoted)
      log::error("database {}: replica {}:{} is not in recovery (promoted?): it gets no reads", database, ep.host,
                 ep.port);
    set->replica_position(int(i), in_recovery, *lsn, SteadyClock::now());
    if (down[i]) {
      // Connections pooled before the failure point at a server that has since restarted.
      drop_idle_servers(rt, database, node_key(ep));
      log::info("database {}: replica {}:{} is healthy again", database, ep.host, ep.port);
      down[i] = false;
    }
  }

  awaitable<void> run() {
    asio::steady_timer tick(co_await asio::this_coro::executor);
    conns.resize(set->size());
    down.assign(set->size(), false);
    bool waiting_logged = false;
    while (!set->retired() && !rt.shutting_down) {
      auto cfg = rt.config();
      const DatabaseConfig* db = cfg->find_database(database);
      if (!db) break;
      tick.expires_after(cfg->pooler.lag_poll_interval);
      co_await tick.async_wait(nothrow);
      if (set->retired() || rt.shutting_down) break;
      auto creds = poll_credentials(rt, database);
      if (!creds) {
        if (!waiting_logged) log::debug("database {}: replica polling waits for a client to log in", database);
        waiting_logged = true;
        continue;
      }
      const auto timeout = std::min(cfg->pooler.server_connect_timeout,
                                    std::max(std::chrono::milliseconds(1000), 20 * cfg->pooler.lag_poll_interval));
      const uint64_t round = set->begin_round();
      co_await poll_primary(*db, *creds, round, timeout);
      for (size_t i = 0; i < set->size(); ++i) co_await poll_replica(i, *cfg, *db, *creds, timeout);
    }
    if (primary) primary->close();
    for (auto& c : conns)
      if (c) c->close();
  }
};

}  // namespace

awaitable<void> poll_replicas(Runtime& rt, std::string database, std::shared_ptr<routing::ReplicaSet> set) {
  ReplicaPoller p{rt, std::move(database), std::move(set), {}, {}, {}, false};
  co_await p.run();
}

}  // namespace pgopt::pooler
