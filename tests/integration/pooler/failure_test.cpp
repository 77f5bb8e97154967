// Failures on either side: a client that vanishes mid-transaction or mid-query, a server killed
// under a query, and a primary restart. Nothing half-finished may reach another client.
#include "raw_client.hpp"
#include "waits.hpp"

#include <sys/socket.h>

namespace pgopt::test {
namespace {

void abort_socket(int fd) {
  linger l{1, 0};  // RST instead of FIN, like a killed process on another host
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::shutdown(fd, SHUT_RDWR);
}

class Failure : public ::testing::TestWithParam<std::string> {};

TEST_P(Failure, ClientKilledMidTransactionLeavesNoLockAndNoTransaction) {
  Conn d = direct();
  ok(d.get(), "CREATE TABLE IF NOT EXISTS lock_target (x int)");
  PoolerOptions o;
  o.pool_mode = GetParam();
  o.pool_size = 1;
  Pooler p(o);
  {
    RawClient c(p.port);
    ASSERT_TRUE(c.login());
    std::string q = "BEGIN; INSERT INTO lock_target VALUES (1); LOCK TABLE lock_target IN ACCESS EXCLUSIVE MODE;";
    ASSERT_TRUE(c.send_message('Q', q + '\0'));
    auto msgs = c.read_until_ready_or_error();
    ASSERT_FALSE(msgs.empty());
    ASSERT_EQ(msgs.back().type, 'Z');
    ASSERT_EQ(msgs.back().body, "T");  // inside the transaction
    abort_socket(c.fd());
  }
  EXPECT_TRUE(eventually([&] {
    return value(d.get(), "SELECT count(*) FROM pg_locks WHERE relation = 'lock_target'::regclass") == "0";
  })) << p.log();
  // The next client (same single server) starts clean: no open transaction, the insert is gone.
  Conn next = connect_ok(p.conninfo());
  EXPECT_EQ(value(next.get(), "SELECT count(*) FROM lock_target"), "0");
  ok(next.get(), "BEGIN");  // would warn "already a transaction in progress" on a leaked one
  EXPECT_EQ(value(next.get(), "SELECT count(*) FROM pg_locks WHERE relation = 'lock_target'::regclass"), "0");
  ok(next.get(), "COMMIT");
}

TEST_P(Failure, ClientKilledMidQueryStopsTheQuery) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  o.pool_size = 2;
  Pooler p(o);
  {
    RawClient c(p.port);
    ASSERT_TRUE(c.login());
    ASSERT_TRUE(c.send_message('Q', std::string("SELECT pg_sleep(30) /* killed */") + '\0'));
    ASSERT_TRUE(wait_running("SELECT pg_sleep(30) /* killed */")) << p.log();
    abort_socket(c.fd());
  }
  Conn d = direct();
  EXPECT_TRUE(eventually([&] {
    return value(d.get(), "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%/* killed */' AND state = "
                          "'active' AND pid <> pg_backend_pid()") == "0";
  }, std::chrono::seconds(3)));
  Conn next = connect_ok(p.conninfo());
  EXPECT_EQ(value(next.get(), "SELECT 'next'"), "next");
}

// Waits until the server with this pid runs a statement (seen from the direct connection `d`).
void wait_active(Conn& d, const std::string& pid) {
  EXPECT_TRUE(eventually([&] {
    return value(d.get(), "SELECT state FROM pg_stat_activity WHERE pid = " + pid) == "active";
  }, std::chrono::seconds(5)));
}

// Starts `sql` on `c` and waits until its server runs it; returns that server's pid.
std::string start_on_server(PGconn* c, Conn& d, const std::string& sql) {
  const std::string pid = value(c, "SELECT pg_backend_pid()");
  EXPECT_EQ(PQsendQuery(c, sql.c_str()), 1);
  wait_active(d, pid);
  return pid;
}

// pg_terminate_backend: the server says FATAL 57P01 and closes. Where the client's session lived
// on that server (session mode, or inside a transaction block), the client sees what it would see
// directly: that FATAL, then the end of the connection, not a second FATAL of the pooler's (a
// driver reports the last error it got: node-postgres' own suite checks for the server's). A
// connection that breaks without a word gets the pooler's 08006 (tests/chaos/network_fault_test).
TEST_P(Failure, ServerTerminatedMidSessionPassesItsFatalOnAndNeverReturnsToThePool) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  o.pool_size = 1;
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  Conn d = direct();
  ok(a.get(), "BEGIN");  // in transaction mode, a transaction block holds the session on its server
  const std::string pid = start_on_server(a.get(), d, "SELECT pg_sleep(10)");
  EXPECT_EQ(value(d.get(), "SELECT pg_terminate_backend(" + pid + ")"), "t");
  Result r(PQgetResult(a.get()));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  while (PGresult* x = PQgetResult(a.get())) PQclear(x);
  std::string msg = PQerrorMessage(a.get());
  EXPECT_NE(msg.find("terminating connection due to administrator command"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("server connection"), std::string::npos) << "no FATAL of the pooler's after the server's: " << msg;
  EXPECT_TRUE(p.wait_log("ended the session with a FATAL")) << p.log();
  EXPECT_NE(p.log().find("127.0.0.1:" + std::to_string(ClusterEnv::instance().primary_port)), std::string::npos)
      << "the log names the server";
  Result after(PQexec(a.get(), "SELECT 1"));
  EXPECT_NE(PQresultStatus(after.get()), PGRES_TUPLES_OK) << "the client's connection ended with its session";
  // The next client gets a new, healthy server, not the dead one.
  Conn b = connect_ok(p.conninfo());
  std::string pid_b = value(b.get(), "SELECT pg_backend_pid()");
  EXPECT_FALSE(pid_b.empty());
  EXPECT_NE(pid_b, pid);
}

// Transaction mode, a statement outside a transaction block: the client's session is the pooler's,
// so losing the server costs it only that statement. It gets the server's 57P01 as an ERROR (with
// a hint saying the connection was kept), and its next statement runs on a new server with its
// settings and prepared statements: no reconnect (what a failover asks of a pooler, issue 18).
TEST(FailureTransaction, ServerTerminatedMidStatementFailsOnlyThatStatementAndTheClientStays) {
  PoolerOptions o;
  o.pool_size = 1;
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  Conn d = direct();
  ok(a.get(), "SET application_name = 'survivor'");
  Result prep(PQprepare(a.get(), "kept", "SELECT $1::int + 1", 1, nullptr));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK);
  // A SET in the same implicit transaction as the statement that fails: it must not stand.
  const std::string pid = start_on_server(a.get(), d, "SET work_mem = '7MB'; SELECT pg_sleep(10)");
  EXPECT_EQ(value(d.get(), "SELECT pg_terminate_backend(" + pid + ")"), "t");
  Result set(PQgetResult(a.get()));
  EXPECT_EQ(PQresultStatus(set.get()), PGRES_COMMAND_OK);
  Result r(PQgetResult(a.get()));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);  // libpq's name for any ERROR
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SEVERITY_NONLOCALIZED), "ERROR");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "57P01");
  const char* hint = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_HINT);
  EXPECT_NE(std::string(hint ? hint : "").find("pgopt kept this connection"), std::string::npos);
  while (PGresult* x = PQgetResult(a.get())) PQclear(x);
  ASSERT_EQ(PQstatus(a.get()), CONNECTION_OK);
  EXPECT_EQ(PQtransactionStatus(a.get()), PQTRANS_IDLE);
  EXPECT_TRUE(p.wait_log("the client stays")) << p.log();
  // The same connection goes on, on another server, with its session.
  EXPECT_NE(value(a.get(), "SELECT pg_backend_pid()"), pid);
  EXPECT_EQ(value(a.get(), "SHOW application_name"), "survivor");
  EXPECT_EQ(value(a.get(), "SHOW work_mem"), value(d.get(), "SHOW work_mem")) << "the failed SET stood";
  const char* one[] = {"41"};
  Result run(PQexecPrepared(a.get(), "kept", 1, one, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(run.get()), PGRES_TUPLES_OK) << PQerrorMessage(a.get());
  EXPECT_STREQ(PQgetvalue(run.get(), 0, 0), "42");
}

