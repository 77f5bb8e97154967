// Read/write splitting through the pooler (issue 5) on the real primary + replica: where each kind of
// statement runs, transactions, hints, SET pgopt.route, an unreachable replica, session mode.
#include <array>

#include "split_harness.hpp"

namespace pgopt::test {
namespace {

using split::primary_port;
using split::read_port;
using split::replica_port;
using split::row;

class Split : public split::ReplicaFixture {
 protected:
  static void SetUpTestSuite() {
    Conn d = direct();
    ok(d.get(),
       "CREATE TABLE IF NOT EXISTS split_t (id bigserial PRIMARY KEY, v text);"
       "CREATE SEQUENCE IF NOT EXISTS split_seq;"
       // Writes, and is in no function list: the classifier cannot know, so it must go to the primary.
       "CREATE OR REPLACE FUNCTION split_bump() RETURNS int LANGUAGE plpgsql AS "
       "$$ BEGIN INSERT INTO split_t (v) VALUES ('bumped'); RETURN inet_server_port(); END $$;"
       "CREATE OR REPLACE FUNCTION split_where() RETURNS int LANGUAGE sql STABLE AS 'SELECT inet_server_port()';"
       "CREATE OR REPLACE FUNCTION split_where_too() RETURNS int LANGUAGE sql STABLE AS 'SELECT inet_server_port()'");
    // Reads of these on the replica need it to have replayed them (the lag limit allows a second).
    ASSERT_TRUE(split::replica_caught_up());
  }

  // A pooler with splitting on and a client of it; false unless the client's reads reach the replica.
  bool start(const split::SplitConfig& cfg = {}) {
    client_.reset();
    pooler_ = std::make_unique<Pooler>(split::options(cfg));
    client_ = connect_ok(pooler_->conninfo());
    return split::reads_reach_replica(client_.get());
  }
  std::string log() const { return pooler_ ? pooler_->log() : ""; }
  // The routing rules alone: with read-your-writes on, every read right after a statement on the
  // primary (even a read-only transaction: the pooler cannot know it wrote nothing) goes to the
  // primary too until a poll sees the replica caught up. split_lag_test.cpp tests that part.
  static split::SplitConfig routing_only() {
    split::SplitConfig cfg;
    cfg.read_your_writes = false;
    return cfg;
  }
  PGconn* c() { return client_.get(); }

  std::unique_ptr<Pooler> pooler_;
  Conn client_;
};

TEST_F(Split, ReadsRunOnTheReplica) {
  ASSERT_TRUE(start()) << log();
  for (int i = 0; i < 20; ++i) {
    auto r = row(c(), "SELECT pg_is_in_recovery(), inet_server_port()");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0], "t");
    EXPECT_EQ(std::atoi(r[1].c_str()), replica_port());
  }
  EXPECT_EQ(value(c(), "SELECT count(*) >= 0 FROM split_t"), "t");
  // A multi-statement string of reads is one read.
  EXPECT_EQ(value(c(), "SELECT 1; SELECT inet_server_port()"), std::to_string(replica_port()));
}

