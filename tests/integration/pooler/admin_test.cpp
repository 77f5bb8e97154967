// The admin console (database "pgopt"): who may log in, what SHOW reports about real clients and
// servers, and RELOAD, KILL_CLIENT and SHUTDOWN acting on a running pooler.
#include "admin_harness.hpp"
#include "raw_client.hpp"
#include "split_harness.hpp"

#include <cstdio>

#include "pooler/config/config.hpp"

namespace pgopt::test {
namespace {

const std::string kAdmins = "admin_users = [\"postgres\"]\n";

PoolerOptions admin_options(int pool_size = 4) {
  PoolerOptions o;
  o.pool_size = pool_size;
  o.pooler_extra = kAdmins;
  return o;
}

TEST(AdminConsole, OnlyAdminUsersGetIn) {
  Pooler p(admin_options());
  RawClient raw(p.port);
  ASSERT_TRUE(raw.send_startup(196608, {{"user", "mallory"}, {"database", "pgopt"}}));
  auto msgs = raw.read_until_ready_or_error();
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs.back().type, 'E');
  EXPECT_EQ(RawClient::sqlstate(msgs.back()), "28000");
  EXPECT_TRUE(raw.closed_by_peer());
  EXPECT_TRUE(p.wait_log("user \"mallory\" is not in admin_users")) << p.log();

  int status = 0;
  std::string out = psql(p, "mallory", "-c 'SHOW POOLS'", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("not allowed to connect to the admin console"), std::string::npos) << out;
  out = psql(p, "postgres", "-c 'SHOW DATABASES'", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("pgopt_test|127.0.0.1|" + std::to_string(ClusterEnv::instance().primary_port)), std::string::npos)
      << out;
  // Nothing reached a server: the pool was never created.
  EXPECT_EQ(p.log().find("opened server connection"), std::string::npos);
}

TEST(AdminConsole, NobodyByDefault) {
  Pooler p;  // no admin_users
  Conn c = connect(p.conninfo("postgres", "pgopt"));
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("not allowed to connect to the admin console"), std::string::npos)
      << PQerrorMessage(c.get());
}

TEST(AdminConsole, AdminsStillAuthenticate) {
  PoolerOptions o = admin_options();
  o.auth_type = "md5";
  o.users = "\"postgres\" \"boss-secret\"\n";
  Pooler p(o);
  Conn good = connect_ok(p.conninfo("postgres", "pgopt", "password=boss-secret"));
  EXPECT_EQ(show(good.get(), "SHOW DATABASES").rows.size(), 1u);
  Conn wrong = connect(p.conninfo("postgres", "pgopt", "password=nope"));
  EXPECT_EQ(PQstatus(wrong.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(wrong.get())).find("password authentication failed"), std::string::npos)
      << PQerrorMessage(wrong.get());
}

