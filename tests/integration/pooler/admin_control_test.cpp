// The admin console's control commands on a running pooler: PAUSE/RESUME, KILL <db>, SET, and
// SHOW PREPARED, with real clients holding and waiting for servers.
#include "admin_harness.hpp"

namespace pgopt::test {
namespace {

PoolerOptions control_options(int pool_size = 4) {
  PoolerOptions o;
  o.pool_size = pool_size;
  o.pooler_extra = "admin_users = [\"postgres\"]\n";
  return o;
}

// Sends `sql` without waiting; `done` then says whether the whole reply has arrived.
void send(PGconn* c, const std::string& sql) { ASSERT_EQ(PQsendQuery(c, sql.c_str()), 1) << PQerrorMessage(c); }

bool done(PGconn* c) {
  if (!PQconsumeInput(c)) return true;  // the connection broke: nothing more will come
  return !PQisBusy(c);
}

// Still waiting after `ms`: the reply did not come.
bool still_waiting(PGconn* c, int ms = 400) {
  // time must pass: a negative; the reply must not come within `ms`
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return !done(c);
}

// The rest of a reply sent with send(): the first result's status, its first value, its SQLSTATE.
struct Reply {
  ExecStatusType status = PGRES_FATAL_ERROR;
  std::string value, sqlstate, command;
};
Reply finish(PGconn* c) {
  Reply out;
  bool first = true;
  while (PGresult* r = PQgetResult(c)) {
    if (first) {
      out.status = PQresultStatus(r);
      out.sqlstate = sqlstate(r);
      out.command = PQcmdStatus(r);
      if (out.status == PGRES_TUPLES_OK && PQntuples(r) > 0) out.value = PQgetvalue(r, 0, 0);
      first = false;
    }
    PQclear(r);
  }
  return out;
}

TEST(AdminControl, PauseWaitsForTheRunningTransactionClosesServersAndHoldsNewWorkUntilResume) {
  Pooler p(control_options());
  Conn adm = admin(p);
  Conn a = connect_ok(p.conninfo());
  ok(a.get(), "BEGIN");
  ok(a.get(), "SELECT 1");
  ASSERT_GE(server_connections("postgres"), 1);

  send(adm.get(), "PAUSE pgopt_test");
  EXPECT_TRUE(still_waiting(adm.get())) << "PAUSE returned while a transaction held a server";
  ok(a.get(), "SELECT 2");  // the running transaction goes on
  ok(a.get(), "COMMIT");
  ASSERT_TRUE(eventually([&] { return done(adm.get()); }));
  Reply r = finish(adm.get());
  EXPECT_EQ(r.status, PGRES_COMMAND_OK) << PQerrorMessage(adm.get());
  EXPECT_EQ(r.command, "PAUSE");
  // The servers are closed, so PostgreSQL could be restarted underneath.
  EXPECT_TRUE(eventually([] { return server_connections("postgres") == 0; })) << server_connections("postgres");

  // Existing and new clients wait, logged in, until RESUME; nothing reopens a server meanwhile.
  send(a.get(), "SELECT 40 + 2");
  Conn b = connect_ok(p.conninfo());
  send(b.get(), "SELECT 7");
  EXPECT_TRUE(still_waiting(a.get()));
  EXPECT_TRUE(still_waiting(b.get(), 50));
  EXPECT_EQ(server_connections("postgres"), 0);
  auto waiting = show(adm.get(), "SHOW CLIENTS").where({{"database", "pgopt_test"}, {"state", "waiting"}});
  EXPECT_EQ(waiting.size(), 2u);

  ok(adm.get(), "RESUME pgopt_test");
  ASSERT_TRUE(eventually([&] { return done(a.get()) && done(b.get()); }));
  EXPECT_EQ(finish(a.get()).value, "42");
  EXPECT_EQ(finish(b.get()).value, "7");
  EXPECT_TRUE(p.wait_log("PAUSE database \"pgopt_test\": done, servers closed")) << p.log();
}

TEST(AdminControl, PauseAndResumeRefuseWhatDoesNotApply) {
  Pooler p(control_options());
  Conn adm = admin(p);
  // Logged in before the pause: a first login to a database needs a server for its welcome, so
  // during a pause it waits too.
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(error_of(adm.get(), "PAUSE nosuchdb"), "3D000");
  EXPECT_EQ(error_of(adm.get(), "RESUME"), "55000");  // nothing is paused
  ok(adm.get(), "PAUSE pgopt_test");
  EXPECT_EQ(error_of(adm.get(), "PAUSE pgopt_test"), "55000");
  EXPECT_EQ(error_of(adm.get(), "PAUSE"), "");  // every database; pgopt_test's own pause stays
  EXPECT_EQ(error_of(adm.get(), "RESUME pgopt_test"), "");
  // Still paused: by the PAUSE of every database, which only RESUME without a name lifts.
  Result r = exec(adm.get(), "RESUME pgopt_test");
  EXPECT_EQ(sqlstate(r.get()), "55000");
  EXPECT_NE(std::string(PQresultErrorField(r.get(), PG_DIAG_MESSAGE_HINT) ?: "").find("RESUME without a name"),
            std::string::npos);
  send(c.get(), "SELECT 1");
  EXPECT_TRUE(still_waiting(c.get()));
  ok(adm.get(), "RESUME");
  ASSERT_TRUE(eventually([&] { return done(c.get()); }));
  EXPECT_EQ(finish(c.get()).value, "1");
}

TEST(AdminControl, KillDisconnectsTheDatabasesClientsAndPausesItUntilResume) {
  Pooler p(control_options());
  Conn adm = admin(p);
  Conn idle = connect_ok(p.conninfo());
  ok(idle.get(), "SELECT 1");
  Conn in_tx = connect_ok(p.conninfo());
  ok(in_tx.get(), "BEGIN");
  ok(in_tx.get(), "CREATE TEMP TABLE killed_here (x int)");

  ok(adm.get(), "KILL pgopt_test");
  // Both got a FATAL 57P01 and lost their connection; the console itself is untouched.
  EXPECT_NE(error_of(idle.get(), "SELECT 1"), "");
  EXPECT_EQ(PQstatus(idle.get()), CONNECTION_BAD);
  EXPECT_NE(error_of(in_tx.get(), "SELECT 1"), "");
  EXPECT_EQ(PQstatus(in_tx.get()), CONNECTION_BAD);
  EXPECT_TRUE(p.wait_log("KILL pgopt_test from the admin console")) << p.log();
  EXPECT_TRUE(eventually([] { return server_connections("postgres") == 0; }));
  ok(adm.get(), "SHOW POOLS");

  Conn later = connect_ok(p.conninfo());
  send(later.get(), "SELECT count(*) FROM pg_class WHERE relname = 'killed_here'");
  EXPECT_TRUE(still_waiting(later.get()));
  ok(adm.get(), "RESUME pgopt_test");
  ASSERT_TRUE(eventually([&] { return done(later.get()); }));
  EXPECT_EQ(finish(later.get()).value, "0");  // the killed transaction was not handed on
  EXPECT_EQ(error_of(adm.get(), "KILL"), "42601");
  EXPECT_EQ(error_of(adm.get(), "KILL nosuchdb"), "3D000");
}

TEST(AdminControl, SetChangesALiveKeyAsTheFileWouldAndRefusesTheRest) {
  Pooler p(control_options(4));
  Conn adm = admin(p);
  ok(adm.get(), "SET default_pool_size = 1");
  EXPECT_EQ(show(adm.get(), "SHOW CONFIG").where({{"key", "default_pool_size"}}).at(0)["value"], "1");
  // It acts: with one server, a second client waits for the first one's transaction.
  Conn a = connect_ok(p.conninfo());
  Conn b = connect_ok(p.conninfo());
  ok(a.get(), "BEGIN");
  ok(a.get(), "SELECT 1");
  send(b.get(), "SELECT 2");
  EXPECT_TRUE(still_waiting(b.get()));
  ok(a.get(), "COMMIT");
  ASSERT_TRUE(eventually([&] { return done(b.get()); }));
  EXPECT_EQ(finish(b.get()).value, "2");

  ok(adm.get(), "SET query_wait_timeout TO '5s'");
  EXPECT_EQ(show(adm.get(), "SHOW CONFIG").where({{"key", "query_wait_timeout"}}).at(0)["value"], "\"5s\"");
  EXPECT_EQ(error_of(adm.get(), "SET listen_port = 1"), "55P02");
  EXPECT_EQ(error_of(adm.get(), "SET no_such_key = 1"), "42704");
  Result bad = exec(adm.get(), "SET default_pool_size = 'many'");
  EXPECT_EQ(sqlstate(bad.get()), "22023");
  EXPECT_NE(std::string(PQresultErrorMessage(bad.get())).find("default_pool_size"), std::string::npos)
      << PQresultErrorMessage(bad.get());
  EXPECT_EQ(error_of(adm.get(), "SET min_pool_size = 5"), "22023");  // above default_pool_size 1
  // TLS keys must name files that load, as on reload.
  EXPECT_EQ(error_of(adm.get(), "SET server_tls_ca_file = '/nonexistent/ca.crt'"), "");  // unused while "prefer"
  Result tls = exec(adm.get(), "SET server_tls_mode = 'verify-ca'");
  EXPECT_EQ(sqlstate(tls.get()), "22023");
  EXPECT_NE(std::string(PQresultErrorMessage(tls.get())).find("/nonexistent/ca.crt"), std::string::npos)
      << PQresultErrorMessage(tls.get());
  EXPECT_EQ(show(adm.get(), "SHOW CONFIG").where({{"key", "server_tls_mode"}}).at(0)["value"], "\"prefer\"");
  // Refused values changed nothing.
  EXPECT_EQ(show(adm.get(), "SHOW CONFIG").where({{"key", "default_pool_size"}}).at(0)["value"], "1");
  EXPECT_TRUE(p.wait_log("SET default_pool_size = 1")) << p.log();

  // A reload from the file puts the file's value back.
  p.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] {
    return show(adm.get(), "SHOW CONFIG").where({{"key", "default_pool_size"}}).at(0)["value"] == "4";
  }));
}

