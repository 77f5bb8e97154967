// Queries through the pooler with libpq: simple, extended, multi-statement, errors, COPY, big results.
#include "harness.hpp"

namespace pgopt::test {
namespace {

class Basic : public ::testing::TestWithParam<std::string> {};

TEST_P(Basic, SimpleExtendedAndMultiStatement) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), "SELECT 40 + 2"), "42");
  const char* params[] = {"20", "22"};
  Result r(PQexecParams(c.get(), "SELECT $1::int + $2::int", 2, nullptr, params, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "42");
  // A multi-statement query returns the last result and runs as one implicit transaction.
  EXPECT_EQ(value(c.get(), "SELECT 1; SELECT 2; SELECT 'three'"), "three");
  EXPECT_EQ(error_of(c.get(), "SELECT 1; SELECT 1/0; SELECT 3"), "22012");
  EXPECT_EQ(value(c.get(), "SELECT 'still fine'"), "still fine");
}

TEST_P(Basic, ErrorsInsideAndOutsideTransactions) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(error_of(c.get(), "SELECT * FROM no_such_table"), "42P01");
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
  ok(c.get(), "BEGIN");
  EXPECT_EQ(error_of(c.get(), "SELECT 1/0"), "22012");
  EXPECT_EQ(error_of(c.get(), "SELECT 1"), "25P02");  // aborted transaction stays aborted
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_INERROR);
  ok(c.get(), "ROLLBACK");
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_IDLE);
  EXPECT_EQ(value(c.get(), "SELECT 2"), "2");
}

TEST_P(Basic, CopyInAndOut) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  std::string table = "copy_" + GetParam();
  ok(c.get(), "DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + " (id int, name text)");
  Result r = exec(c.get(), "COPY " + table + " FROM STDIN");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN) << PQerrorMessage(c.get());
  std::string data;
  for (int i = 0; i < 10000; ++i) data += std::to_string(i) + "\tname" + std::to_string(i) + "\n";
  ASSERT_EQ(PQputCopyData(c.get(), data.data(), int(data.size())), 1);
  ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
  Result done(PQgetResult(c.get()));
  EXPECT_EQ(PQresultStatus(done.get()), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
  EXPECT_EQ(value(c.get(), "SELECT count(*) FROM " + table), "10000");

  Result out = exec(c.get(), "COPY (SELECT id FROM " + table + " ORDER BY id) TO STDOUT");
  ASSERT_EQ(PQresultStatus(out.get()), PGRES_COPY_OUT);
  long lines = 0, sum = 0;
  char* buf = nullptr;
  int n;
  while ((n = PQgetCopyData(c.get(), &buf, 0)) > 0) {
    sum += std::atol(buf);
    ++lines;
    PQfreemem(buf);
  }
  EXPECT_EQ(lines, 10000);
  EXPECT_EQ(sum, 9999L * 10000 / 2);
  while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
  ok(c.get(), "DROP TABLE " + table);
}

TEST_P(Basic, ExtendedProtocolCopyInReleasesTheServer) {
  // libpq sends Parse/Bind/Execute/Sync, the data, CopyDone and a second Sync; PostgreSQL ignores
  // the first Sync (it arrives during the copy) and answers only the second. With one server, a
  // pooler waiting for two ReadyForQuery would never hand it to the next client.
  PoolerOptions o;
  o.pool_mode = GetParam();
  o.pool_size = 1;
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  std::string table = "xcopy_" + GetParam();
  ok(c.get(), "DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + " (id int)");
  for (int round = 0; round < 3; ++round) {
    Result r(PQexecParams(c.get(), ("COPY " + table + " FROM STDIN").c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN) << PQerrorMessage(c.get());
    std::string data = "1\n2\n3\n";
    ASSERT_EQ(PQputCopyData(c.get(), data.data(), int(data.size())), 1);
    ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
    Result done(PQgetResult(c.get()));
    EXPECT_EQ(PQresultStatus(done.get()), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
    while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
  }
  EXPECT_EQ(value(c.get(), "SELECT count(*) FROM " + table), "9");
  if (GetParam() == "transaction") {
    Conn other = connect_ok(p.conninfo());
    EXPECT_EQ(value(other.get(), "SELECT 'the server came back'"), "the server came back");
  }
  ok(c.get(), "DROP TABLE " + table);
}

TEST_P(Basic, FiftyMegabyteResults) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  // One 50 MB value (a single message larger than any buffer we keep) and 50 MB in many rows.
  EXPECT_EQ(value(c.get(), "SELECT length(repeat('x', 50 * 1024 * 1024))"), "52428800");
  Result big = exec(c.get(), "SELECT repeat('y', 50 * 1024 * 1024)");
  ASSERT_EQ(PQresultStatus(big.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(PQgetlength(big.get(), 0, 0), 50 * 1024 * 1024);
  Result rows = exec(c.get(), "SELECT i, repeat('z', 1000) FROM generate_series(1, 52429) i");
  ASSERT_EQ(PQresultStatus(rows.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(PQntuples(rows.get()), 52429);
  EXPECT_STREQ(PQgetvalue(rows.get(), 52428, 0), "52429");
  EXPECT_EQ(value(c.get(), "SELECT 'after'"), "after");
}

void collect_notice(void* arg, const PGresult* r) {
  static_cast<std::vector<std::string>*>(arg)->push_back(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
}

TEST_P(Basic, NoticesAreRelayed) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  std::vector<std::string> notices;
  PQsetNoticeReceiver(c.get(), collect_notice, &notices);
  ok(c.get(), "DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0], "hello from the server");
}

TEST_P(Basic, UnknownDatabaseIs3D000) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  Pooler p(o);
  Conn c = connect(p.conninfo("postgres", "no_such_db"));
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("database \"no_such_db\" does not exist"), std::string::npos)
      << PQerrorMessage(c.get());
  EXPECT_TRUE(p.wait_log("unknown database \"no_such_db\""));
}

INSTANTIATE_TEST_SUITE_P(Modes, Basic, ::testing::Values("transaction", "session"));

}  // namespace
}  // namespace pgopt::test