// Pipelined requests behind the one that was running each get an ERROR and a ReadyForQuery, as
// failed requests would from the server; none of them ran, and the connection goes on.
TEST(FailureTransaction, ServerLostUnderAPipelineFailsEachRequestInFlight) {
  PoolerOptions o;
  o.pool_size = 1;
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  Conn d = direct();
  ok(d.get(), "DROP TABLE IF EXISTS lost_pipeline; CREATE TABLE lost_pipeline (i int)");
  const std::string pid = value(a.get(), "SELECT pg_backend_pid()");
  ASSERT_EQ(PQenterPipelineMode(a.get()), 1);
  ASSERT_EQ(PQsendQueryParams(a.get(), "SELECT pg_sleep(10)", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(a.get()), 1);
  ASSERT_EQ(PQsendQueryParams(a.get(), "INSERT INTO lost_pipeline VALUES (1)", 0, nullptr, nullptr, nullptr, nullptr, 0),
            1);
  ASSERT_EQ(PQpipelineSync(a.get()), 1);
  ASSERT_EQ(PQflush(a.get()), 0);
  wait_active(d, pid);
  EXPECT_EQ(value(d.get(), "SELECT pg_terminate_backend(" + pid + ")"), "t");
  for (const char* state : {"57P01", "08006"}) {
    Result r(PQgetResult(a.get()));
    ASSERT_TRUE(r.get()) << PQerrorMessage(a.get());
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), state);
    while (PGresult* x = PQgetResult(a.get())) PQclear(x);  // to the end of this query
    Result sync(PQgetResult(a.get()));
    EXPECT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
  }
  ASSERT_EQ(PQexitPipelineMode(a.get()), 1) << PQerrorMessage(a.get());
  EXPECT_EQ(value(a.get(), "SELECT 'on'"), "on");
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM lost_pipeline"), "0") << "a request behind the lost one ran";
  ok(d.get(), "DROP TABLE lost_pipeline");
}