// A read that may still be retried has its replies held until its ReadyForQuery, up to 64 kB
// (client_session.cpp); results around and far past that bound arrive whole and in order, from the
// replica, in both protocols, and so does a COPY ... TO STDOUT.
TEST_F(Split, LargeReplicaResultsArriveWhole) {
  ASSERT_TRUE(start()) << log();
  for (int rows : {10, 600, 700, 5000, 200000}) {  // ~100 bytes a row: below, near and past 64 kB
    const std::string sql = "SELECT g, repeat('r', 80), inet_server_port() FROM generate_series(1, " +
                            std::to_string(rows) + ") g";
    Result r = exec(c(), sql);
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c());
    ASSERT_EQ(PQntuples(r.get()), rows);
    for (int i : {0, rows / 2, rows - 1}) EXPECT_EQ(std::atoi(PQgetvalue(r.get(), i, 0)), i + 1);
    EXPECT_EQ(std::atoi(PQgetvalue(r.get(), rows - 1, 2)), replica_port());
    Result p(PQexecParams(c(), (sql + " WHERE g > $1").c_str(), 1, nullptr, std::array<const char*, 1>{"0"}.data(),
                          nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(p.get()), PGRES_TUPLES_OK) << PQerrorMessage(c());
    EXPECT_EQ(PQntuples(p.get()), rows);
    EXPECT_EQ(std::atoi(PQgetvalue(p.get(), rows - 1, 0)), rows);
  }
  Result copy = exec(c(), "COPY (SELECT g FROM generate_series(1, 50000) g) TO STDOUT");
  ASSERT_EQ(PQresultStatus(copy.get()), PGRES_COPY_OUT) << PQerrorMessage(c());
  long lines = 0, sum = 0;
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(c(), &buf, 0);
    if (n < 0) break;
    ++lines;
    sum += std::atol(buf);
    PQfreemem(buf);
  }
  Result end(PQgetResult(c()));
  EXPECT_EQ(PQresultStatus(end.get()), PGRES_COMMAND_OK) << PQerrorMessage(c());
  EXPECT_EQ(lines, 50000);
  EXPECT_EQ(sum, 50000L * 50001 / 2);
  EXPECT_EQ(split::read_port(c()), replica_port());
}

TEST_F(Split, WritesInDisguiseRunOnThePrimary) {
  ASSERT_TRUE(start(routing_only())) << log();
  const std::string p = std::to_string(primary_port());
  EXPECT_EQ(value(c(), "INSERT INTO split_t (v) VALUES ('w1') RETURNING inet_server_port()"), p);
  EXPECT_EQ(value(c(), "UPDATE split_t SET v = 'w2' WHERE id = (SELECT max(id) FROM split_t) RETURNING inet_server_port()"), p);
  EXPECT_EQ(value(c(), "DELETE FROM split_t WHERE v = 'no such value' RETURNING 1"), "");
  ok(c(), "DROP TABLE IF EXISTS split_ddl; CREATE TABLE split_ddl (i int)");  // a replica refuses DDL (25006)
  ok(c(), "DROP TABLE split_ddl");
  auto r = row(c(), "SELECT nextval('split_seq'), inet_server_port()");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1], p);
  EXPECT_EQ(value(c(), "SELECT inet_server_port() FROM split_t LIMIT 1 FOR UPDATE"), p);
  EXPECT_EQ(value(c(), "SELECT inet_server_port() FROM split_t LIMIT 1 FOR SHARE"), p);
  EXPECT_EQ(value(c(), "WITH x AS (UPDATE split_t SET v = v WHERE id = (SELECT max(id) FROM split_t) RETURNING *) "
                       "SELECT inet_server_port() FROM x"),
            p);
  EXPECT_EQ(value(c(), "SELECT split_bump()"), p);  // a plpgsql function that writes, in no list
  r = row(c(), "SELECT set_config('x.y', '1', false), inet_server_port()");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1], p);
  r = row(c(), "SELECT pg_advisory_lock(4242), pg_advisory_unlock(4242), inet_server_port()");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1], "t");
  EXPECT_EQ(r[2], p);
  const std::string tag = "do-" + std::to_string(::getpid());
  ok(c(), "DO $$ BEGIN INSERT INTO split_t (v) VALUES ('" + tag + "'); END $$");  // a replica refuses it
  Conn d = direct();
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM split_t WHERE v = '" + tag + "'"), "1");
  // Reads still go to the replica afterwards.
  EXPECT_EQ(read_port(c()), replica_port());
}

