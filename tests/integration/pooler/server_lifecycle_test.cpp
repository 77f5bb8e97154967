// Server connection lifecycle settings: min_pool_size, server_idle_timeout, server_lifetime,
// server_connect_timeout / unreachable servers, client_idle_timeout, parked idle clients.
#include "admin_harness.hpp"
#include "harness.hpp"

#include <gmock/gmock.h>

namespace pgopt::test {
namespace {

using ::testing::HasSubstr;

TEST(ServerLifecycle, MinPoolSizeKeepsConnectionsOpenAndRefillsThem) {
  PoolerOptions o;
  o.pool_size = 5;
  o.pooler_extra = "min_pool_size = 3\nserver_idle_timeout = \"1s\"\n";
  Pooler p(o);
  {
    Conn c = connect_ok(p.conninfo());  // the pool exists from its first client on
    EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
  }
  EXPECT_TRUE(eventually([] { return server_connections() == 3; }, std::chrono::seconds(5))) << server_connections();
  // Idle timeout never takes the pool below its minimum. Nothing happens to wait for: a negative.
  // time must pass: server_idle_timeout (1 s) twice over, with the sweeps that would close them
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(server_connections(), 3);
  // Killed connections are replaced.
  Conn d = direct("postgres");
  ok(d.get(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'pgopt_test' AND "
              "backend_type = 'client backend' AND pid <> pg_backend_pid()");
  EXPECT_TRUE(eventually([] { return server_connections() == 3; }, std::chrono::seconds(8))) << p.log();
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), "SELECT 'works'"), "works");
}

TEST(ServerLifecycle, IdleServersCloseAfterServerIdleTimeout) {
  PoolerOptions o;
  o.pool_size = 3;
  o.pooler_extra = "server_idle_timeout = \"1s\"\n";
  Pooler p(o);
  {
    std::vector<Conn> cs;
    for (int i = 0; i < 3; ++i) cs.push_back(connect_ok(p.conninfo()));
    for (auto& c : cs) ASSERT_EQ(PQsendQuery(c.get(), "SELECT pg_sleep(0.2)"), 1);
    for (auto& c : cs)
      while (PGresult* r = PQgetResult(c.get())) PQclear(r);
  }
  EXPECT_GE(server_connections(), 2);
  EXPECT_TRUE(eventually([] { return server_connections() == 0; }, std::chrono::seconds(5)));
}

TEST(ServerLifecycle, ServerLifetimeReplacesOldConnections) {
  PoolerOptions o;
  o.pool_size = 1;
  o.pooler_extra = "server_lifetime = \"1s\"\n";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  std::string first = value(c.get(), "SELECT pg_backend_pid()");
  EXPECT_EQ(value(c.get(), "SELECT pg_backend_pid()"), first);  // reused while young
  // The lifetime's effect, polled: the next query after it runs on a new server.
  std::string later;
  EXPECT_TRUE(eventually([&] {
    later = value(c.get(), "SELECT pg_backend_pid()");
    return !later.empty() && later != first;
  }, std::chrono::seconds(5))) << p.log();
  EXPECT_FALSE(later.empty());
  EXPECT_NE(later, first);
}

TEST(ServerLifecycle, UnreachableServerGivesAClearErrorNotAHang) {
  PoolerOptions o;
  o.pooler_extra = "server_connect_timeout = \"2s\"\n";
  o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " + std::to_string(dead_port()) + "\n";
  Pooler p(o);
  auto t0 = std::chrono::steady_clock::now();
  Conn c = connect(p.conninfo());
  std::string err = PQstatus(c.get()) == CONNECTION_OK ? error_of(c.get(), "SELECT 1") : PQerrorMessage(c.get());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
  EXPECT_NE(err.find("127.0.0.1"), std::string::npos) << err;
  EXPECT_TRUE(p.running());
}

TEST(ServerLifecycle, ClientIdleTimeoutDisconnectsIdleClients) {
  PoolerOptions o;
  o.pooler_extra = "client_idle_timeout = \"1s\"\n";
  Pooler p(o);
  Conn idle = connect_ok(p.conninfo());
  Conn active = connect_ok(p.conninfo());
  // The active client queries every 400 ms (under the timeout) until the idle one is closed; the
  // log wait is both the pace and the condition, bounded by the deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    EXPECT_EQ(value(active.get(), "SELECT 1"), "1");
    closed = p.wait_log("closing: client_idle_timeout", std::chrono::milliseconds(400));
  }
  EXPECT_TRUE(closed) << p.log();
  EXPECT_EQ(count_of(p.log(), "closing: client_idle_timeout"), 1u) << "the active client was closed too";
  EXPECT_NE(error_of(idle.get(), "SELECT 1"), "");
  EXPECT_EQ(value(active.get(), "SELECT 1"), "1");
}

