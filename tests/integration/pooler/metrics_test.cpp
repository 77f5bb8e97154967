// Statistics on a running pooler: SHOW STATS counts exactly what a libpq client ran, /metrics shows the
// same through HTTP, /healthz turns 503 while draining, and the endpoint refuses what it does not serve.
#include "admin_harness.hpp"
#include "http_client.hpp"
#include "split_harness.hpp"

#include <poll.h>

namespace pgopt::test {
namespace {

struct Stats {
  std::map<std::string, std::string> row;
  long long operator[](const std::string& col) const {
    auto it = row.find(col);
    return it == row.end() ? -1 : std::atoll(it->second.c_str());
  }
};

// SHOW STATS' row for `db`.
Stats show_stats(PGconn* adm, const std::string& db = "pgopt_test") {
  Stats s;
  Result r = exec(adm, "SHOW STATS");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(adm);
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    if (std::string(PQgetvalue(r.get(), i, 0)) != db) continue;
    for (int j = 0; j < PQnfields(r.get()); ++j) s.row[PQfname(r.get(), j)] = PQgetvalue(r.get(), i, j);
  }
  return s;
}

// A pooler with the console and the endpoint on; Base: a plain test, or the splitting tests' fixture.
template <class Base>
class MetricsTest : public Base {
 protected:
  void start(PoolerOptions o = {}) {
    metrics_port = quiet_port();
    o.pooler_extra += "admin_users = [\"postgres\"]\nmetrics_port = " + std::to_string(metrics_port) + "\n";
    pooler = std::make_unique<Pooler>(o);
    ASSERT_TRUE(eventually([&] { return port_open(metrics_port); })) << pooler->log();
  }
  Conn admin() const { return connect_ok(pooler->conninfo("postgres", "pgopt")); }
  std::string page() const {
    HttpReply r = get(metrics_port, "/metrics");
    EXPECT_EQ(r.status, 200) << r.head;
    return "\n" + r.body;
  }
  int metrics_port = 0;
  std::unique_ptr<Pooler> pooler;
};
using Metrics = MetricsTest<::testing::Test>;
using MetricsSplit = MetricsTest<split::ReplicaFixture>;

TEST_F(Metrics, ShowStatsCountsQueriesAndTransactionsExactly) {
  start();
  Conn c = connect_ok(pooler->conninfo());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(value(c.get(), "SELECT " + std::to_string(i)), std::to_string(i));
  ok(c.get(), "BEGIN");  // 4 queries, 1 transaction
  ok(c.get(), "SELECT 1");
  ok(c.get(), "SELECT pg_sleep(0.02)");
  ok(c.get(), "COMMIT");
  const char* params[] = {"7"};  // extended protocol: Parse/Bind/Describe/Execute/Sync is one query
  Result r(PQexecParams(c.get(), "SELECT $1::int + 1", 1, nullptr, params, nullptr, nullptr, 0));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  ok(c.get(), "BEGIN");  // a failed transaction: 3 queries, 1 transaction
  EXPECT_EQ(error_of(c.get(), "SELECT 1/0"), "22012");
  ok(c.get(), "ROLLBACK");
  // Two statements in one Query: one query, one transaction.
  ok(c.get(), "SELECT 1; SELECT 2");

  Conn adm = admin();
  Stats s;
  ASSERT_TRUE(eventually([&] {
    s = show_stats(adm.get());
    return s["total_query_count"] == 19;
  })) << "total_query_count " << s["total_query_count"];
  EXPECT_EQ(s["total_xact_count"], 14);
  EXPECT_GT(s["total_received"], 19 * 10);  // each Query message is more than 10 bytes
  EXPECT_GT(s["total_sent"], s["total_received"]);
  EXPECT_GE(s["total_query_time"], 20000);  // the pg_sleep
  EXPECT_GE(s["total_xact_time"], 20000);
  EXPECT_GE(s["total_xact_time"], s["total_query_time"]);  // a transaction includes the client's think time
  EXPECT_EQ(s["avg_query_time"], s["total_query_time"] / 19);
  EXPECT_EQ(s["avg_xact_time"], s["total_xact_time"] / 14);
  EXPECT_GT(s["p99_query_time"], 0);
  EXPECT_GE(s["p99_query_time"], s["p95_query_time"]);
  EXPECT_GE(s["total_wait_time"], 0);
  for (const char* col : {"database", "total_xact_count", "total_query_count", "total_received", "total_sent",
                          "total_xact_time", "total_query_time", "total_wait_time", "avg_xact_time", "avg_query_time",
                          "p95_query_time", "p99_query_time"})
    EXPECT_TRUE(s.row.count(col)) << col;

  // The same numbers on /metrics. The client has its last ReadyForQuery a moment before its worker
  // gives the server back (the write completes first), so the gauges are read once that happened.
  const std::string idle_client = "pgopt_clients{database=\"pgopt_test\",user=\"postgres\",state=\"idle\"}";
  std::string m;
  ASSERT_TRUE(eventually([&] {
    m = page();
    return metric(m, idle_client) == 1;
  })) << m;
  EXPECT_EQ(metric(m, "pgopt_up"), 1);
  EXPECT_EQ(metric(m, "pgopt_queries_total{database=\"pgopt_test\"}"), 19) << m;
  EXPECT_EQ(metric(m, "pgopt_transactions_total{database=\"pgopt_test\"}"), 14);
  EXPECT_EQ(metric(m, "pgopt_query_duration_seconds_count{database=\"pgopt_test\"}"), 19);
  EXPECT_EQ(metric(m, "pgopt_query_duration_seconds_bucket{database=\"pgopt_test\",le=\"+Inf\"}"), 19);
  EXPECT_EQ(metric(m, "pgopt_transaction_duration_seconds_count{database=\"pgopt_test\"}"), 14);
  // The pg_sleep(0.02) is above 10 ms: at most 18 queries at or below it.
  EXPECT_LE(metric(m, "pgopt_query_duration_seconds_bucket{database=\"pgopt_test\",le=\"0.01\"}"), 18);
  EXPECT_NEAR(metric(m, "pgopt_query_duration_seconds_sum{database=\"pgopt_test\"}"),
              double(s["total_query_time"]) / 1e6, 1e-3);
  EXPECT_GE(metric(m, "pgopt_received_bytes_total{database=\"pgopt_test\"}"), double(s["total_received"]));
  EXPECT_GE(metric(m, "pgopt_sent_bytes_total{database=\"pgopt_test\"}"), double(s["total_sent"]));
  EXPECT_EQ(metric(m, "pgopt_clients{database=\"pgopt\",user=\"postgres\",state=\"idle\"}"), 1) << m;
  EXPECT_EQ(metric(m, "pgopt_servers{database=\"pgopt_test\",user=\"postgres\",node=\"primary\",state=\"active\"}"), 0)
      << m;
  EXPECT_GE(metric(m, "pgopt_servers{database=\"pgopt_test\",user=\"postgres\",node=\"primary\",state=\"idle\"}"), 1)
      << m;
  EXPECT_EQ(metric(m, "pgopt_pool_size{database=\"pgopt_test\"}"), 4);
  EXPECT_GE(metric(m, "pgopt_client_wait_seconds_total{database=\"pgopt_test\"}"), 0);
  EXPECT_NE(m.find("\npgopt_info{version=\""), std::string::npos);
  EXPECT_NE(m.find("# TYPE pgopt_queries_total counter\n"), std::string::npos);
  EXPECT_NE(m.find("# TYPE pgopt_query_duration_seconds histogram\n"), std::string::npos);
}

TEST_F(Metrics, ErrorsAreCountedBySqlstateAndBySource) {
  PoolerOptions o;
  o.pooler_extra = "client_idle_timeout = \"300ms\"\n";
  start(o);
  std::string m;
  {
    Conn c = connect_ok(pooler->conninfo());
    ok(c.get(), "DROP TABLE IF EXISTS metrics_err; CREATE TABLE metrics_err (id int PRIMARY KEY)");
    EXPECT_EQ(error_of(c.get(), "SELECT 1/0"), "22012");
    EXPECT_EQ(error_of(c.get(), "SELECT 1/0"), "22012");
    const char* params[] = {"1"};  // an error of the extended protocol
    for (int i = 0; i < 2; ++i) {
      Result r(PQexecParams(c.get(), "INSERT INTO metrics_err VALUES ($1::int)", 1, nullptr, params, nullptr, nullptr, 0));
      EXPECT_EQ(PQresultStatus(r.get()), i == 0 ? PGRES_COMMAND_OK : PGRES_FATAL_ERROR);
    }
    ok(c.get(), "DROP TABLE metrics_err");
    EXPECT_EQ(metric(page(), "pgopt_errors_total{database=\"pgopt_test\",sqlstate=\"22012\",source=\"server\"}"), 2);
    EXPECT_EQ(metric(page(), "pgopt_errors_total{database=\"pgopt_test\",sqlstate=\"23505\",source=\"server\"}"), 1);
    // pgopt's own error: the client, left idle (any message would restart its idle clock), is
    // closed with a FATAL 57P05.
    ASSERT_TRUE(eventually([&] {
      m = page();
      return metric(m, "pgopt_errors_total{database=\"pgopt_test\",sqlstate=\"57P05\",source=\"pgopt\"}") == 1;
    })) << m;
    EXPECT_EQ(PQstatus(c.get()) == CONNECTION_OK ? error_of(c.get(), "SELECT 1").substr(0, 11) : "connection:",
              "connection:");
  }
  EXPECT_EQ(metric(m, "pgopt_errors_total{database=\"pgopt_test\",sqlstate=\"57P05\",source=\"server\"}"), -1);
  EXPECT_NE(m.find("# TYPE pgopt_errors_total counter\n"), std::string::npos);
}

TEST_F(Metrics, WaitTimeCountsAClientQueuedForTheOnlyServer) {
  PoolerOptions o;
  o.pool_size = 1;
  start(o);
  Conn holder = connect_ok(pooler->conninfo());
  ok(holder.get(), "BEGIN");
  ok(holder.get(), "SELECT 1");
  std::thread waiter([&] {
    Conn w = connect_ok(pooler->conninfo());
    EXPECT_EQ(value(w.get(), "SELECT 42"), "42");
  });
  Conn adm = admin();
  // Until the waiter is queued and has waited 300 ms (SHOW POOLS maxwait_ms says so).
  EXPECT_TRUE(eventually([&] {
    return metric(page(), "pgopt_clients{database=\"pgopt_test\",user=\"postgres\",state=\"waiting\"}") == 1;
  }));
  EXPECT_TRUE(eventually([&] { return std::atoi(pool_row(adm.get())["maxwait_ms"].c_str()) >= 300; }));
  ok(holder.get(), "COMMIT");
  waiter.join();
  Stats s;
  EXPECT_TRUE(eventually([&] {
    s = show_stats(adm.get());
    return s["total_query_count"] == 4;
  }));
  EXPECT_GE(s["total_wait_time"], 300000);
  EXPECT_LT(s["total_wait_time"], 10'000'000);
  EXPECT_GE(metric(page(), "pgopt_client_wait_seconds_total{database=\"pgopt_test\"}"), 0.3);
}

TEST_F(Metrics, HealthzIsOkThen503WhileDrainingAndTheEndpointClosesAtExit) {
  PoolerOptions o;
  o.pooler_extra = "shutdown_timeout = \"10s\"\n";
  start(o);
  HttpReply h = get(metrics_port, "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  EXPECT_EQ(metric(page(), "pgopt_draining"), 0);

  Conn busy = connect_ok(pooler->conninfo());
  ok(busy.get(), "BEGIN");
  ok(busy.get(), "SELECT 1");
  pooler->signal(SIGTERM);
  ASSERT_TRUE(pooler->wait_log("shutting down")) << pooler->log();
  h = get(metrics_port, "/healthz");
  EXPECT_EQ(h.status, 503) << h.head;
  EXPECT_EQ(h.body, "draining\n");
  // Still scraped while draining: the open transaction's client is there.
  const std::string m = page();
  EXPECT_EQ(metric(m, "pgopt_draining"), 1);
  EXPECT_EQ(metric(m, "pgopt_clients{database=\"pgopt_test\",user=\"postgres\",state=\"active\"}"), 1) << m;
  EXPECT_EQ(value(busy.get(), "SELECT 5"), "5");
  ok(busy.get(), "COMMIT");
  int st = 0;
  ASSERT_TRUE(eventually([&] { return ::waitpid(pooler->pid, &st, WNOHANG) == pooler->pid; },
                         std::chrono::seconds(10)))
      << pooler->log();
  pooler->pid = -1;
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << pooler->log();
  EXPECT_FALSE(port_open(metrics_port));
}

TEST_F(Metrics, OnlyGetAndHeadOfTwoPathsAreServed) {
  start();
  EXPECT_EQ(get(metrics_port, "/nope").status, 404);
  EXPECT_EQ(get(metrics_port, "/metrics/x").status, 404);
  HttpReply r = get(metrics_port, "/metrics", "POST");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.head.find("Allow: GET, HEAD"), std::string::npos) << r.head;
  EXPECT_EQ(get(metrics_port, "/healthz", "DELETE").status, 405);
  // HEAD: the headers of a GET, no body.
  r = get(metrics_port, "/healthz", "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  // A query string does not change the path.
  r = get(metrics_port, "/metrics?name[]=pgopt_up");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << r.head;
  // Bounded requests: a huge header gets 413, a body over the limit too.
  r = http(metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 413);
  r = http(metrics_port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + std::string(2000, 'b'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(http(metrics_port, "NOT HTTP AT ALL\r\n\r\n").status, 400);
  // Keep-alive: two requests on one connection.
  r = http(metrics_port,
           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("ok\n"), 0u);
  EXPECT_NE(r.body.find("HTTP/1.1 200"), std::string::npos) << r.body;
  // The pooler is still fine.
  Conn c = connect_ok(pooler->conninfo());
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
}

// 64 slow clients (each sent half a request and then a byte now and then) hold every connection slot
// the endpoint has; /healthz still answers at once, again and again (a new connection closes the one
// that waited longest for its request), and every slow client is closed within the request timeout.
TEST_F(Metrics, HealthzAnswersWhile64SlowClientsHoldThePort) {
  start();
  std::vector<int> slow;
  for (size_t i = 0; i < 64; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(metrics_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string part = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    ASSERT_EQ(::send(fd, part.data(), part.size(), MSG_NOSIGNAL), ssize_t(part.size()));
    slow.push_back(fd);
  }
  for (int round = 0; round < 5; ++round) {
    for (int fd : slow) ::send(fd, "X", 1, MSG_NOSIGNAL);  // still "sending" (fails once closed)
    const auto t0 = std::chrono::steady_clock::now();
    HttpReply h = get(metrics_port, "/healthz");
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(h.status, 200) << "round " << round << "\n" << h.head;
    // Generous: before the fix a refused /healthz waited ~10 s for a slot.
    EXPECT_LT(took, std::chrono::seconds(2)) << "round " << round;
  }
  EXPECT_EQ(get(metrics_port, "/metrics").status, 200);
  // Every slow client is closed: five by the health checks above, the rest by the 5 s request deadline.
  for (int fd : slow) {
    pollfd p{fd, POLLIN, 0};
    char b[256];
    bool closed = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!closed && std::chrono::steady_clock::now() < deadline) {
      if (::poll(&p, 1, 200) > 0) closed = ::recv(fd, b, sizeof b, MSG_DONTWAIT) <= 0;
    }
    EXPECT_TRUE(closed) << "a slow client was never closed";
    ::close(fd);
  }
  Conn c = connect_ok(pooler->conninfo());
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
}

// A metrics port someone else holds is a startup error, as a busy listen_port is: exit 1 with the
// address in the message, and nothing left listening.
TEST(MetricsPort, ABusyPortStopsStartupWithAClearError) {
  const int busy = quiet_port();
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(holder, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(busy));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  const auto dir = std::filesystem::temp_directory_path() / ("pgopt-metrics-busy-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const int listen_port = quiet_port();
  std::ofstream(dir / "users.txt") << "";
  std::ofstream(dir / "pgopt.toml") << "[pooler]\nlisten_addr = \"127.0.0.1\"\nlisten_port = " << listen_port
                                    << "\nauth_type = \"trust\"\nauth_file = \"users.txt\"\nmetrics_port = " << busy
                                    << "\n\n[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = "
                                    << ClusterEnv::instance().primary_port << "\n";
  int status = 0;
  const std::string out = run("timeout 20 " + std::string(PGOPT_BINARY) + " pool --config " + (dir / "pgopt.toml").string(), &status);
  ::close(holder);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("cannot listen on 127.0.0.1:" + std::to_string(busy) + " for metrics"), std::string::npos) << out;
  EXPECT_FALSE(port_open(listen_port));
}

TEST_F(Metrics, NonAdminCannotShowStats) {
  start();
  Conn c = connect(pooler->conninfo("mallory", "pgopt"));
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("not allowed to connect to the admin console"),
            std::string::npos)
      << PQerrorMessage(c.get());
  // And an admin can, with every configured database listed even without traffic.
  Conn adm = admin();
  Stats s = show_stats(adm.get());
  EXPECT_EQ(s["total_query_count"], 0);
  EXPECT_EQ(s["p99_query_time"], 0);
}

TEST_F(MetricsSplit, CountsWhereQueriesRanAndReportsTheReplica) {
  split::SplitConfig cfg;
  cfg.read_your_writes = false;
  start(split::options(cfg));
  Conn c = connect_ok(pooler->conninfo());
  ASSERT_TRUE(split::reads_reach_replica(c.get())) << pooler->log();
  const double before = metric(page(), "pgopt_routed_statements_total{database=\"pgopt_test\",target=\"replica\"}");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(split::read_port(c.get()), split::replica_port());
  ok(c.get(), "CREATE TEMP TABLE IF NOT EXISTS metrics_t (x int)");  // a write: the primary
  const std::string m = page();
  EXPECT_GE(metric(m, "pgopt_routed_statements_total{database=\"pgopt_test\",target=\"replica\"}"), before + 5) << m;
  EXPECT_GE(metric(m, "pgopt_routed_statements_total{database=\"pgopt_test\",target=\"primary\"}"), 1) << m;
  const std::string replica = "127.0.0.1:" + std::to_string(split::replica_port());
  EXPECT_EQ(metric(m, "pgopt_replica_up{database=\"pgopt_test\",replica=\"" + replica + "\"}"), 1) << m;
  EXPECT_GE(metric(m, "pgopt_replica_lag_seconds{database=\"pgopt_test\",replica=\"" + replica + "\"}"), 0) << m;
  EXPECT_GE(metric(m, "pgopt_replica_lag_bytes{database=\"pgopt_test\",replica=\"" + replica + "\"}"), 0) << m;
}

}  // namespace
}  // namespace pgopt::test
