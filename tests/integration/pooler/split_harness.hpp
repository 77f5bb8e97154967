// Read/write splitting tests' shared pieces: a pooler config with the cluster's replica, where a
// statement ran, and putting the shared replica back the way every test expects to find it.
#pragma once

#include "harness.hpp"

namespace pgopt::test::split {

inline int primary_port() { return ClusterEnv::instance().primary_port; }
inline int replica_port() { return ClusterEnv::instance().replica_port; }

// The cluster's dir as cluster.sh's pgctl/psql subcommands want it.
inline std::string cluster_dir() { return ClusterEnv::instance().get("PGOPT_CLUSTER_DIR"); }

struct SplitConfig {
  std::string pool_mode = "transaction";
  int pool_size = 4;
  bool split = true;
  int replica = 0;  // the replica's port; 0: the cluster's replica
  std::string max_lag = "5s";
  bool read_your_writes = true;
  std::string fallback = "primary";
  std::string ban_time = "1s";
  std::string lag_poll = "50ms";
  std::string pooler_extra;  // more [pooler] lines
  std::string db_extra;      // more [databases.pgopt_test] lines
};

inline PoolerOptions options(const SplitConfig& s) {
  PoolerOptions o;
  o.pool_mode = s.pool_mode;
  o.pool_size = s.pool_size;
  o.pooler_extra = "lag_poll_interval = \"" + s.lag_poll + "\"\nreplica_ban_time = \"" + s.ban_time +
                   "\"\nreplica_fallback = \"" + s.fallback + "\"\n" + s.pooler_extra;
  o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " + std::to_string(primary_port()) +
                "\nreplicas = [ { host = \"127.0.0.1\", port = " + std::to_string(s.replica ? s.replica : replica_port()) +
                ", weight = 1 } ]\nread_write_split = " + (s.split ? "true" : "false") +
                "\nload_balance = \"least_connections\"\nmax_replica_lag = \"" + s.max_lag +
                "\"\nread_your_writes = " + (s.read_your_writes ? "true" : "false") + "\n" + s.db_extra + "\n";
  return o;
}

// The first row of a result, every column as text; empty on an error (which fails the test).
inline std::vector<std::string> row(PGconn* c, const std::string& sql) {
  Result r = exec(c, sql);
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << sql << ": " << PQerrorMessage(c);
  std::vector<std::string> out;
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return out;
  for (int i = 0; i < PQnfields(r.get()); ++i) out.push_back(PQgetvalue(r.get(), 0, i));
  return out;
}

// The port of the server that ran `sql`, whose first column is inet_server_port(); 0 on an error.
inline int port_of(PGconn* c, const std::string& sql) { return std::atoi(value(c, sql).c_str()); }

// Where a plain read runs now.
inline int read_port(PGconn* c) { return port_of(c, "SELECT inet_server_port()"); }

// A fresh pooler learns the replica's position from its first poll, after the first client logged
// in; until then reads go to the primary. Waits until a read runs on the replica.
inline bool reads_reach_replica(PGconn* c, std::chrono::milliseconds patience = std::chrono::seconds(10)) {
  return eventually([&] { return read_port(c) == replica_port(); }, patience);
}

// A query that must not fail the test when the server is down: nullopt then.
inline std::optional<std::string> try_value(const std::string& conninfo, const std::string& sql) {
  Conn c = connect(conninfo + " connect_timeout=3");
  if (PQstatus(c.get()) != CONNECTION_OK) return std::nullopt;
  Result r = exec(c.get(), sql);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK && PQresultStatus(r.get()) != PGRES_COMMAND_OK) return std::nullopt;
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return std::string();
  return std::string(PQgetvalue(r.get(), 0, 0));
}

inline std::string node_conninfo(int port, const std::string& db = "pgopt_test") {
  return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + db + " user=postgres";
}

inline Conn replica_direct(const std::string& db = "pgopt_test") { return connect_ok(node_conninfo(replica_port(), db)); }

// The replica streams from the primary and has replayed everything the primary wrote before the call.
// The insert position, not pg_current_wal_lsn(): the test cluster commits asynchronously, so a commit
// record can still sit in the WAL buffers, past the write position (a CREATE TABLE that the replica
// had "caught up" with was missing there in CI).
inline bool replica_caught_up(std::chrono::milliseconds patience = std::chrono::seconds(60)) {
  auto lsn = try_value(node_conninfo(primary_port(), "postgres"), "SELECT pg_current_wal_insert_lsn()");
  if (!lsn) return false;
  return eventually(
      [&] {
        auto streaming = try_value(node_conninfo(primary_port(), "postgres"),
                                   "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'");
        if (streaming != "1") return false;
        return try_value(node_conninfo(replica_port(), "postgres"),
                         "SELECT pg_last_wal_replay_lsn() >= '" + *lsn + "'::pg_lsn") == "t";
      },
      patience);
}

// Undoes whatever a test did to the shared replica (stopped, replay paused, replay delayed) and
// waits until it streams and has caught up. Safe to call in any state; returns false if it cannot.
inline bool restore_replica() {
  const auto& env = ClusterEnv::instance();
  if (!port_open(replica_port())) env.cluster("pgctl " + cluster_dir() + " replica start -w -t 60 >/dev/null");
  const std::string replica = node_conninfo(replica_port(), "postgres");
  bool ok = eventually([&] { return try_value(replica, "SELECT 1").has_value(); }, std::chrono::seconds(30));
  if (try_value(replica, "SHOW recovery_min_apply_delay") != "0") {
    ok = try_value(replica, "ALTER SYSTEM RESET recovery_min_apply_delay").has_value() && ok;
    ok = try_value(replica, "SELECT pg_reload_conf()").has_value() && ok;
    ok = eventually([&] { return try_value(replica, "SHOW recovery_min_apply_delay") == "0"; }) && ok;
  }
  if (try_value(replica, "SELECT pg_get_wal_replay_pause_state()") != "not paused")
    ok = try_value(replica, "SELECT pg_wal_replay_resume()").has_value() && ok;
  return replica_caught_up() && ok;
}

// Base of the splitting tests: the shared replica streams and has caught up before each test and
// again after it, whatever the test did to it (CI runs the integration tests one at a time on it).
class ReplicaFixture : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(restore_replica()) << "the replica is not streaming"; }
  void TearDown() override { EXPECT_TRUE(restore_replica()) << "could not restore the replica"; }
};

}  // namespace pgopt::test::split