// A parked client's socket sits outside Asio (the worker's ParkingLot): the pooler takes it back to
// send the FATAL of an idle timeout or a shutdown, so the client learns why it was disconnected.
TEST(ServerLifecycle, ParkedClientsGetTheirFatalMessages) {
  {
    PoolerOptions o;
    o.pooler_extra = "client_idle_timeout = \"4s\"\n";
    Pooler p(o);
    Conn c = connect_ok(p.conninfo());
    const std::string port = local_port(c.get());
    EXPECT_TRUE(p.wait_log(":" + port + " parked", std::chrono::seconds(5))) << p.log();
    EXPECT_TRUE(p.wait_log(":" + port + " closing: client_idle_timeout", std::chrono::seconds(8))) << p.log();
    // libpq reports a FATAL that came while no query ran by its text, without the SQLSTATE.
    EXPECT_THAT(error_of(c.get(), "SELECT 1"), HasSubstr("FATAL:  terminating connection due to idle timeout"));
  }
  Pooler p;
  Conn c = connect_ok(p.conninfo());
  EXPECT_TRUE(p.wait_log(":" + local_port(c.get()) + " parked", std::chrono::seconds(5))) << p.log();
  EXPECT_EQ(p.stop(), 0) << p.log();
  EXPECT_THAT(error_of(c.get(), "SELECT 1"), HasSubstr("FATAL:  terminating connection: pgopt is shutting down"));
}

// An idle client's coroutines end after a second (memory for 10,000 idle clients); its next query
// wakes it with its session intact, and a client inside a transaction is never parked.
TEST(ServerLifecycle, IdleClientsParkAndWakeWithTheirSessionIntact) {
  Pooler p;
  Conn a = connect_ok(p.conninfo());
  Conn b = connect_ok(p.conninfo());
  ok(a.get(), "SET application_name = 'parked_app'");
  ok(b.get(), "BEGIN");
  ok(b.get(), "CREATE TEMP TABLE parked_t (x int) ON COMMIT DROP");
  const std::string a_parked = ":" + local_port(a.get()) + " parked";
  const std::string b_parked = ":" + local_port(b.get()) + " parked";
  EXPECT_TRUE(p.wait_log(a_parked, std::chrono::seconds(5))) << p.log();
  EXPECT_EQ(value(a.get(), "SHOW application_name"), "parked_app");
  EXPECT_EQ(value(a.get(), "SELECT 40 + 2"), "42");
  // A named statement made after waking (the tracker a parked client drops comes back) survives
  // the next parking.
  Result prep(PQprepare(a.get(), "parked_stmt", "SELECT $1::int * 2", 1, nullptr));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK) << PQerrorMessage(a.get());
  // Parks again after its next idle second.
  EXPECT_TRUE(eventually([&] { return count_of(p.log(), a_parked) >= 2; }, std::chrono::seconds(5))) << p.log();
  const char* param = "21";
  Result run(PQexecPrepared(a.get(), "parked_stmt", 1, &param, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(run.get()), PGRES_TUPLES_OK) << PQerrorMessage(a.get());
  EXPECT_STREQ(PQgetvalue(run.get(), 0, 0), "42");
  EXPECT_EQ(value(a.get(), "SELECT count(*) FROM generate_series(1, 1000)"), "1000");
  // b held its server the whole time: its transaction and temp table are still there.
  EXPECT_EQ(count_of(p.log(), b_parked), 0u);
  EXPECT_EQ(value(b.get(), "SELECT count(*) FROM parked_t"), "0");
  ok(b.get(), "COMMIT");
  // A parked client that goes away is cleaned up like any other.
  EXPECT_TRUE(eventually([&] { return count_of(p.log(), a_parked) >= 3; }, std::chrono::seconds(5))) << p.log();
  const std::string a_port = local_port(a.get());
  a.reset();
  EXPECT_TRUE(p.wait_log(":" + a_port + " closing: client sent Terminate")) << p.log();
  EXPECT_TRUE(p.running());
}

}  // namespace
}  // namespace pgopt::test
