// Failures on either side: a client that vanishes mid-transaction or mid-query, a server killed
// under a query, and a primary restart. Nothing half-finished may reach another client.
#include "raw_client.hpp"

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
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
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

// pg_terminate_backend: the server says FATAL 57P01 and closes. The client sees what it would see
// directly (that FATAL, then the end of the connection), not a second FATAL of the pooler's (a
// driver reports the last error it got: node-postgres' own suite checks for the server's). A
// connection that breaks without a word gets the pooler's 08006 (tests/chaos/network_fault_test).
TEST_P(Failure, ServerTerminatedMidQueryPassesItsFatalOnAndNeverReturnsToThePool) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  o.pool_size = 1;
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  const std::string pid = value(a.get(), "SELECT pg_backend_pid()");
  ASSERT_EQ(PQsendQuery(a.get(), "SELECT pg_sleep(10)"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Conn d = direct();
  // SIGKILL-like death: pg_terminate_backend ends it; the pooler sees the connection drop.
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
  // The next client gets a new, healthy server, not the dead one.
  Conn b = connect_ok(p.conninfo());
  std::string pid_b = value(b.get(), "SELECT pg_backend_pid()");
  EXPECT_FALSE(pid_b.empty());
  EXPECT_NE(pid_b, pid);
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
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
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
