// Which server connection a client gets: transaction-mode release after ReadyForQuery 'I' only,
// and a cancel request reaching the right server connection with that server's own key.
#include "component_fixture.hpp"

#include <future>

namespace pgopt::test {
namespace {
namespace proto = pgopt::protocol;

TEST_F(Component, TransactionModeReleasesAfterIdleReadyForQueryOnly) {
  start([](FakeConn& c) { serve_queries(c); }, [] {
    PoolerOptions o;
    o.pool_size = 2;
    o.workers = 1;  // idle servers are kept per worker: one worker, so B may reuse A's
    return o;
  }());
  Conn a = connect_ok(pooler->conninfo());
  Conn b = connect_ok(pooler->conninfo());
  // After 'I' the server goes back: B's statement runs on A's connection.
  EXPECT_EQ(value(a.get(), "SELECT 'a1'"), "a1");
  EXPECT_EQ(value(b.get(), "SELECT 'b1'"), "b1");
  EXPECT_EQ(fake->connections(), 1);
  EXPECT_EQ(fake->queries(0), (std::vector<std::string>{"SELECT 'a1'", "SELECT 'b1'"}));

  // After 'T' A keeps it: B needs a connection of its own.
  ok(a.get(), "BEGIN");
  EXPECT_EQ(value(a.get(), "SELECT 'a in tx'"), "a in tx");
  EXPECT_EQ(value(b.get(), "SELECT 'b2'"), "b2");
  EXPECT_EQ(fake->connections(), 2);
  EXPECT_EQ(fake->queries(1), std::vector<std::string>{"SELECT 'b2'"});
  ok(a.get(), "COMMIT");
  EXPECT_EQ(fake->queries(0), (std::vector<std::string>{"SELECT 'a1'", "SELECT 'b1'", "BEGIN", "SELECT 'a in tx'",
                                                        "COMMIT"}));
}

// Whether `key` is among the cancel requests the fake received.
bool cancelled(const FakeBackend& f, proto::CancelKey key) {
  for (const auto& k : f.cancels())
    if (k == key) return true;
  return false;
}

TEST_F(Component, CancelReachesTheRightServerConnectionWithItsOwnKey) {
  start([](FakeConn& c) {
    serve_queries(c, [](FakeConn& conn, const std::string& sql) {
      if (sql != "SELECT 'slow'" && sql != "SELECT 'bystander'") return false;
      FakeBackend& f = conn.backend();
      // Both run until a cancel request has reached the fake; only the one it names stops.
      conn.wait_until([&] { return !f.cancels().empty(); }, "a cancel request");
      std::string out;
      if (cancelled(f, conn.key())) {
        proto::error_response(out, "ERROR", "57014", "canceling statement due to user request");
        proto::ready_for_query(out, 'I');
      } else {
        out = FakeBackend::result({"?column?"}, {{sql.substr(8, sql.size() - 9)}});
      }
      conn.send(out);
      return true;
    });
  }, [] {
    PoolerOptions o;
    o.pool_size = 2;
    return o;
  }());
  Conn victim = connect_ok(pooler->conninfo());
  Conn bystander = connect_ok(pooler->conninfo());
  ASSERT_EQ(PQsendQuery(victim.get(), "SELECT 'slow'"), 1);
  ASSERT_TRUE(eventually([&] { return fake->queries(0).size() == 1; }));
  ASSERT_EQ(PQsendQuery(bystander.get(), "SELECT 'bystander'"), 1);
  ASSERT_TRUE(eventually([&] { return fake->queries(1).size() == 1; }));

  PGcancel* cancel = PQgetCancel(victim.get());
  char err[256];
  ASSERT_EQ(PQcancel(cancel, err, sizeof err), 1) << err;
  PQfreeCancel(cancel);

  ASSERT_TRUE(ready_within(victim.get())) << "the cancelled query never ended";
  Result r(PQgetResult(victim.get()));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(sqlstate(r.get()), "57014");
  while (PGresult* x = PQgetResult(victim.get())) PQclear(x);
  ASSERT_TRUE(ready_within(bystander.get()));
  Result b(PQgetResult(bystander.get()));
  ASSERT_EQ(PQresultStatus(b.get()), PGRES_TUPLES_OK) << PQerrorMessage(bystander.get());
  EXPECT_STREQ(PQgetvalue(b.get(), 0, 0), "bystander");
  while (PGresult* x = PQgetResult(bystander.get())) PQclear(x);

  // Exactly one cancel, with the key the fake gave the victim's server connection (not the key
  // pgopt gave the client).
  ASSERT_EQ(fake->cancels().size(), 1u);
  EXPECT_TRUE(fake->cancels()[0] == fake->key_of(0));
  EXPECT_EQ(fake->queries(0), std::vector<std::string>{"SELECT 'slow'"});
  EXPECT_EQ(fake->queries(1), std::vector<std::string>{"SELECT 'bystander'"});
}

// PostgreSQL's postmaster closes a cancel connection only after signalling the backend, and the
// backend's ERROR may reach the pooler first. Until the close, the pooler keeps the server attached
// (a signal still on its way must not stop another client's query): the client's next query in
// that window runs on the same server, and the server goes back to the pool once the cancel is
// done.
TEST_F(Component, AQueryRightAfterACancelledOneRunsWhileTheCancelIsStillInFlight) {
  start([](FakeConn& c) {
    serve_queries(c, [](FakeConn& conn, const std::string& sql) {
      if (sql != "SELECT 'slow'") return false;
      conn.wait_until([&] { return !conn.backend().cancels().empty(); }, "a cancel request");
      std::string out;
      proto::error_response(out, "ERROR", "57014", "canceling statement due to user request");
      proto::ready_for_query(out, 'I');
      conn.send(out);
      return true;
    });
  }, [] {
    PoolerOptions o;
    o.pool_size = 1;
    o.workers = 1;
    return o;
  }());
  fake->hold_cancels(true);
  Conn c = connect_ok(pooler->conninfo());
  ASSERT_EQ(PQsendQuery(c.get(), "SELECT 'slow'"), 1);
  ASSERT_TRUE(eventually([&] { return fake->queries(0).size() == 1; }));
  PGcancel* cancel = PQgetCancel(c.get());
  char err[256];
  ASSERT_EQ(PQcancel(cancel, err, sizeof err), 1) << err;
  PQfreeCancel(cancel);
  ASSERT_TRUE(ready_within(c.get())) << "the cancelled query never ended";
  {
    Result r(PQgetResult(c.get()));
    EXPECT_EQ(sqlstate(r.get()), "57014");
    while (PGresult* x = PQgetResult(c.get())) PQclear(x);
  }
  // The cancel connection is still open: the next query goes to the same server at once.
  EXPECT_EQ(value(c.get(), "SELECT 'next'"), "next");
  EXPECT_EQ(fake->cancels().size(), 1u);
  fake->hold_cancels(false);
  EXPECT_EQ(value(c.get(), "SELECT 'after'"), "after");
  // And the server went back: another client gets it (pool_size 1).
  Conn other = connect_ok(pooler->conninfo());
  EXPECT_EQ(value(other.get(), "SELECT 'other'"), "other");
  EXPECT_EQ(fake->connections(), 1);
  EXPECT_EQ(fake->queries(0), (std::vector<std::string>{"SELECT 'slow'", "SELECT 'next'", "SELECT 'after'",
                                                        "SELECT 'other'"}));
}

}  // namespace
}  // namespace pgopt::test