TEST_F(Split, SyntaxErrorComesFromThePrimaryAndTheSessionGoesOn) {
  ASSERT_TRUE(start(routing_only())) << log();
  Result r = exec(c(), "SELEC inet_server_port()");
  EXPECT_EQ(sqlstate(r.get()), "42601");
  EXPECT_NE(std::string(PQresultErrorMessage(r.get())).find("syntax error at or near \"SELEC\""), std::string::npos)
      << PQresultErrorMessage(r.get());
  EXPECT_EQ(PQstatus(c()), CONNECTION_OK);
  EXPECT_EQ(read_port(c()), replica_port());
  EXPECT_EQ(error_of(c(), "INSERT INTO split_t (v) VALUES ("), "42601");
  EXPECT_EQ(value(c(), "INSERT INTO split_t (v) VALUES ('after') RETURNING inet_server_port()"),
            std::to_string(primary_port()));
}

TEST_F(Split, ExtendedProtocolReadsOnReplicaWritesOnPrimary) {
  ASSERT_TRUE(start(routing_only())) << log();
  const char* params[] = {"7"};
  for (int i = 0; i < 5; ++i) {
    Result r(PQexecParams(c(), "SELECT inet_server_port(), $1::int", 1, nullptr, params, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c());
    EXPECT_EQ(std::atoi(PQgetvalue(r.get(), 0, 0)), replica_port());
    Result w(PQexecParams(c(), "INSERT INTO split_t (v) VALUES ($1) RETURNING inet_server_port()", 1, nullptr, params,
                          nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(w.get()), PGRES_TUPLES_OK) << PQerrorMessage(c());
    EXPECT_EQ(std::atoi(PQgetvalue(w.get(), 0, 0)), primary_port());
  }
  Result pr(PQprepare(c(), "read_it", "SELECT inet_server_port(), $1::int + 1", 1, nullptr));
  ASSERT_EQ(PQresultStatus(pr.get()), PGRES_COMMAND_OK) << PQerrorMessage(c());
  Result pw(PQprepare(c(), "write_it", "INSERT INTO split_t (v) VALUES ($1) RETURNING inet_server_port()", 1, nullptr));
  ASSERT_EQ(PQresultStatus(pw.get()), PGRES_COMMAND_OK) << PQerrorMessage(c());
  for (int i = 0; i < 5; ++i) {
    Result r(PQexecPrepared(c(), "read_it", 1, params, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c());
    EXPECT_EQ(std::atoi(PQgetvalue(r.get(), 0, 0)), replica_port());
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "8");
    Result w(PQexecPrepared(c(), "write_it", 1, params, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(w.get()), PGRES_TUPLES_OK) << PQerrorMessage(c());
    EXPECT_EQ(std::atoi(PQgetvalue(w.get(), 0, 0)), primary_port());
  }
  // A statement that cannot be sent to a replica fails there like anywhere else: the error is the primary's.
  Result bad(PQexecParams(c(), "SELEC $1", 1, nullptr, params, nullptr, nullptr, 0));
  EXPECT_EQ(sqlstate(bad.get()), "42601");
  EXPECT_EQ(read_port(c()), replica_port());
}

// Runs BEGIN-opening `begin` (one or more statements, each its own PQexec), then two reads and a
// COMMIT; returns the read's port if both reads ran on one backend, else 0.
int transaction_port(PGconn* c, const std::vector<std::string>& begin) {
  for (const auto& s : begin) ok(c, s);
  auto first = row(c, "SELECT inet_server_port(), pg_backend_pid()");
  auto second = row(c, "SELECT inet_server_port(), pg_backend_pid() FROM split_t LIMIT 1");
  ok(c, "COMMIT");
  if (first.size() != 2 || second.size() != 2) return 0;
  EXPECT_EQ(first, second) << "a transaction moved between servers";
  return first == second ? std::atoi(first[0].c_str()) : 0;
}

TEST_F(Split, ReadOnlyTransactionsOnTheReplicaOthersOnThePrimary) {
  ASSERT_TRUE(start(routing_only())) << log();
  EXPECT_EQ(transaction_port(c(), {"BEGIN READ ONLY"}), replica_port());
  EXPECT_EQ(transaction_port(c(), {"START TRANSACTION READ ONLY"}), replica_port());
  EXPECT_EQ(transaction_port(c(), {"BEGIN"}), primary_port());
  EXPECT_EQ(transaction_port(c(), {"BEGIN", "SET TRANSACTION READ ONLY"}), replica_port());
  EXPECT_EQ(transaction_port(c(), {"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"}), replica_port());
  EXPECT_EQ(transaction_port(c(), {"BEGIN READ ONLY ISOLATION LEVEL SERIALIZABLE"}), primary_port());
  // A read-write transaction's reads and writes share its server.
  ok(c(), "BEGIN");
  auto a = row(c(), "SELECT inet_server_port(), pg_backend_pid()");
  auto b = row(c(), "INSERT INTO split_t (v) VALUES ('tx') RETURNING inet_server_port(), pg_backend_pid()");
  auto d = row(c(), "SELECT inet_server_port(), pg_backend_pid()");
  ok(c(), "COMMIT");
  EXPECT_EQ(a, b);
  EXPECT_EQ(b, d);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(std::atoi(a[0].c_str()), primary_port());
  // A write in a read-only transaction fails on the replica and the transaction ends normally.
  ok(c(), "BEGIN READ ONLY");
  EXPECT_EQ(error_of(c(), "INSERT INTO split_t (v) VALUES ('ro')"), "25006");
  ok(c(), "ROLLBACK");
  EXPECT_EQ(PQtransactionStatus(c()), PQTRANS_IDLE);
  // A string that opens a transaction places it the same way.
  EXPECT_EQ(split::port_of(c(), "BEGIN READ ONLY; SELECT inet_server_port()"), replica_port());
  EXPECT_EQ(split::port_of(c(), "SELECT inet_server_port()"), replica_port());  // still inside it
  ok(c(), "COMMIT");
  EXPECT_EQ(split::port_of(c(), "BEGIN; SELECT inet_server_port()"), primary_port());
  ok(c(), "COMMIT");
}

TEST_F(Split, HintsChooseTheServerAndNeverReachIt) {
  ASSERT_TRUE(start(routing_only())) << log();
  EXPECT_EQ(split::port_of(c(), "/* pgopt:primary */ SELECT inet_server_port()"), primary_port());
  EXPECT_EQ(split::port_of(c(), "/*pgopt:primary*/SELECT inet_server_port()"), primary_port());
  EXPECT_EQ(split::port_of(c(), "/* pgopt:replica */ SELECT inet_server_port()"), replica_port());
  EXPECT_EQ(split::port_of(c(), "/* PGOPT:REPLICA */ SELECT inet_server_port()"), replica_port());
  // A hint on BEGIN places the whole transaction.
  EXPECT_EQ(transaction_port(c(), {"/* pgopt:primary */ BEGIN READ ONLY"}), primary_port());
  EXPECT_EQ(transaction_port(c(), {"/* pgopt:replica */ BEGIN"}), replica_port());

  const std::string tag = "hinted-" + std::to_string(::getpid());
  Result r = exec(c(), "/* pgopt:replica */ INSERT INTO split_t (v) VALUES ('" + tag + "')");
  EXPECT_EQ(sqlstate(r.get()), "25006") << PQresultErrorMessage(r.get());
  Conn d = direct();
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM split_t WHERE v = '" + tag + "'"), "0");
  EXPECT_EQ(PQstatus(c()), CONNECTION_OK);
  EXPECT_EQ(read_port(c()), replica_port());

  EXPECT_EQ(error_of(c(), "/* pgopt:bogus */ SELECT 1"), "22023");
  EXPECT_EQ(error_of(c(), "/* pgopt:primary */ /* pgopt:replica */ SELECT 1"), "22023");
  EXPECT_EQ(value(c(), "SELECT 'still fine'"), "still fine");

  for (const std::string hint : {"/* pgopt:replica */", "/* pgopt:primary */"}) {
    std::string seen = value(c(), hint + " SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()");
    EXPECT_NE(seen.find("SELECT query FROM pg_stat_activity"), std::string::npos) << seen;
    EXPECT_EQ(seen.find("pgopt"), std::string::npos) << "the hint reached the server: " << seen;
  }
  // Inside a transaction a hint is stripped and ignored.
  ok(c(), "BEGIN");
  auto in_tx = row(c(), "/* pgopt:replica */ SELECT inet_server_port(), query FROM pg_stat_activity WHERE pid = pg_backend_pid()");
  ok(c(), "COMMIT");
  ASSERT_EQ(in_tx.size(), 2u);
  EXPECT_EQ(std::atoi(in_tx[0].c_str()), primary_port());
  EXPECT_EQ(in_tx[1].find("pgopt"), std::string::npos) << in_tx[1];
  // Only a leading block comment is a hint.
  EXPECT_EQ(split::port_of(c(), "SELECT inet_server_port() /* pgopt:primary */"), replica_port());
}

TEST_F(Split, RouteSettingForcesTheServer) {
  ASSERT_TRUE(start(routing_only())) << log();
  ok(c(), "SET pgopt.route = 'primary'");
  EXPECT_EQ(read_port(c()), primary_port());
  EXPECT_EQ(transaction_port(c(), {"BEGIN READ ONLY"}), primary_port());
  Result show = exec(c(), "SHOW pgopt.route");
  ASSERT_EQ(PQresultStatus(show.get()), PGRES_TUPLES_OK) << PQerrorMessage(c());
  EXPECT_EQ(PQntuples(show.get()), 1);
  EXPECT_EQ(PQnfields(show.get()), 1);
  EXPECT_STREQ(PQgetvalue(show.get(), 0, 0), "primary");

  ok(c(), "SET pgopt.route TO 'replica'");
  EXPECT_EQ(value(c(), "SHOW pgopt.route"), "replica");
  EXPECT_EQ(read_port(c()), replica_port());
  EXPECT_EQ(transaction_port(c(), {"BEGIN"}), replica_port());
  EXPECT_EQ(error_of(c(), "INSERT INTO split_t (v) VALUES ('forced')"), "25006");
  EXPECT_EQ(split::port_of(c(), "/* pgopt:primary */ SELECT inet_server_port()"), primary_port());  // a hint wins

  ok(c(), "RESET pgopt.route");
  EXPECT_EQ(value(c(), "SHOW pgopt.route"), "auto");
  EXPECT_EQ(split::port_of(c(), "INSERT INTO split_t (v) VALUES ('auto') RETURNING inet_server_port()"), primary_port());

  ok(c(), "SET pgopt.route = 'primary'");
  ok(c(), "DISCARD ALL");
  EXPECT_EQ(value(c(), "SHOW pgopt.route"), "auto");
  ok(c(), "SET SESSION pgopt.route = 'primary'");
  ok(c(), "SET pgopt.route TO DEFAULT");
  EXPECT_EQ(value(c(), "SHOW pgopt.route"), "auto");

  EXPECT_EQ(error_of(c(), "SET pgopt.route = 'nonsense'"), "22023");
  EXPECT_EQ(error_of(c(), "SET LOCAL pgopt.route = 'replica'"), "0A000");
  EXPECT_EQ(value(c(), "SHOW pgopt.route"), "auto");
  // Not transactional: a rollback keeps it.
  ok(c(), "BEGIN");
  ok(c(), "SET pgopt.route = 'primary'");
  ok(c(), "ROLLBACK");
  EXPECT_EQ(value(c(), "SHOW pgopt.route"), "primary");
  EXPECT_EQ(read_port(c()), primary_port());
  // Each client has its own.
  Conn other = connect_ok(pooler_->conninfo());
  EXPECT_EQ(value(other.get(), "SHOW pgopt.route"), "auto");
}

TEST_F(Split, FunctionListsDecideCallsOfUserFunctions) {
  split::SplitConfig cfg;
  cfg.db_extra = "read_only_functions = [\"split_where\"]\n";
  ASSERT_TRUE(start(cfg)) << log();
  EXPECT_EQ(split::port_of(c(), "SELECT split_where()"), replica_port());
  EXPECT_EQ(split::port_of(c(), "SELECT split_where_too()"), primary_port());  // unlisted: might write

  cfg.db_extra = "write_functions = [\"split_where_too\"]\n";
  cfg.pooler_extra = "unknown_functions_are_reads = true\n";
  ASSERT_TRUE(start(cfg)) << log();
  EXPECT_EQ(split::port_of(c(), "SELECT split_where()"), replica_port());
  EXPECT_EQ(split::port_of(c(), "SELECT split_where_too()"), primary_port());
}

TEST_F(Split, UnreachableReplicaFallsBackToThePrimary) {
  split::SplitConfig cfg;
  cfg.replica = dead_port();
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(read_port(c.get()), primary_port()) << p.log();
    // time must pass: reads spread over 1 s, across the pooler's reconnect attempts to the replica
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(transaction_port(c.get(), {"BEGIN READ ONLY"}), primary_port());
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK);
}

TEST_F(Split, UnreachableReplicaWithFallbackErrorFailsReadsOnly) {
  split::SplitConfig cfg;
  cfg.replica = dead_port();
  cfg.fallback = "error";
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  for (int i = 0; i < 3; ++i) {
    Result r = exec(c.get(), "SELECT inet_server_port()");
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);  // libpq's name for an ERROR
    const char* severity = PQresultErrorField(r.get(), PG_DIAG_SEVERITY_NONLOCALIZED);
    EXPECT_STREQ(severity ? severity : "", "ERROR");
    EXPECT_FALSE(sqlstate(r.get()).empty());
    EXPECT_NE(std::string(PQresultErrorMessage(r.get())).find("replica"), std::string::npos)
        << "not a clear message: " << PQresultErrorMessage(r.get());
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK);
    EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_IDLE);
    EXPECT_EQ(split::port_of(c.get(), "INSERT INTO split_t (v) VALUES ('fallback') RETURNING inet_server_port()"),
              primary_port());
  }
  EXPECT_EQ(split::port_of(c.get(), "/* pgopt:primary */ SELECT inet_server_port()"), primary_port());
  EXPECT_EQ(transaction_port(c.get(), {"BEGIN"}), primary_port());
}

TEST_F(Split, SessionModeRunsEverythingOnThePrimary) {
  split::SplitConfig cfg;
  cfg.pool_mode = "session";
  Pooler p(split::options(cfg));
  ASSERT_TRUE(p.running()) << p.log();
  Conn c = connect_ok(p.conninfo());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(read_port(c.get()), primary_port());
    // time must pass: a negative; reads spread over 0.5 s, after the replica is up, stay on the primary
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(transaction_port(c.get(), {"BEGIN READ ONLY"}), primary_port());
  EXPECT_EQ(split::port_of(c.get(), "INSERT INTO split_t (v) VALUES ('session') RETURNING inet_server_port()"),
            primary_port());
  EXPECT_EQ(split::port_of(c.get(), "/* pgopt:replica */ SELECT inet_server_port()"), primary_port());
}

TEST_F(Split, SplitOffRunsEverythingOnThePrimary) {
  split::SplitConfig cfg;
  cfg.split = false;
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(read_port(c.get()), primary_port());
    // time must pass: a negative; reads spread over 0.5 s, after the replica is up, stay on the primary
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(transaction_port(c.get(), {"BEGIN READ ONLY"}), primary_port());
}

}  // namespace
}  // namespace pgopt::test
