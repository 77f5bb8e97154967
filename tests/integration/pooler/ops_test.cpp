// Operations: SIGHUP reload with good and bad files, graceful shutdown, and real client programs
// (psql, pgbench) through the pooler.
#include "harness.hpp"

#include <cstdio>

namespace pgopt::test {
namespace {

std::string pg_bin(const std::string& tool) { return ClusterEnv::instance().get("PGOPT_PG_BIN") + "/" + tool; }

TEST(Reload, GoodFileAppliesPoolSizeAndNewDatabaseLive) {
  PoolerOptions o;
  o.pool_size = 1;
  Pooler p(o);
  Conn holder = connect_ok(p.conninfo());
  ok(holder.get(), "BEGIN");
  ok(holder.get(), "SELECT 1");
  EXPECT_EQ(PQstatus(connect(p.conninfo("postgres", "other_name")).get()), CONNECTION_BAD);

  PoolerOptions bigger = o;
  bigger.pool_size = 3;
  bigger.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " +
                     std::to_string(ClusterEnv::instance().primary_port) +
                     "\n[databases.other_name]\nhost = \"127.0.0.1\"\nport = " +
                     std::to_string(ClusterEnv::instance().primary_port) + "\ndbname = \"pgopt_test\"\n";
  p.write_config(bigger);
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_log("configuration reloaded")) << p.log();
  // The bigger pool is live: a second client runs while the first still holds its server.
  Conn second = connect_ok(p.conninfo());
  EXPECT_EQ(value(second.get(), "SELECT 'second'"), "second");
  Conn other = connect_ok(p.conninfo("postgres", "other_name"));
  EXPECT_EQ(value(other.get(), "SELECT current_database()"), "pgopt_test");
  ok(holder.get(), "COMMIT");
}

TEST(Reload, AServerBusyDuringAnAddressChangeIsNotReused) {
  PoolerOptions o;
  o.pool_size = 1;
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  ok(c.get(), "BEGIN");
  const std::string old_pid = value(c.get(), "SELECT pg_backend_pid()");
  // The same server under another host name: a new address as far as the pooler can tell.
  PoolerOptions moved = o;
  moved.databases = "[databases.pgopt_test]\nhost = \"localhost\"\nport = " +
                    std::to_string(ClusterEnv::instance().primary_port) + "\n";
  p.write_config(moved);
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_log("configuration reloaded")) << p.log();
  ok(c.get(), "COMMIT");  // the busy server goes back now: closed, not pooled
  const std::string new_pid = value(c.get(), "SELECT pg_backend_pid()");
  EXPECT_NE(new_pid, old_pid);
  EXPECT_TRUE(eventually([&] {
    Conn d = direct("postgres");
    return value(d.get(), "SELECT count(*) FROM pg_stat_activity WHERE pid = " + old_pid) == "0";
  }));
  EXPECT_EQ(value(c.get(), "SELECT pg_backend_pid()"), new_pid);  // pool size 1: the new one is kept
}

TEST(Reload, BadFileIsReportedWithFileAndLineAndTheRunningConfigStays) {
  PoolerOptions o;
  Pooler p(o);
  Conn before = connect_ok(p.conninfo());
  std::string text = p.config_text(o);
  // A wrong type on a known key and an unknown key: both reported, each with its line.
  text.replace(text.find("default_pool_size = "), std::string("default_pool_size = ").size(),
               "bogus_key = 1\ndefault_pool_size = \"many\" # ");
  p.write_raw_config(text);
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_log("reload failed")) << p.log();
  std::string log = p.log();
  EXPECT_NE(log.find((p.dir() / "pgopt.toml").string() + ":"), std::string::npos) << log;
  EXPECT_NE(log.find("default_pool_size"), std::string::npos) << log;
  EXPECT_NE(log.find("bogus_key"), std::string::npos) << log;
  EXPECT_TRUE(p.running());
  // Old clients and new ones keep working with the old config.
  EXPECT_EQ(value(before.get(), "SELECT 1"), "1");
  Conn after = connect_ok(p.conninfo());
  EXPECT_EQ(value(after.get(), "SELECT 2"), "2");
}

TEST(Reload, CheckConfigCommandPrintsFileLineAndFails) {
  Pooler p;
  std::string text = p.config_text(PoolerOptions{});
  text += "[databases.broken]\nport = \"not a number\"\n";
  auto path = p.dir() / "broken.toml";
  std::ofstream(path) << text;
  int status = 0;
  std::string out = run(std::string(PGOPT_BINARY) + " check-config " + path.string(), &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find(path.string() + ":"), std::string::npos) << out;
  // The starting pooler refuses the same file the same way.
  out = run(std::string(PGOPT_BINARY) + " pool --config " + path.string(), &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find(path.string() + ":"), std::string::npos) << out;
}

