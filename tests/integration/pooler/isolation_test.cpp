// No session state crosses clients: client A changes something at session level, client B then
// runs on the very same server connection (pool_size 1) and must not see it.
#include "harness.hpp"

namespace pgopt::test {
namespace {

struct StateCase {
  std::string name;
  std::string a_sets;    // run by A outside a transaction block
  std::string probe;     // run by B (and by A when a_keeps is set)
  std::string b_expect;  // what a fresh session sees (checked against a direct connection too)
  std::string a_keeps;   // what A must still see afterwards ("" = not checked: dirty state)
};

class Isolation : public ::testing::TestWithParam<StateCase> {};

TEST_P(Isolation, ClientBNeverSeesClientASessionState) {
  const auto& c = GetParam();
  PoolerOptions o;
  o.pool_size = 1;
  o.users = "\"postgres\" \"x\"\n";
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  Conn b = connect_ok(p.conninfo());
  const std::string a_pid = value(a.get(), "SELECT pg_backend_pid()");
  {
    Conn d = direct();
    ASSERT_EQ(value(d.get(), c.probe), c.b_expect) << "the case's idea of a fresh session is wrong";
  }
  ok(a.get(), c.a_sets);
  EXPECT_EQ(value(b.get(), c.probe), c.b_expect) << "B saw A's " << c.name;
  if (!c.a_keeps.empty()) {
    EXPECT_EQ(value(a.get(), c.probe), c.a_keeps) << "A lost its own " << c.name;
    EXPECT_EQ(value(b.get(), c.probe), c.b_expect) << "B saw A's " << c.name << " the second time";
  } else {
    // Dirty state is reset before reuse: B now runs on a reset (or new) server, still never A's.
    EXPECT_EQ(value(b.get(), c.probe), c.b_expect);
  }
  // The test only means something if both ran on one server connection.
  if (!c.a_keeps.empty()) {
    EXPECT_EQ(value(b.get(), "SELECT pg_backend_pid()"), a_pid);
  }
}

INSTANTIATE_TEST_SUITE_P(
    TransactionMode, Isolation,
    ::testing::Values(
        StateCase{"set_guc", "SET statement_timeout = '1234ms'", "SHOW statement_timeout", "0", "1234ms"},
        StateCase{"set_config", "SELECT set_config('work_mem', '7MB', false)", "SHOW work_mem", "4MB", "7MB"},
        StateCase{"set_search_path", "SET search_path = pg_catalog, public", "SHOW search_path",
                  "\"$user\", public", "pg_catalog, public"},
        StateCase{"application_name", "SET application_name = 'alpha'", "SHOW application_name", "", "alpha"},
        StateCase{"timezone", "SET TimeZone = 'Asia/Tokyo'", "SHOW TimeZone", "Etc/UTC", "Asia/Tokyo"},
        StateCase{"datestyle", "SET DateStyle = 'SQL, DMY'", "SHOW DateStyle", "ISO, MDY", "SQL, DMY"},
        StateCase{"intervalstyle", "SET IntervalStyle = 'postgres_verbose'", "SHOW IntervalStyle", "postgres",
                  "postgres_verbose"},
        StateCase{"set_in_committed_txn", "BEGIN; SET work_mem = '9MB'; COMMIT", "SHOW work_mem", "4MB", "9MB"},
        StateCase{"set_in_rolled_back_txn", "BEGIN; SET work_mem = '9MB'; ROLLBACK", "SHOW work_mem", "4MB", "4MB"},
        StateCase{"set_local", "BEGIN; SET LOCAL work_mem = '9MB'; COMMIT", "SHOW work_mem", "4MB", "4MB"},
        StateCase{"reset", "SET work_mem = '5MB'; RESET work_mem", "SHOW work_mem", "4MB", "4MB"},
        StateCase{"reset_all", "SET work_mem = '5MB'; SET statement_timeout = 99; RESET ALL",
                  "SELECT current_setting('work_mem') || current_setting('statement_timeout')", "4MB0", "4MB0"},
        StateCase{"set_role", "SET ROLE trust_user", "SELECT current_user", "postgres", ""},
        StateCase{"session_authorization", "SET SESSION AUTHORIZATION trust_user", "SELECT session_user",
                  "postgres", ""},
        StateCase{"listen", "LISTEN pgopt_channel", "SELECT count(*) FROM pg_listening_channels()", "0", ""},
        StateCase{"advisory_lock", "SELECT pg_advisory_lock(4242)",
                  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()", "0", ""},
        StateCase{"temp_table", "CREATE TEMP TABLE a_private (x int)",
                  "SELECT coalesce(to_regclass('pg_temp.a_private')::text, 'none')", "none", ""},
        // (A WITH HOLD cursor keeps its client on the server until it is closed, so B could not get
        // this one server: driver_edges_test.cpp and hold_cursors_test.cpp cover it.)
        // The server holds the shared pgopt_<n> statement; the client's name is nowhere on it.
        StateCase{"prepared_sql", "PREPARE a_stmt AS SELECT 1",
                  "SELECT count(*) FROM pg_prepared_statements WHERE name = 'a_stmt'", "0", ""}),
    [](const auto& info) { return info.param.name; });

TEST(IsolationSession, SessionModeResetsTheServerBetweenClients) {
  PoolerOptions o;
  o.pool_mode = "session";
  o.pool_size = 1;
  Pooler p(o);
  std::string pid;
  {
    Conn a = connect_ok(p.conninfo());
    pid = value(a.get(), "SELECT pg_backend_pid()");
    ok(a.get(), "SET work_mem = '6MB'");
    ok(a.get(), "CREATE TEMP TABLE a_session_private (x int)");
    ok(a.get(), "LISTEN a_session_channel");
    ok(a.get(), "SELECT pg_advisory_lock(99)");
  }
  Conn b = connect_ok(p.conninfo());
  EXPECT_EQ(value(b.get(), "SELECT pg_backend_pid()"), pid);  // same server, reset by DISCARD ALL
  EXPECT_EQ(value(b.get(), "SHOW work_mem"), "4MB");
  EXPECT_EQ(value(b.get(), "SELECT coalesce(to_regclass('pg_temp.a_session_private')::text, 'none')"), "none");
  EXPECT_EQ(value(b.get(), "SELECT count(*) FROM pg_listening_channels()"), "0");
  EXPECT_EQ(value(b.get(), "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"),
            "0");
}

TEST(IsolationStartup, StartupParametersFollowTheClient) {
  PoolerOptions o;
  o.pool_size = 1;
  Pooler p(o);
  Conn a = connect_ok(p.conninfo("postgres", "pgopt_test", "application_name=app_a options='-c work_mem=3MB'"));
  Conn b = connect_ok(p.conninfo("postgres", "pgopt_test", "application_name=app_b"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(value(a.get(), "SELECT current_setting('application_name') || ' ' || current_setting('work_mem')"),
              "app_a 3MB");
    EXPECT_EQ(value(b.get(), "SELECT current_setting('application_name') || ' ' || current_setting('work_mem')"),
              "app_b 4MB");
  }
}

}  // namespace
}  // namespace pgopt::test