TEST(AdminConsole, ShowPoolsClientsAndServersFollowAnOpenTransaction) {
  Pooler p(admin_options());
  Conn adm = admin(p);
  Conn c = connect_ok(p.conninfo());
  ok(c.get(), "BEGIN");
  ok(c.get(), "SELECT 1");
  const std::string id = client_id(adm.get(), c.get());
  ASSERT_FALSE(id.empty());

  auto pool = pool_row(adm.get());
  EXPECT_EQ(pool["cl_active"], "1");
  EXPECT_EQ(pool["cl_idle"], "0");
  EXPECT_EQ(pool["cl_waiting"], "0");
  EXPECT_EQ(pool["sv_active"], "1");
  EXPECT_EQ(pool["sv_idle"], "0");
  EXPECT_EQ(pool["sv_total"], "1");

  auto clients = show(adm.get(), "SHOW CLIENTS").where({{"id", id}});
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0]["user"], "postgres");
  EXPECT_EQ(clients[0]["database"], "pgopt_test");
  EXPECT_EQ(clients[0]["state"], "active");
  EXPECT_EQ(clients[0]["addr"], "127.0.0.1");
  EXPECT_EQ(clients[0]["tx"], "T");
  const std::string server = clients[0]["server_id"];
  ASSERT_NE(server, "<null>");
  // The console lists itself too, as a client of "pgopt" without a server.
  auto me = show(adm.get(), "SHOW CLIENTS").where({{"port", local_port(adm.get())}});
  ASSERT_EQ(me.size(), 1u);
  EXPECT_EQ(me[0]["database"], "pgopt");
  EXPECT_EQ(me[0]["server_id"], "<null>");

  auto servers = show(adm.get(), "SHOW SERVERS").where({{"id", server}});
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0]["state"], "active");
  EXPECT_EQ(servers[0]["client_id"], id);
  EXPECT_EQ(servers[0]["database"], "pgopt_test");
  EXPECT_EQ(servers[0]["port"], std::to_string(ClusterEnv::instance().primary_port));
  EXPECT_EQ(servers[0]["node"], "primary");

  ok(c.get(), "COMMIT");
  EXPECT_TRUE(eventually([&] {
    auto r = pool_row(adm.get());
    return r["cl_active"] == "0" && r["cl_idle"] == "1" && r["sv_active"] == "0" && r["sv_idle"] == "1";
  })) << p.log();
  servers = show(adm.get(), "SHOW SERVERS").where({{"id", server}});
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0]["state"], "idle");
  EXPECT_EQ(servers[0]["client_id"], id);  // the last client it served
  clients = show(adm.get(), "SHOW CLIENTS").where({{"id", id}});
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0]["state"], "idle");
  EXPECT_EQ(clients[0]["server_id"], "<null>");

  // Parked (idle for a second, its socket outside Asio, its names read from its pool), it is still
  // an idle client of this pool with its user and database.
  EXPECT_TRUE(p.wait_log(":" + local_port(c.get()) + " parked", std::chrono::seconds(5))) << p.log();
  EXPECT_EQ(pool_row(adm.get())["cl_idle"], "1");
  clients = show(adm.get(), "SHOW CLIENTS").where({{"id", id}});
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0]["state"], "idle");
  EXPECT_EQ(clients[0]["database"], "pgopt_test");
  EXPECT_EQ(clients[0]["user"], "postgres");

  c.reset();
  EXPECT_TRUE(eventually([&] { return pool_row(adm.get())["cl_idle"] == "0"; }));
}

TEST(AdminConsole, ShowPoolsCountsAWaitingClient) {
  Pooler p(admin_options(1));
  Conn adm = admin(p);
  Conn holder = connect_ok(p.conninfo());
  ok(holder.get(), "BEGIN");
  ok(holder.get(), "SELECT 1");
  Conn waiter = connect_ok(p.conninfo());
  ASSERT_EQ(PQsendQuery(waiter.get(), "SELECT 2"), 1);
  EXPECT_TRUE(eventually([&] { return pool_row(adm.get())["cl_waiting"] == "1"; })) << p.log();
  // maxwait_ms grows while the client waits: it passes 250 within the deadline.
  std::map<std::string, std::string> row;
  EXPECT_TRUE(eventually([&] {
    row = pool_row(adm.get());
    return std::atoi(row["maxwait_ms"].c_str()) >= 250;
  })) << row["maxwait_ms"];
  EXPECT_EQ(row["cl_waiting"], "1");
  ok(holder.get(), "COMMIT");
  Result r(PQgetResult(waiter.get()));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  while (Result more{PQgetResult(waiter.get())}) {
  }
  EXPECT_TRUE(eventually([&] { return pool_row(adm.get())["cl_waiting"] == "0"; }));
}

TEST(AdminConsole, ShowDatabasesAndConfig) {
  PoolerOptions o = admin_options(7);
  Pooler p(o);
  Conn adm = admin(p);
  auto dbs = show(adm.get(), "show databases;").rows;
  ASSERT_EQ(dbs.size(), 1u);
  EXPECT_EQ(dbs[0]["name"], "pgopt_test");
  EXPECT_EQ(dbs[0]["host"], "127.0.0.1");
  EXPECT_EQ(dbs[0]["port"], std::to_string(ClusterEnv::instance().primary_port));
  EXPECT_EQ(dbs[0]["dbname"], "pgopt_test");
  EXPECT_EQ(dbs[0]["pool_mode"], "transaction");
  EXPECT_EQ(dbs[0]["pool_size"], "7");
  EXPECT_EQ(dbs[0]["replicas"], "");
  EXPECT_EQ(dbs[0]["read_write_split"], "false");

  Table cfg = show(adm.get(), "Show Config");
  auto port = cfg.where({{"section", "pooler"}, {"key", "listen_port"}});
  ASSERT_EQ(port.size(), 1u);
  EXPECT_EQ(port[0]["value"], std::to_string(p.port));
  EXPECT_EQ(port[0]["reloadable"], "no");
  auto admins = cfg.where({{"section", "pooler"}, {"key", "admin_users"}});
  ASSERT_EQ(admins.size(), 1u);
  EXPECT_EQ(admins[0]["value"], "[\"postgres\"]");
  EXPECT_EQ(admins[0]["reloadable"], "yes");
  auto size = cfg.where({{"section", "databases.pgopt_test"}, {"key", "pool_size"}});
  ASSERT_EQ(size.size(), 1u);
  EXPECT_EQ(size[0]["value"], "7");
  EXPECT_EQ(cfg.where({{"section", "pooler"}}).size(), pgopt::pooler::pooler_keys().size());
}