// A pooled server that PostgreSQL ended while it idled (a switchover's shutdown, a terminate)
// answers the next request with its FATAL before reading it. A bare BEGIN changed nothing there,
// so it runs again on a new connection and the client never sees that server; any other statement
// (it might have committed before a FATAL: a synchronous commit interrupted mid-wait does) fails
// with an ERROR, never retried, and the client stays.
TEST(FailureTransaction, BeginOnAServerThatDiedWhileIdleRunsAgainElsewhere) {
  PoolerOptions o;
  o.pool_size = 2;
  o.pooler_extra = "server_check_delay = \"1h\"\n";  // no peek at checkout: the relay must cope
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  Conn d = direct();
  ok(d.get(), "DROP TABLE IF EXISTS begin_retry; CREATE TABLE begin_retry (i int)");
  auto kill_pooled = [&] {
    const std::string pid = value(a.get(), "SELECT pg_backend_pid()");  // its server goes back to the pool
    EXPECT_EQ(value(d.get(), "SELECT pg_terminate_backend(" + pid + ")"), "t");
    EXPECT_TRUE(eventually([&] {
      return value(d.get(), "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) == "0";
    }, std::chrono::seconds(5)));
    return pid;
  };
  const std::string dead = kill_pooled();
  ok(a.get(), "BEGIN");
  ok(a.get(), "INSERT INTO begin_retry VALUES (1)");
  EXPECT_NE(value(a.get(), "SELECT pg_backend_pid()"), dead);
  ok(a.get(), "COMMIT");
  EXPECT_TRUE(p.wait_log("running the BEGIN again")) << p.log();
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM begin_retry"), "1");

  kill_pooled();
  Result r(PQexec(a.get(), "INSERT INTO begin_retry VALUES (2)"));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SEVERITY_NONLOCALIZED), "ERROR");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "57P01");
  ASSERT_EQ(PQstatus(a.get()), CONNECTION_OK);
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM begin_retry"), "1") << "a write was run again";
  ok(a.get(), "INSERT INTO begin_retry VALUES (3)");
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM begin_retry"), "2");
  ok(d.get(), "DROP TABLE begin_retry");
}

INSTANTIATE_TEST_SUITE_P(Modes, Failure, ::testing::Values("transaction", "session"));

TEST(FailureRestart, PrimaryRestartMidRunThenQueriesSucceedAgain) {
  const auto& env = ClusterEnv::instance();
  PoolerOptions o;
  o.pool_size = 2;
  Pooler p(o);
  Conn idle = connect_ok(p.conninfo());
  EXPECT_EQ(value(idle.get(), "SELECT 1"), "1");  // leaves a pooled server behind
  Conn busy = connect_ok(p.conninfo());
  ASSERT_EQ(PQsendQuery(busy.get(), "SELECT pg_sleep(20)"), 1);
  ASSERT_TRUE(wait_running("SELECT pg_sleep(20)")) << p.log();
  ASSERT_EQ(env.cluster("pgctl " + env.get("PGOPT_CLUSTER_DIR") + " primary restart -m fast -w -t 60 >/dev/null"), 0);
  // The in-flight query gets a clear error, not a hang.
  Result r(PQgetResult(busy.get()));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  while (PGresult* x = PQgetResult(busy.get())) PQclear(x);
  // Once the primary is back, new queries succeed, including the idle client's: the stale pooled
  // connection is found dead and replaced instead of handed out.
  EXPECT_EQ(value(idle.get(), "SELECT 'idle ok'"), "idle ok") << p.log();
  Conn fresh = connect_ok(p.conninfo());
  EXPECT_EQ(value(fresh.get(), "SELECT 'fresh ok'"), "fresh ok");
  // The replica reconnects on its own; wait so later tests see a streaming cluster.
  Conn d = direct("postgres");
  EXPECT_TRUE(eventually([&] {
    return value(d.get(), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1";
  }, std::chrono::seconds(20)));
}

}  // namespace
}  // namespace pgopt::test
