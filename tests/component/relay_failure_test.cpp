// Servers that fail mid-reply: one that closes half-way through a result, and an ErrorResponse in
// the middle of an extended-protocol pipeline (PostgreSQL skips the rest until Sync).
#include "admin_harness.hpp"
#include "component_fixture.hpp"

namespace pgopt::test {
namespace {
namespace proto = pgopt::protocol;

std::string two_rows() { return FakeBackend::result({"v"}, {{std::string(3000, 'x')}, {std::string(3000, 'y')}}); }

// Where the first DataRow of two_rows() ends (RowDescription, then the row).
size_t first_row_end() {
  std::string head;
  proto::row_description(head, {"v"});
  proto::data_row(head, {std::string(3000, 'x')});
  return head.size();
}

// A server that sends the first `keep` bytes of a two-row result and closes; then serves normally.
FakeBackend::Script closes_after(size_t keep) {
  return [keep](FakeConn& c) {
    if (c.index() == 0) {
      c.expect('Q');
      c.send(two_rows().substr(0, keep));
      c.close();
      return;
    }
    serve_queries(c);
  };
}

PoolerOptions one_worker() {
  PoolerOptions o;
  o.workers = 1;  // every client on the worker whose idle server the next one takes
  return o;
}

// The next client runs on a new connection (the fake's second): the dead one was not pooled.
void expect_next_client_served(Pooler& p, FakeBackend& f) {
  Conn b = connect_ok(p.conninfo());
  EXPECT_EQ(value(b.get(), "SELECT 'next'"), "next");
  EXPECT_EQ(f.connections(), 2);
  EXPECT_EQ(f.queries(1).back(), "SELECT 'next'");
}

TEST_F(Component, ServerClosingBetweenMessagesOfAReplyFailsThatRequestWith08006) {
  // RowDescription and the first DataRow, then the server is gone. Transaction mode, outside a
  // transaction block: pgopt fails the request as PostgreSQL would and keeps the client.
  start(closes_after(first_row_end()), one_worker());
  Conn a = connect_ok(pooler->conninfo());
  Result r = exec(a.get(), "SELECT 'doomed'");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(sqlstate(r.get()), "08006") << PQerrorMessage(a.get());
  EXPECT_NE(std::string(PQerrorMessage(a.get())).find("lost before this request finished"), std::string::npos)
      << PQerrorMessage(a.get());
  EXPECT_EQ(value(a.get(), "SELECT 'a again'"), "a again");
  expect_next_client_served(*pooler, *fake);
}

// Inside a DataRow (its header, its length, its value): part of the row has reached the client,
// so no ErrorResponse can follow it in the same stream; the client must still get a clear error.
class CutInsideRow : public Component, public ::testing::WithParamInterface<int> {};

TEST_P(CutInsideRow, ServerClosingInsideADataRowGivesTheClientAClearError) {
  start(closes_after(size_t(int(first_row_end()) + GetParam())), one_worker());
  Conn a = connect_ok(pooler->conninfo());
  Result r = exec(a.get(), "SELECT 'doomed'");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  const std::string error = PQerrorMessage(a.get());
  EXPECT_EQ(error.find("lost synchronization"), std::string::npos) << error;
  EXPECT_TRUE(error.find("server closed the connection") != std::string::npos ||
              error.find("lost before this request finished") != std::string::npos) << error;
  expect_next_client_served(*pooler, *fake);
}

// Offsets from the end of the first row: in the second's header (1, 3) and value (5, 1500), in the
// first's header (-3010), value (-1500, -5). -5 found the bug this guards: pgopt wrote its 08006
// ErrorResponse after the partial row, which completed the row and left the rest as garbage (libpq:
// `lost synchronization with server: got message type "S"`); now such a client is closed without a
// byte more (ClientSession::server_failed).
INSTANTIATE_TEST_SUITE_P(Offsets, CutInsideRow, ::testing::Values(-3010, -1500, -5, 1, 3, 5, 1500));

// The messages of a pipeline: unnamed statement, Bind, Describe portal, Execute (no Sync).
int send_in_pipeline(PGconn* c, const char* sql) {
  return PQsendQueryParams(c, sql, 0, nullptr, nullptr, nullptr, nullptr, 0);
}

TEST_F(Component, ErrorMidPipelineSkipsToSyncAndReleasesOnlyAfterReadyForQuery) {
  auto b_waits = std::make_shared<std::atomic<bool>>(false);
  start([b_waits](FakeConn& c) {
    // Two queries, then Sync: P B D E P B D E S.
    auto got = c.until('S');
    std::string types;
    for (const auto& m : got) types += m.type;
    if (types != "PBDEPBDES") throw ScriptError("pipeline arrived as " + types);
    // As PostgreSQL: the first Execute fails, everything up to Sync is skipped, then ReadyForQuery.
    std::string out;
    proto::parse_complete(out);
    proto::bind_complete(out);
    proto::row_description(out, {"?column?"});
    proto::error_response(out, "ERROR", "22012", "division by zero");
    c.send_per_message(out);
    // Hold ReadyForQuery until the other client is queued for this (the only) server: released
    // at the error, the server would have gone to it already and it would never queue.
    c.wait_until([&] { return b_waits->load(); }, "the second client to queue");
    out.clear();
    proto::ready_for_query(out, 'I');
    c.send(out);
    serve_queries(c);
  }, [] {
    PoolerOptions o;
    o.pool_size = 1;
    o.pooler_extra = "admin_users = [\"admin\"]\n";
    return o;
  }());
  Conn a = connect_ok(pooler->conninfo());
  Conn b = connect_ok(pooler->conninfo());
  Conn admin = connect_ok(pooler->conninfo("admin", "pgopt"));
  ASSERT_EQ(PQenterPipelineMode(a.get()), 1);
  ASSERT_EQ(send_in_pipeline(a.get(), "SELECT 1/0"), 1);
  ASSERT_EQ(send_in_pipeline(a.get(), "SELECT 2"), 1);
  ASSERT_EQ(PQpipelineSync(a.get()), 1);
  ASSERT_TRUE(eventually([&] { return fake->received(0).size() > 0 && fake->received(0).back().type == 'S'; }));
  ASSERT_EQ(PQsendQuery(b.get(), "SELECT 'b'"), 1);
  ASSERT_TRUE(eventually([&] {
    auto pools = show(admin.get(), "SHOW POOLS").where({{"database", "pgopt_test"}});
    return !pools.empty() && pools[0]["cl_waiting"] == "1";
  })) << "the second client never waited for the server";
  b_waits->store(true);

  // A sees what PostgreSQL's own pipeline gives: the error, the skipped query aborted, the sync.
  ASSERT_TRUE(ready_within(a.get()));
  Result e(PQgetResult(a.get()));
  EXPECT_EQ(PQresultStatus(e.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(sqlstate(e.get()), "22012");
  EXPECT_EQ(PQgetResult(a.get()), nullptr);
  ASSERT_TRUE(ready_within(a.get()));
  Result aborted(PQgetResult(a.get()));
  EXPECT_EQ(PQresultStatus(aborted.get()), PGRES_PIPELINE_ABORTED);
  EXPECT_EQ(PQgetResult(a.get()), nullptr);
  ASSERT_TRUE(ready_within(a.get()));
  Result sync(PQgetResult(a.get()));
  EXPECT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(a.get()), 1) << PQerrorMessage(a.get());

  // B then gets the same server (one connection), its query after A's whole pipeline.
  ASSERT_TRUE(ready_within(b.get()));
  Result rb(PQgetResult(b.get()));
  ASSERT_EQ(PQresultStatus(rb.get()), PGRES_TUPLES_OK) << PQerrorMessage(b.get());
  EXPECT_STREQ(PQgetvalue(rb.get(), 0, 0), "b");
  EXPECT_EQ(PQgetResult(b.get()), nullptr);
  EXPECT_EQ(fake->connections(), 1);
  EXPECT_EQ(fake->queries(0), std::vector<std::string>{"SELECT 'b'"});
  EXPECT_EQ(value(a.get(), "SELECT 'a again'"), "a again");
}

}  // namespace
}  // namespace pgopt::test