TEST(AdminConsole, ShowReplicasReportsTheReplicaHealthyWithLag) {
  split::SplitConfig s;
  s.pooler_extra = kAdmins;
  Pooler p(split::options(s));
  Conn c = connect_ok(p.conninfo());
  ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();
  Conn adm = admin(p);
  std::map<std::string, std::string> replica;
  EXPECT_TRUE(eventually([&] {
    auto rows = show(adm.get(), "SHOW REPLICAS").rows;
    if (rows.size() != 1) return false;
    replica = rows[0];
    return replica["state"] == "healthy";
  })) << p.log();
  EXPECT_EQ(replica["database"], "pgopt_test");
  EXPECT_EQ(replica["host"], "127.0.0.1");
  EXPECT_EQ(replica["port"], std::to_string(split::replica_port()));
  EXPECT_EQ(replica["weight"], "1");
  EXPECT_NE(replica["lag_ms"], "<null>");
  EXPECT_GE(std::atoi(replica["lag_ms"].c_str()), 0);
  EXPECT_LT(std::atoi(replica["lag_ms"].c_str()), 5000);  // within max_replica_lag, or no reads went there
  EXPECT_NE(replica["lag_bytes"], "<null>");
  EXPECT_NE(replica["replay_lsn"].find('/'), std::string::npos) << replica["replay_lsn"];
  auto dbs = show(adm.get(), "SHOW DATABASES").rows;
  ASSERT_EQ(dbs.size(), 1u);
  EXPECT_EQ(dbs[0]["replicas"], "127.0.0.1:" + std::to_string(split::replica_port()));
  EXPECT_EQ(dbs[0]["read_write_split"], "true");
  // The read above left its replica pool behind.
  const std::string node = "127.0.0.1:" + std::to_string(split::replica_port());
  EXPECT_EQ(show(adm.get(), "SHOW POOLS").where({{"node", node}}).size(), 1u);
}

TEST(AdminConsole, ReloadAppliesBeforeItAnswers) {
  Pooler p(admin_options(1));
  Conn adm = admin(p);
  p.write_config(admin_options(3));
  ok(adm.get(), "RELOAD");
  // No waiting: the reply comes after the reload ran.
  EXPECT_EQ(show(adm.get(), "SHOW DATABASES").rows.at(0)["pool_size"], "3");

  // A broken file: an error with the file's messages, the running config kept, the session alive.
  p.write_raw_config("[pooler]\nlisten_port = \"x\"\n");
  Result r = exec(adm.get(), "RELOAD");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(sqlstate(r.get()), "F0000");
  const char* detail = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_DETAIL);
  ASSERT_NE(detail, nullptr);
  EXPECT_NE(std::string(detail).find("pgopt.toml:2: pooler.listen_port"), std::string::npos) << detail;
  EXPECT_EQ(show(adm.get(), "SHOW DATABASES").rows.at(0)["pool_size"], "3");
}

