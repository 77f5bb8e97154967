// Network faults between pgopt and PostgreSQL, put there by a FaultProxy (tests/support/): servers
// that reset, close, stall, go half-open or trickle. What clients see is asserted: a clear error or
// the right answer, never a hang on a fault the pooler can detect, and a pool that recovers.
#include "chaos_harness.hpp"
#include "support/fault_proxy.hpp"

namespace pgopt::test::chaos {
namespace {

// A pooler whose database pgopt_test is reached through `proxy`.
PoolerOptions through(const FaultProxy& proxy, int pool_size, const std::string& extra = "") {
  PoolerOptions o;
  o.pool_size = pool_size;
  o.workers = 1;
  o.pooler_extra = "server_connect_timeout = \"2s\"\n" + extra;
  o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " + std::to_string(proxy.port()) + "\n";
  return o;
}

// The reply to `sql` on `c`, sent asynchronously; nullopt if it has not come within `patience`.
std::optional<std::string> reply_within(PGconn* c, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (PQisBusy(c)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    pollfd p{PQsocket(c), POLLIN, 0};
    ::poll(&p, 1, 50);
    if (!PQconsumeInput(c)) break;
  }
  std::string out;
  while (PGresult* r = PQgetResult(c)) {
    out = PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "error:" + std::string(PQresultErrorMessage(r));
    PQclear(r);
  }
  return out;
}

TEST(NetworkFault, ServerResetMidTransactionGivesAnErrorLosesTheTransactionAndThePoolRecovers) {
  FaultProxy proxy(env().primary_port);
  {
    Conn d = direct();
    ok(d.get(), "DROP TABLE IF EXISTS chaos_net; CREATE TABLE chaos_net (id int)");
  }
  Pooler p(through(proxy, 2));
  Conn inside = connect_ok(p.conninfo());
  Conn idle = connect_ok(p.conninfo());
  EXPECT_EQ(value(idle.get(), "SELECT 1"), "1");
  ok(inside.get(), "BEGIN");
  ok(inside.get(), "INSERT INTO chaos_net VALUES (1)");
  proxy.set(Fault::Reset);
  ASSERT_TRUE(eventually([&] { return proxy.open_connections() == 0; }));
  proxy.set(Fault::None);
  // The client inside the transaction learns its server is gone: an error, at once.
  const auto t0 = std::chrono::steady_clock::now();
  const std::string err = error_of(inside.get(), "INSERT INTO chaos_net VALUES (2)");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(err.empty()) << "a statement in a transaction whose server was reset succeeded";
  // A client that held no server carries on as if nothing happened; so does a new one.
  EXPECT_EQ(value(idle.get(), "SELECT 2"), "2");
  Conn fresh = connect_ok(p.conninfo());
  EXPECT_EQ(value(fresh.get(), "SELECT 3"), "3");
  // The broken transaction did not commit, not even in part.
  Conn d = direct();
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM chaos_net"), "0");
  ok(d.get(), "DROP TABLE chaos_net");
}

// Two pooled server connections die while idle (closed, then reset, by the network); the next
// clients must all be served. `check_delay` is server_check_delay.
void idle_servers_closed(const std::string& check_delay) {
  FaultProxy proxy(env().primary_port);
  Pooler p(through(proxy, 2, check_delay.empty() ? "" : "server_check_delay = \"" + check_delay + "\"\n"));
  {
    // Two server connections in the pool.
    Conn a = connect_ok(p.conninfo()), b = connect_ok(p.conninfo());
    ok(a.get(), "BEGIN");
    ok(b.get(), "BEGIN");
    ok(a.get(), "COMMIT");
    ok(b.get(), "COMMIT");
  }
  // What is promised is about servers that idled longer than server_check_delay (10 ms by
  // default): one released a moment ago is handed out unchecked, by design, to save a system call
  // per transaction. On a fast machine the whole fault below took under 10 ms and the check was
  // rightly skipped (CI saw it), so the servers are first made to idle past the delay, in each
  // round: the Reset round's servers are the ones the Close round's last client just released
  // (CI saw that too). The wait is the condition under test, a time, not a guess at how long
  // something takes.
  ASSERT_EQ(proxy.open_connections(), 2);
  for (Fault f : {Fault::Close, Fault::Reset}) {
    const auto idle_since = std::chrono::steady_clock::now();
    proxy.set(f);
    ASSERT_TRUE(eventually([&] { return proxy.open_connections() == 0; }));
    proxy.set(Fault::None);
    // time must pass: server_check_delay (10 ms), so the pooled servers are checked before reuse
    std::this_thread::sleep_until(idle_since + 50ms);
    for (int i = 0; i < 3; ++i) {
      Conn c = connect_ok(p.conninfo());
      EXPECT_EQ(error_of(c.get(), "SELECT 1"), "") << name_of(f) << ": a dead pooled server reached a client";
    }
  }
}

TEST(NetworkFault, IdleServersClosedByTheNetworkAreNotHandedToClients) { idle_servers_closed("0s"); }

TEST(NetworkFault, IdleServersClosedByTheNetworkAreNotHandedToClientsWithTheDefaultCheckDelay) {
  // With the default server_check_delay (10 ms): a server that sat idle is peeked at before a
  // client gets it. It was 1 s, and a server closed within that second reached the next client.
  idle_servers_closed("");
}

TEST(NetworkFault, StalledServerHoldsItsQueryAndNewServersTimeOutWithAnError) {
  FaultProxy proxy(env().primary_port);
  Pooler p(through(proxy, 2));
  Conn held = connect_ok(p.conninfo());
  EXPECT_EQ(value(held.get(), "SELECT 1"), "1");  // one server connection, idle in the pool
  proxy.set(Fault::Stall);
  ASSERT_EQ(PQsendQuery(held.get(), "SELECT 42"), 1);
  // A second client needs a second server: the connect goes nowhere, server_connect_timeout ends it.
  const auto t0 = std::chrono::steady_clock::now();
  Conn other = connect(p.conninfo());
  const std::string err = PQstatus(other.get()) == CONNECTION_OK ? error_of(other.get(), "SELECT 2")
                                                                  : "login:" + std::string(PQerrorMessage(other.get()));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(err.empty()) << "a query succeeded through a stalled server";
  EXPECT_GE(waited, 1500ms) << err;
  EXPECT_LT(waited, 10s) << "no error after server_connect_timeout (2s): " << err;
  // The stalled query is still waiting, and gets its answer once the stall ends: nothing lost.
  EXPECT_FALSE(reply_within(held.get(), 200ms).has_value());
  proxy.set(Fault::None);
  EXPECT_EQ(reply_within(held.get(), 10s).value_or("no reply"), "42");
  Conn after = connect_ok(p.conninfo());
  EXPECT_EQ(value(after.get(), "SELECT 5"), "5");
}

// Half-open: the server vanished without a FIN or RST. Nothing on the pooler's side can tell a
// silent server from a slow one (no query timeout), so the client's query waits; once the client
// gives up, its server is not reused with a reply still owed, and the pool serves the next client.
TEST(NetworkFault, HalfOpenServerIsNotReusedAfterItsClientGivesUp) {
  FaultProxy proxy(env().primary_port);
  Pooler p(through(proxy, 1));
  {
    Conn warm = connect_ok(p.conninfo());
    EXPECT_EQ(value(warm.get(), "SELECT 1"), "1");
  }
  proxy.set(Fault::Blackhole);
  {
    Conn c = connect_ok(p.conninfo());
    ASSERT_EQ(PQsendQuery(c.get(), "SELECT 42"), 1);
    EXPECT_FALSE(reply_within(c.get(), 300ms).has_value());
  }  // the client gives up and closes
  proxy.set(Fault::None);
  // The one pooled server may not carry the abandoned reply to the next client.
  Conn next = connect_ok(p.conninfo());
  Result r = exec(next.get(), "SELECT 7");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(next.get()) << p.log().substr(0, 3000);
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "7");
  EXPECT_EQ(value(next.get(), "SELECT 8"), "8");
}

// A client that vanishes mid-query: pgopt cancels its query and pools the server again. PostgreSQL
// ignores a cancel that arrives while the backend is still reading the query, so a cancel that
// overtakes the query is lost; pgopt cancels again while the gone client's work runs. Here both
// trickle through the proxy, and the cancel (16 bytes) ends before the query's remaining bytes.
TEST(NetworkFault, GoneClientsQueryIsCancelledWhenTheCancelOvertakesIt) {
  FaultProxy proxy(env().primary_port, 20ms);
  Pooler p(through(proxy, 1));
  std::string pid;
  {
    Conn warm = connect_ok(p.conninfo());
    pid = value(warm.get(), "SELECT pg_backend_pid()");
  }
  const std::string sql = "SELECT pg_sleep(30)";
  const uint64_t query_bytes = 1 + 4 + sql.size() + 1, cancel_bytes = 16;
  uint64_t before = 0;
  {
    Conn gone = connect_ok(p.conninfo());
    before = proxy.bytes_up();
    proxy.set(Fault::Trickle);
    ASSERT_EQ(PQsendQuery(gone.get(), sql.c_str()), 1);
    ASSERT_TRUE(eventually([&] { return proxy.bytes_up() > before; }));  // the query is on its way
  }  // leaving now (Terminate, close) makes pgopt cancel while most of the query is still to come
  ASSERT_TRUE(eventually([&] { return proxy.bytes_up() >= before + query_bytes + cancel_bytes; }, 10s));
  proxy.set(Fault::None);
  const auto t0 = std::chrono::steady_clock::now();
  Conn next = connect_ok(p.conninfo());
  // Same server: the query was cancelled and the server pooled, not closed after the 5 s salvage
  // limit (it would be, were the first cancel the only one: pg_sleep(30) outlasts it).
  EXPECT_EQ(value(next.get(), "SELECT pg_backend_pid()"), pid) << p.log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s) << p.log();
}

TEST(NetworkFault, TricklingServerIsSlowButCorrect) {
  FaultProxy proxy(env().primary_port, std::chrono::milliseconds(1));
  Pooler p(through(proxy, 1));
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
  proxy.set(Fault::Trickle);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(value(c.get(), "SELECT repeat('x', 100) || 'y'"), std::string(100, 'x') + "y");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);  // it did go a byte at a time
  proxy.set(Fault::None);
  EXPECT_EQ(value(c.get(), "SELECT 2"), "2");
}

}  // namespace
}  // namespace pgopt::test::chaos
