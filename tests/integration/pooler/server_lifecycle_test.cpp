// Server connection lifecycle settings: min_pool_size, server_idle_timeout, server_lifetime,
// server_connect_timeout / unreachable servers, client_idle_timeout.
#include "harness.hpp"

namespace pgopt::test {
namespace {

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
  // Idle timeout never takes the pool below its minimum.
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
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  std::string later = value(c.get(), "SELECT pg_backend_pid()");
  EXPECT_FALSE(later.empty());
  EXPECT_NE(later, first);
}

TEST(ServerLifecycle, UnreachableServerGivesAClearErrorNotAHang) {
  PoolerOptions o;
  o.pooler_extra = "server_connect_timeout = \"2s\"\n";
  o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " + std::to_string(free_port()) + "\n";
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
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(value(active.get(), "SELECT 1"), "1");
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  EXPECT_NE(error_of(idle.get(), "SELECT 1"), "");
  EXPECT_TRUE(p.wait_log("client_idle_timeout"));
}

}  // namespace
}  // namespace pgopt::test