TEST(AdminConsole, KillClientEndsOnlyThatClientWith57P01) {
  Pooler p(admin_options());
  Conn adm = admin(p);
  Conn victim = connect_ok(p.conninfo());
  Conn other = connect_ok(p.conninfo());
  ok(victim.get(), "BEGIN");
  ok(victim.get(), "SELECT 1");
  const std::string id = client_id(adm.get(), victim.get());
  ok(adm.get(), "KILL_CLIENT " + id);
  Result r = exec(victim.get(), "SELECT 1");
  EXPECT_NE(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_NE(std::string(PQerrorMessage(victim.get())).find("terminating connection due to administrator command"),
            std::string::npos)
      << PQerrorMessage(victim.get());
  if (!sqlstate(r.get()).empty()) {
    EXPECT_EQ(sqlstate(r.get()), "57P01");
  }
  EXPECT_TRUE(p.wait_log("KILL_CLIENT from the admin console")) << p.log();
  EXPECT_NE(p.log().find("(57P01)"), std::string::npos);
  EXPECT_EQ(value(other.get(), "SELECT 41 + 1"), "42");
  EXPECT_TRUE(eventually([&] { return show(adm.get(), "SHOW CLIENTS").where({{"id", id}}).empty(); }));
  // The server it held was rolled back or closed, never handed out mid-transaction.
  EXPECT_TRUE(eventually([&] { return pool_row(adm.get())["sv_active"] == "0"; }));
  EXPECT_EQ(error_of(adm.get(), "KILL_CLIENT " + id), "42704");
  EXPECT_EQ(error_of(adm.get(), "KILL_CLIENT 999999"), "42704");
}

TEST(AdminConsole, UnknownCommandIs42601AndTheSessionGoesOn) {
  Pooler p(admin_options());
  Conn adm = admin(p);
  Result r = exec(adm.get(), "SHOW LISTS");  // PgBouncer's, not pgopt's
  EXPECT_EQ(sqlstate(r.get()), "42601");
  const char* hint = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_HINT);
  ASSERT_NE(hint, nullptr);
  EXPECT_NE(std::string(hint).find("SHOW POOLS"), std::string::npos);
  EXPECT_EQ(error_of(adm.get(), "SELECT 1"), "42601");
  EXPECT_EQ(error_of(adm.get(), "SHOW POOLS; SHOW CLIENTS"), "0A000");
  EXPECT_EQ(PQresultStatus(exec(adm.get(), "").get()), PGRES_EMPTY_QUERY);
  EXPECT_EQ(show(adm.get(), "SHOW DATABASES").rows.size(), 1u);
  // The extended protocol is not spoken here: the connection ends with 08P01.
  Result x(PQexecParams(adm.get(), "SHOW POOLS", 0, nullptr, nullptr, nullptr, nullptr, 0));
  EXPECT_NE(PQresultStatus(x.get()), PGRES_TUPLES_OK);
  EXPECT_TRUE(p.wait_log("(08P01)")) << p.log();
}

// The sweep frees an idle client's input buffer after a second; the console's pending read must
// not point into it (ASan builds catch it), and more commands work after.
TEST(AdminConsole, IdleConsoleSurvivesTheSweep) {
  Pooler p(admin_options());
  Conn adm = admin(p);
  EXPECT_EQ(show(adm.get(), "SHOW DATABASES").rows.size(), 1u);
  // time must pass: the idle sweep (every second) must free the console's buffer; it logs nothing
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(show(adm.get(), "SHOW DATABASES").rows.size(), 1u);
  // time must pass: a second idle sweep after a command
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(show(adm.get(), "SHOW CONFIG").rows.size(),
            pgopt::pooler::pooler_keys().size() + pgopt::pooler::database_keys().size());
}

TEST(AdminConsole, ShutdownDrainsAndExitsZero) {
  Pooler p(admin_options());
  Conn busy = connect_ok(p.conninfo());
  ok(busy.get(), "BEGIN");
  ok(busy.get(), "SELECT 1");
  Conn adm = admin(p);
  ok(adm.get(), "SHUTDOWN");
  ASSERT_TRUE(p.wait_log("shutting down")) << p.log();
  // Draining: no new clients, the open transaction may finish.
  EXPECT_EQ(PQstatus(connect(p.conninfo()).get()), CONNECTION_BAD);
  EXPECT_EQ(value(busy.get(), "SELECT 5"), "5");
  ok(busy.get(), "COMMIT");
  int st = 0;
  bool exited = eventually([&] { return ::waitpid(p.pid, &st, WNOHANG) == p.pid; }, std::chrono::seconds(10));
  ASSERT_TRUE(exited) << p.log();
  p.pid = -1;
  EXPECT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << p.log();
  EXPECT_NE(p.log().find("admin console: SHUTDOWN"), std::string::npos);
}

}  // namespace
}  // namespace pgopt::test