TEST(Shutdown, SigtermLetsTheOpenTransactionFinishThenExitsCleanly) {
  PoolerOptions o;
  o.pooler_extra = "shutdown_timeout = \"10s\"\n";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  ok(c.get(), "BEGIN");
  ok(c.get(), "SELECT 1");
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_log("shutting down")) << p.log();
  // New connections are refused while draining...
  EXPECT_EQ(PQstatus(connect(p.conninfo()).get()), CONNECTION_BAD);
  // ...but the open transaction may finish.
  EXPECT_EQ(value(c.get(), "SELECT 'finishing'"), "finishing");
  ok(c.get(), "COMMIT");
  EXPECT_EQ(p.stop(std::chrono::seconds(10)), 0) << p.log();
  EXPECT_NE(p.log().find("pgopt stopped"), std::string::npos);
  // Its server connections are closed, not leaked.
  EXPECT_EQ(server_connections(), 0);
}

TEST(Shutdown, ShutdownTimeoutClosesAStuckTransaction) {
  PoolerOptions o;
  o.pooler_extra = "shutdown_timeout = \"1s\"\n";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  ok(c.get(), "BEGIN");
  auto t0 = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  EXPECT_EQ(p.stop(std::chrono::seconds(10)), 0) << p.log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(error_of(c.get(), "SELECT 1"), "");
}

TEST(Clients, PsqlScriptThroughThePooler) {
  Pooler p;
  int status = 0;
  std::string out = run(pg_bin("psql") + " -X -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p " + std::to_string(p.port) +
                            " -U postgres pgopt_test -c 'DROP TABLE IF EXISTS psql_t' "
                            "-c 'CREATE TABLE psql_t AS SELECT g FROM generate_series(1, 5) g' "
                            "-c 'SELECT sum(g) FROM psql_t' -c '\\copy (SELECT 7) TO STDOUT'",
                        &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("15"), std::string::npos) << out;
  EXPECT_NE(out.find("7"), std::string::npos) << out;
}

class Pgbench : public ::testing::TestWithParam<std::string> {};

TEST_P(Pgbench, ManyClientsFewServersNoErrors) {
  PoolerOptions o;
  o.pool_size = 4;
  Pooler p(o);
  const std::string conn = " -h 127.0.0.1 -p " + std::to_string(p.port) + " -U postgres ";
  int status = 0;
  std::string out = run(pg_bin("pgbench") + " -i -q -s 1" + conn + "pgopt_test", &status);
  ASSERT_EQ(status, 0) << out;
  out = run(pg_bin("pgbench") + " -n -c 20 -j 2 -t 100 -M " + GetParam() + conn + "pgopt_test", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("number of transactions actually processed: 2000/2000"), std::string::npos) << out;
  EXPECT_NE(out.find("number of failed transactions: 0"), std::string::npos) << out;
  EXPECT_LE(server_connections(), 4);
  Conn d = direct();
  // 2000 TPC-B transactions each insert one history row.
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM pgbench_history"), "2000");
}

INSTANTIATE_TEST_SUITE_P(Protocols, Pgbench, ::testing::Values("simple", "extended"));

// pgbench at a low rate: each client waits 2 s between transactions on average (the gaps are
// random), so clients park and wake over and over while others run, with their named statements
// (-M prepared) kept across parkings. Bounded: 8 s.
TEST(PgbenchParking, ClientsParkAndWakeUnderLoadWithoutErrors) {
  Pooler p;
  const std::string conn = " -h 127.0.0.1 -p " + std::to_string(p.port) + " -U postgres ";
  int status = 0;
  std::string out = run(pg_bin("pgbench") + " -i -q -s 1" + conn + "pgopt_test", &status);
  ASSERT_EQ(status, 0) << out;
  out = run(pg_bin("pgbench") + " -n -S -c 40 -j 2 -T 8 -R 20 -M prepared" + conn + "pgopt_test", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("number of failed transactions: 0"), std::string::npos) << out;
  // Of the ~160 transactions, typically 60-90 come after a parking (a client is parked by the
  // once-a-second sweep after a second idle); at least one per client on average.
  EXPECT_GE(count_of(p.log(), " parked: "), 40u) << out;
  EXPECT_EQ(count_of(p.log(), "lost while park"), 0u);
}

}  // namespace
}  // namespace pgopt::test
