// Pool limits through the pooler: pool exhaustion with query_wait_timeout, max_client_conn, and
// limits that hold across worker threads.
#include "admin_harness.hpp"
#include "harness.hpp"
#include "waits.hpp"

#include <atomic>

namespace pgopt::test {
namespace {

TEST(Limits, WaitingClientGetsClearErrorAfterQueryWaitTimeout) {
  PoolerOptions o;
  o.pool_size = 1;
  o.pooler_extra = "query_wait_timeout = \"1s\"\n";
  Pooler p(o);
  Conn holder = connect_ok(p.conninfo());
  ok(holder.get(), "BEGIN");  // transaction mode: holds the only server until COMMIT
  ok(holder.get(), "SELECT 1");
  Conn waiter = connect_ok(p.conninfo());
  auto t0 = std::chrono::steady_clock::now();
  Result r = exec(waiter.get(), "SELECT 1");
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_NE(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  std::string msg = PQerrorMessage(waiter.get());
  EXPECT_NE(msg.find("query_wait_timeout"), std::string::npos) << msg;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(5));
  // The holder is unaffected, and once it commits a new client is served at once.
  EXPECT_EQ(value(holder.get(), "SELECT 'holder'"), "holder");
  ok(holder.get(), "COMMIT");
  Conn later = connect_ok(p.conninfo());
  EXPECT_EQ(value(later.get(), "SELECT 'later'"), "later");
}

TEST(Limits, WaitersAreServedWhenServersFreeUp) {
  PoolerOptions o;
  o.pool_size = 2;
  Pooler p(o);
  // 8 clients each sleep 0.3 s on a pool of 2: all must succeed (queued, not refused), and the
  // pool must never exceed 2 server connections.
  std::atomic<int> good{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&] {
      Conn c = connect(p.conninfo());
      if (PQstatus(c.get()) != CONNECTION_OK) return;
      Result r = exec(c.get(), "SELECT pg_sleep(0.3)");
      if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) ++good;
    });
  // The pool is full (two run, six wait): the moment a third server would be opened.
  EXPECT_TRUE(wait_running("SELECT pg_sleep(0.3)", 2)) << p.log();
  EXPECT_LE(server_connections("postgres"), 2);
  for (auto& t : ts) t.join();
  EXPECT_EQ(good.load(), 8);
  EXPECT_LE(server_connections("postgres"), 2);
}

TEST(Limits, PoolSizeHoldsAcrossWorkerThreads) {
  // Four workers, pool_size 3: a per-thread pool would open up to 12.
  PoolerOptions o;
  o.pool_size = 3;
  o.workers = 4;
  Pooler p(o);
  std::vector<Conn> clients;
  for (int i = 0; i < 12; ++i) clients.push_back(connect_ok(p.conninfo()));
  for (auto& c : clients) ASSERT_EQ(PQsendQuery(c.get(), "SELECT pg_sleep(0.5)"), 1);
  EXPECT_TRUE(wait_running("SELECT pg_sleep(0.5)", 3)) << p.log();
  EXPECT_EQ(server_connections("postgres"), 3);
  for (auto& c : clients) {
    Result r(PQgetResult(c.get()));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    while (PGresult* x = PQgetResult(c.get())) PQclear(x);
  }
}

TEST(Limits, MaxDbConnectionsCapsAllUsersOfADatabase) {
  PoolerOptions o;
  o.pool_size = 5;
  o.pooler_extra = "max_db_connections = 2\n";
  o.users = "\"postgres\" \"x\"\n\"trust_user\" \"x\"\n";
  Pooler p(o);
  std::vector<Conn> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_ok(p.conninfo("postgres")));
  for (int i = 0; i < 3; ++i) clients.push_back(connect_ok(p.conninfo("trust_user")));
  for (auto& c : clients) ASSERT_EQ(PQsendQuery(c.get(), "SELECT pg_sleep(0.4)"), 1);
  EXPECT_TRUE(wait_running("SELECT pg_sleep(0.4)", 2)) << p.log();
  EXPECT_LE(server_connections("postgres") + server_connections("trust_user"), 2);
  for (auto& c : clients) {
    Result r(PQgetResult(c.get()));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    while (PGresult* x = PQgetResult(c.get())) PQclear(x);
  }
}

TEST(Limits, MaxClientConnRefusesWith53300) {
  PoolerOptions o;
  o.pooler_extra = "max_client_conn = 3\n";
  Pooler p(o);
  std::vector<Conn> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_ok(p.conninfo()));
  Conn extra = connect(p.conninfo());
  EXPECT_EQ(PQstatus(extra.get()), CONNECTION_BAD);
  std::string msg = PQerrorMessage(extra.get());
  EXPECT_NE(msg.find("max_client_conn"), std::string::npos) << msg;
  EXPECT_NE(p.log().find("53300"), std::string::npos);
  // The admitted clients keep working, and a slot frees when one leaves.
  EXPECT_EQ(value(clients[0].get(), "SELECT 1"), "1");
  const std::string leaving = local_port(clients.back().get());
  clients.pop_back();
  ASSERT_TRUE(p.wait_log(":" + leaving + " closing: client sent Terminate")) << p.log();
  Conn again = connect_ok(p.conninfo());
  EXPECT_EQ(value(again.get(), "SELECT 2"), "2");
}

TEST(Limits, IdleTransactionTimeoutClosesTheClientAndFreesTheServer) {
  PoolerOptions o;
  o.pool_size = 1;
  o.pooler_extra = "idle_transaction_timeout = \"1s\"\n";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  ok(c.get(), "BEGIN");
  ok(c.get(), "CREATE TEMP TABLE held (x int)");
  // The timeout's effect, not a fixed wait: the pooler closes the client (and logs why).
  ASSERT_TRUE(p.wait_log("closing: idle_transaction_timeout", std::chrono::seconds(5))) << p.log();
  EXPECT_NE(error_of(c.get(), "SELECT 1"), "");
  Conn other = connect_ok(p.conninfo());
  EXPECT_EQ(value(other.get(), "SELECT 'free'"), "free");
  EXPECT_EQ(error_of(other.get(), "SELECT * FROM held"), "42P01");  // rolled back, nothing leaked
}

}  // namespace
}  // namespace pgopt::test