TEST(AdminControl, ShowPreparedCountsEachServersStatementsAndHits) {
  Pooler p(control_options(1));
  Conn adm = admin(p);
  Conn c = connect_ok(p.conninfo());
  for (const char* name : {"s1", "s2"}) {
    Result r(PQprepare(c.get(), name, "SELECT $1::int + 1", 0, nullptr));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  }
  const char* v = "1";
  for (int i = 0; i < 3; ++i) {
    Result r(PQexecPrepared(c.get(), "s1", 1, &v, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  }
  auto rows = show(adm.get(), "SHOW PREPARED").where({{"database", "pgopt_test"}, {"user", "postgres"}});
  std::string listing;
  for (auto& row : rows) listing += row["server_id"] + " " + row["state"] + "; ";
  ASSERT_EQ(rows.size(), 1u) << listing;  // pool size 1: one server
  EXPECT_EQ(rows[0]["state"], "idle");
  // Both texts are the same, so both client names share one server statement.
  EXPECT_EQ(rows[0]["statements"], "1");
  EXPECT_GE(std::stoi(rows[0]["hits"]), 2);    // Binds that found it there
  EXPECT_GE(std::stoi(rows[0]["misses"]), 1);  // the first one prepared it
  EXPECT_EQ(rows[0]["registry_statements"], "1");

  ok(c.get(), "BEGIN");
  Result r(PQexecPrepared(c.get(), "s2", 1, &v, nullptr, nullptr, 0));
  rows = show(adm.get(), "SHOW PREPARED").where({{"database", "pgopt_test"}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["state"], "active");
  ok(c.get(), "COMMIT");
}

}  // namespace
}  // namespace pgopt::test
