// Named prepared statements in transaction mode, at the protocol level: each client keeps its own
// names while the servers share one statement per text, whichever server runs the next transaction.
#include "raw_client.hpp"

namespace pgopt::test {
namespace {

// Builders for the extended-protocol messages a test sends by hand.
std::string cstr(const std::string& s) { return s + '\0'; }
std::string i16(int v) { return std::string{char((v >> 8) & 0xff), char(v & 0xff)}; }
std::string i32(uint32_t v) {
  std::string s;
  RawClient::put32(s, v);
  return s;
}
std::string msg(char type, const std::string& body) { return std::string(1, type) + i32(uint32_t(body.size() + 4)) + body; }
std::string parse_msg(const std::string& name, const std::string& q) { return msg('P', cstr(name) + cstr(q) + i16(0)); }
std::string bind_msg(const std::string& name, const std::vector<std::string>& params = {}) {
  std::string b = cstr("") + cstr(name) + i16(0) + i16(int(params.size()));
  for (const auto& p : params) b += i32(uint32_t(p.size())) + p;
  return msg('B', b + i16(0));
}
std::string describe_msg(char kind, const std::string& name) { return msg('D', std::string(1, kind) + cstr(name)); }
std::string execute_msg() { return msg('E', cstr("") + i32(0)); }
std::string close_stmt(const std::string& name) { return msg('C', "S" + cstr(name)); }
std::string query_msg(const std::string& q) { return msg('Q', cstr(q)); }
const std::string kSync = msg('S', "");

// Reads up to and including the `n`th ReadyForQuery.
std::vector<RawMessage> replies(RawClient& c, int n = 1) {
  std::vector<RawMessage> out;
  int z = 0;
  while (z < n) {
    auto m = c.read_message();
    if (!m) {
      ADD_FAILURE() << "connection ended or timed out after " << out.size() << " replies";
      break;
    }
    out.push_back(*m);
    if (m->type == 'Z') ++z;
  }
  return out;
}
// "1 2 T D C Z" for quick comparison; errors show their SQLSTATE ("E42P05").
std::string shape(const std::vector<RawMessage>& ms) {
  std::string s;
  for (const auto& m : ms) {
    if (!s.empty()) s += ' ';
    s += m.type;
    if (m.type == 'E') s += RawClient::sqlstate(m);
  }
  return s;
}
// The text of each DataRow's first column.
std::vector<std::string> values(const std::vector<RawMessage>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) {
    if (m.type != 'D' || m.body.size() < 6) continue;
    uint32_t len;
    std::memcpy(&len, m.body.data() + 2, 4);
    len = ntohl(len);
    out.push_back(m.body.substr(6, len));
  }
  return out;
}
std::string error_message(const std::vector<RawMessage>& ms) {
  for (const auto& m : ms) {
    if (m.type != 'E') continue;
    auto at = m.body.find(std::string("\0M", 2));
    if (at != std::string::npos) return m.body.substr(at + 2, m.body.find('\0', at + 2) - at - 2);
  }
  return "";
}

// Columns in a RowDescription.
int proto_field_count(const RawMessage& m) {
  if (m.type != 'T' || m.body.size() < 2) return -1;
  return (uint8_t(m.body[0]) << 8) | uint8_t(m.body[1]);
}

std::unique_ptr<RawClient> client(const Pooler& p) {
  auto c = std::make_unique<RawClient>(p.port);
  EXPECT_TRUE(c->connected());
  EXPECT_TRUE(c->login());
  return c;
}

// Backend pid the client's next transaction runs on.
std::string backend_pid(RawClient& c) {
  c.send_raw(query_msg("SELECT pg_backend_pid()"));
  auto v = values(replies(c));
  return v.empty() ? "" : v[0];
}

// Leaves `holder` in an open transaction on the server with backend `pid` (retrying until the pool
// hands it that one), so other clients must use another server.
bool hold_server(RawClient& holder, const std::string& pid) {
  for (int i = 0; i < 20; ++i) {
    holder.send_raw(query_msg("BEGIN"));
    replies(holder);
    if (backend_pid(holder) == pid) return true;
    holder.send_raw(query_msg("COMMIT"));
    replies(holder);
  }
  return false;
}

PoolerOptions txn(int pool_size, const std::string& extra = {}) {
  PoolerOptions o;
  o.pool_size = pool_size;
  o.workers = 1;
  o.pooler_extra = extra;
  return o;
}

TEST(Prepared, DescribeBeforeAnyBindOnAFreshServer) {
  Pooler p(txn(1));
  auto c = client(p);
  c->send_raw(parse_msg("q", "SELECT $1::int + 1 AS n") + describe_msg('S', "q") + kSync);
  EXPECT_EQ(shape(replies(*c)), "1 t T Z");
  c->send_raw(bind_msg("q", {"41"}) + execute_msg() + kSync);
  auto r = replies(*c);
  EXPECT_EQ(shape(r), "2 D C Z");
  EXPECT_EQ(values(r), std::vector<std::string>{"42"});
}

TEST(Prepared, StatementFollowsTheClientAcrossServers) {
  Pooler p(txn(2));
  auto a = client(p);
  auto b = client(p);
  a->send_raw(parse_msg("mine", "SELECT 'a:' || $1") + kSync);
  EXPECT_EQ(shape(replies(*a)), "1 Z");
  a->send_raw(bind_msg("mine", {"0"}) + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"a:0"});
  const std::string first = backend_pid(*a);
  // b holds the server a just used in an open transaction, so a must go to the other one.
  ASSERT_TRUE(hold_server(*b, first));
  for (int i = 1; i < 4; ++i) {
    a->send_raw(bind_msg("mine", {std::to_string(i)}) + execute_msg() + kSync);
    auto r = replies(*a);
    ASSERT_EQ(shape(r), "2 D C Z") << i;
    EXPECT_EQ(values(r)[0], "a:" + std::to_string(i));
  }
  EXPECT_NE(backend_pid(*a), first);
  // The client's view of pg_prepared_statements shows its own name (the server holds the shared one,
  // which the view joins: prepare_time comes from this server).
  a->send_raw(query_msg("SELECT string_agg(name, ',') FROM pg_prepared_statements WHERE prepare_time IS NOT NULL"));
  EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"mine"});
  b->send_raw(query_msg("COMMIT"));
  replies(*b);
  // b's own name space: it has no statement "mine" ...
  b->send_raw(bind_msg("mine", {"x"}) + execute_msg() + kSync);
  auto r = replies(*b);
  EXPECT_EQ(shape(r), "E26000 Z");
  EXPECT_EQ(error_message(r), "prepared statement \"mine\" does not exist");
  // ... and may use the name for something else while a keeps its own.
  b->send_raw(parse_msg("mine", "SELECT 'b:' || $1") + bind_msg("mine", {"1"}) + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*b)), std::vector<std::string>{"b:1"});
  a->send_raw(bind_msg("mine", {"9"}) + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"a:9"});
}

TEST(Prepared, FailedParseLeavesNoMappingAndRetryWorks) {
  Pooler p(txn(1));
  Conn d = direct();
  ok(d.get(), "DROP TABLE IF EXISTS prep_retry");
  auto c = client(p);
  // Syntax errors are caught at Parse even with no server attached.
  c->send_raw(parse_msg("s", "SELEC 1") + kSync);
  auto r = replies(*c);
  EXPECT_EQ(shape(r), "E42601 Z");
  EXPECT_EQ(error_message(r), "syntax error at or near \"SELEC\"");
  // Inside a transaction the server itself rejects it (the table does not exist yet).
  c->send_raw(query_msg("BEGIN"));
  replies(*c);
  c->send_raw(parse_msg("s", "SELECT count(*) FROM prep_retry") + kSync);
  EXPECT_EQ(shape(replies(*c)), "E42P01 Z");
  c->send_raw(query_msg("ROLLBACK"));
  replies(*c);
  // Outside one, the error comes with the first Bind, and the name is freed as well.
  c->send_raw(parse_msg("s", "SELECT count(*) FROM prep_retry") + kSync);
  EXPECT_EQ(shape(replies(*c)), "1 Z");
  c->send_raw(bind_msg("s") + execute_msg() + kSync);
  EXPECT_EQ(shape(replies(*c)), "E42P01 Z");
  ok(d.get(), "CREATE TABLE prep_retry (x int)");
  c->send_raw(parse_msg("s", "SELECT count(*) FROM prep_retry") + bind_msg("s") + execute_msg() + kSync);
  auto again = replies(*c);
  EXPECT_EQ(shape(again), "1 2 D C Z");
  EXPECT_EQ(values(again), std::vector<std::string>{"0"});
  ok(d.get(), "DROP TABLE prep_retry");
}

TEST(Prepared, DuplicateNameIsRefusedLikePostgres) {
  Pooler p(txn(1));
  auto c = client(p);
  c->send_raw(parse_msg("s", "SELECT 1") + kSync);
  replies(*c);
  // The error puts the server in the skip-to-Sync state PostgreSQL would be in: the Bind after it
  // is ignored, not run.
  c->send_raw(parse_msg("s", "SELECT 2") + bind_msg("s") + execute_msg() + kSync);
  auto r = replies(*c);
  EXPECT_EQ(shape(r), "E42P05 Z");
  EXPECT_EQ(error_message(r), "prepared statement \"s\" already exists");
  c->send_raw(bind_msg("s") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*c)), std::vector<std::string>{"1"});
}

TEST(Prepared, CloseThenReparseWithDifferentText) {
  Pooler p(txn(1));
  auto c = client(p);
  auto other = client(p);
  c->send_raw(parse_msg("s", "SELECT 'first'") + bind_msg("s") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*c)), std::vector<std::string>{"first"});
  other->send_raw(parse_msg("o", "SELECT 'first'") + kSync);  // shares the server-side statement
  replies(*other);
  c->send_raw(close_stmt("s") + kSync);
  EXPECT_EQ(shape(replies(*c)), "3 Z");
  c->send_raw(bind_msg("s") + execute_msg() + kSync);
  EXPECT_EQ(shape(replies(*c)), "E26000 Z");
  c->send_raw(parse_msg("s", "SELECT 'second'") + bind_msg("s") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*c)), std::vector<std::string>{"second"});
  // The close took only c's name: the shared statement still serves the other client.
  other->send_raw(bind_msg("o") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*other)), std::vector<std::string>{"first"});
  // Closing a name that does not exist is no error, as in PostgreSQL.
  c->send_raw(close_stmt("never") + kSync);
  EXPECT_EQ(shape(replies(*c)), "3 Z");
}

TEST(Prepared, EvictionKeepsAtMostTheLimitPerServer) {
  Pooler p(txn(1, "max_prepared_statements = 2\n"));
  auto c = client(p);
  for (int i = 0; i < 10; ++i) {
    c->send_raw(parse_msg("s" + std::to_string(i), "SELECT " + std::to_string(i) + " AS v") + kSync);
    ASSERT_EQ(shape(replies(*c)), "1 Z");
  }
  // Every one still works, in any order, though the server holds two at a time.
  for (int round = 0; round < 2; ++round) {
    for (int i : {3, 9, 0, 7, 3, 1, 8, 2, 6, 4, 5}) {
      c->send_raw(bind_msg("s" + std::to_string(i)) + execute_msg() + kSync);
      auto r = replies(*c);
      ASSERT_EQ(shape(r), "2 D C Z");
      EXPECT_EQ(values(r)[0], std::to_string(i));
    }
  }
  // The client sees its ten names; prepare_time is set for those its server holds now.
  c->send_raw(query_msg("SELECT count(prepare_time) FROM pg_prepared_statements"));
  auto held = values(replies(*c));
  ASSERT_EQ(held.size(), 1u);
  EXPECT_LE(std::atoi(held[0].c_str()), 2);
  EXPECT_GE(std::atoi(held[0].c_str()), 1);
}

TEST(Prepared, PipelineOfAHundredWithOneSync) {
  Pooler p(txn(1, "max_prepared_statements = 10\n"));
  auto c = client(p);
  std::string batch;
  for (int i = 0; i < 100; ++i) {
    std::string name = "p" + std::to_string(i % 30);  // 30 names, each Parsed once then reused
    if (i < 30) batch += parse_msg(name, "SELECT " + std::to_string(i % 30) + " + $1::int");
    batch += bind_msg(name, {std::to_string(i)}) + execute_msg();
  }
  c->send_raw(batch + kSync);
  auto r = replies(*c);
  auto v = values(r);
  ASSERT_EQ(v.size(), 100u) << shape(r).substr(0, 200);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(v[size_t(i)], std::to_string(i % 30 + i));
  // Exactly the replies asked for: 30 ParseComplete, 100 BindComplete, 100 rows and tags, one Z.
  size_t parses = 0, binds = 0;
  for (const auto& m : r) {
    parses += m.type == '1';
    binds += m.type == '2';
  }
  EXPECT_EQ(parses, 30u);
  EXPECT_EQ(binds, 100u);
}

TEST(Prepared, UnnamedAndNamedMixed) {
  Pooler p(txn(1));
  auto c = client(p);
  c->send_raw(parse_msg("", "SELECT 'unnamed ' || $1") + parse_msg("n", "SELECT 'named ' || $1") + bind_msg("", {"1"}) +
              execute_msg() + bind_msg("n", {"2"}) + execute_msg() + bind_msg("", {"3"}) + execute_msg() + kSync);
  auto r = replies(*c);
  EXPECT_EQ(shape(r), "1 1 2 D C 2 D C 2 D C Z");
  EXPECT_EQ(values(r), (std::vector<std::string>{"unnamed 1", "named 2", "unnamed 3"}));
}

TEST(Prepared, ErrorMidPipelineSkipsToSyncAndKeepsNamesRight) {
  Pooler p(txn(1));
  auto c = client(p);
  // The Parse of "late" is skipped by the server after the division error, so "late" must not
  // exist afterwards; "early" must.
  c->send_raw(parse_msg("early", "SELECT 1") + parse_msg("boom", "SELECT 1/(random()*0)::int") + bind_msg("boom") + execute_msg() +
              parse_msg("late", "SELECT 2") + kSync);
  EXPECT_EQ(shape(replies(*c)), "1 1 2 E22012 Z");
  c->send_raw(bind_msg("late") + execute_msg() + kSync);
  EXPECT_EQ(shape(replies(*c)), "E26000 Z");
  c->send_raw(bind_msg("early") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*c)), std::vector<std::string>{"1"});
  c->send_raw(parse_msg("late", "SELECT 2") + bind_msg("late") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*c)), std::vector<std::string>{"2"});
}

TEST(Prepared, ResultTypeChangeGivesAFreshStatementNextTransaction) {
  Pooler p(txn(1));
  Conn d = direct();
  ok(d.get(), "DROP TABLE IF EXISTS prep_shape; CREATE TABLE prep_shape (a int); INSERT INTO prep_shape VALUES (1)");
  auto c = client(p);
  c->send_raw(parse_msg("s", "SELECT * FROM prep_shape") + bind_msg("s") + execute_msg() + kSync);
  EXPECT_EQ(shape(replies(*c)), "1 2 D C Z");
  ok(d.get(), "ALTER TABLE prep_shape ADD COLUMN b int");
  c->send_raw(query_msg("BEGIN"));
  replies(*c);
  c->send_raw(bind_msg("s") + execute_msg() + kSync);
  EXPECT_EQ(shape(replies(*c)), "E0A000 Z");
  c->send_raw(query_msg("ROLLBACK"));
  replies(*c);
  c->send_raw(bind_msg("s") + describe_msg('P', "") + execute_msg() + kSync);
  auto r = replies(*c);
  ASSERT_EQ(shape(r), "2 T D C Z");
  // Outside a transaction, before anything reached the client: retried with a fresh statement,
  // and the client never sees the error.
  ok(d.get(), "ALTER TABLE prep_shape ADD COLUMN c int");
  c->send_raw(bind_msg("s") + describe_msg('P', "") + execute_msg() + kSync);
  r = replies(*c);
  ASSERT_EQ(shape(r), "2 T D C Z");
  auto fields = proto_field_count(r[1]);
  EXPECT_EQ(fields, 3);
  // The same for SQL EXECUTE.
  c->send_raw(query_msg("PREPARE q AS SELECT * FROM prep_shape"));
  replies(*c);
  ok(d.get(), "ALTER TABLE prep_shape ADD COLUMN e int");
  c->send_raw(query_msg("EXECUTE q"));
  r = replies(*c);
  ASSERT_EQ(shape(r), "T D C Z");
  EXPECT_EQ(proto_field_count(r[0]), 4);
  ok(d.get(), "DROP TABLE prep_shape");
}

TEST(Prepared, DeallocateAndDiscardAllTouchOnlyTheClient) {
  Pooler p(txn(1));
  auto a = client(p);
  auto b = client(p);
  a->send_raw(parse_msg("x", "SELECT 'x'") + parse_msg("y", "SELECT 'y'") + kSync);
  replies(*a);
  b->send_raw(parse_msg("x", "SELECT 'x'") + kSync);
  replies(*b);
  a->send_raw(query_msg("DEALLOCATE x"));
  auto r = replies(*a);
  ASSERT_EQ(shape(r), "C Z");
  EXPECT_EQ(r[0].body, std::string("DEALLOCATE\0", 11));
  a->send_raw(query_msg("DEALLOCATE x"));
  r = replies(*a);
  EXPECT_EQ(shape(r), "E26000 Z");
  EXPECT_EQ(error_message(r), "prepared statement \"x\" does not exist");
  a->send_raw(bind_msg("y") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"y"});
  a->send_raw(query_msg("DEALLOCATE ALL"));
  r = replies(*a);
  ASSERT_EQ(shape(r), "C Z");
  EXPECT_EQ(r[0].body, std::string("DEALLOCATE ALL\0", 15));
  a->send_raw(bind_msg("y") + execute_msg() + kSync);
  EXPECT_EQ(shape(replies(*a)), "E26000 Z");
  // b never noticed.
  b->send_raw(bind_msg("x") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*b)), std::vector<std::string>{"x"});
  // DISCARD ALL empties b's names too, and the server's statements are prepared again on demand.
  b->send_raw(query_msg("DISCARD ALL"));
  EXPECT_EQ(shape(replies(*b)), "C Z");
  b->send_raw(bind_msg("x") + execute_msg() + kSync);
  EXPECT_EQ(shape(replies(*b)), "E26000 Z");
  a->send_raw(parse_msg("x", "SELECT 'x'") + bind_msg("x") + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"x"});
}

TEST(Prepared, LibpqPrepareWorksWithManyClientsOnFewServers) {
  // PQprepare waits for its answer; with 8 clients on 2 servers in one thread of control this would
  // deadlock if a Parse had to wait for a server while others hold both in open transactions.
  Pooler p(txn(2));
  std::vector<Conn> conns;
  for (int i = 0; i < 8; ++i) conns.push_back(connect_ok(p.conninfo()));
  for (int i = 0; i < 2; ++i) ok(conns[size_t(i)].get(), "BEGIN");
  for (size_t i = 0; i < conns.size(); ++i) {
    Result r(PQprepare(conns[i].get(), "q", "SELECT $1::int * 2", 1, nullptr));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQerrorMessage(conns[i].get());
  }
  for (int i = 0; i < 2; ++i) ok(conns[size_t(i)].get(), "COMMIT");
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < conns.size(); ++i) {
      std::string v = std::to_string(i * 10 + size_t(round));
      const char* params[] = {v.c_str()};
      Result r(PQexecPrepared(conns[i].get(), "q", 1, params, nullptr, nullptr, 0));
      ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(conns[i].get());
      EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), std::to_string((i * 10 + size_t(round)) * 2));
    }
  }
}

TEST(Prepared, SqlPrepareAndExecuteFollowTheClient) {
  Pooler p(txn(2));
  Conn d = direct();
  ok(d.get(), "DROP TABLE IF EXISTS prep_sql");
  auto a = client(p);
  auto b = client(p);
  a->send_raw(query_msg("PREPARE twice (int) AS SELECT $1 * 2"));
  auto r = replies(*a);
  ASSERT_EQ(shape(r), "C Z");
  EXPECT_EQ(r[0].body, std::string("PREPARE\0", 8));
  const std::string first = backend_pid(*a);
  ASSERT_TRUE(hold_server(*b, first));
  a->send_raw(query_msg("EXECUTE twice(21)"));
  EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"42"});
  EXPECT_NE(backend_pid(*a), first);
  b->send_raw(query_msg("COMMIT"));
  replies(*b);
  // The same statement through the protocol, and a protocol statement through EXECUTE.
  a->send_raw(bind_msg("twice", {"5"}) + execute_msg() + kSync);
  EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"10"});
  a->send_raw(parse_msg("proto", "SELECT 'p' || $1") + kSync);
  replies(*a);
  a->send_raw(query_msg("EXECUTE proto('x')"));
  EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"px"});
  // Other clients do not have a's names; PostgreSQL's errors, with the client's name.
  b->send_raw(query_msg("EXECUTE twice(1)"));
  r = replies(*b);
  EXPECT_EQ(shape(r), "E26000 Z");
  EXPECT_EQ(error_message(r), "prepared statement \"twice\" does not exist");
  a->send_raw(query_msg("PREPARE twice AS SELECT 1"));
  r = replies(*a);
  EXPECT_EQ(shape(r), "E42P05 Z");
  EXPECT_EQ(error_message(r), "prepared statement \"twice\" already exists");
  // A PREPARE the server refuses leaves no name; after the fix it works.
  a->send_raw(query_msg("PREPARE counted AS SELECT count(*) FROM prep_sql"));
  EXPECT_EQ(shape(replies(*a)), "E42P01 Z");
  ok(d.get(), "CREATE TABLE prep_sql (x int); INSERT INTO prep_sql VALUES (1), (2)");
  a->send_raw(query_msg("PREPARE counted AS SELECT count(*) FROM prep_sql"));
  EXPECT_EQ(shape(replies(*a)), "C Z");
  for (int i = 0; i < 3; ++i) {
    a->send_raw(query_msg("EXECUTE counted"));
    EXPECT_EQ(values(replies(*a)), std::vector<std::string>{"2"});
  }
  a->send_raw(query_msg("DEALLOCATE counted"));
  EXPECT_EQ(shape(replies(*a)), "C Z");
  a->send_raw(query_msg("EXECUTE counted"));
  EXPECT_EQ(shape(replies(*a)), "E26000 Z");
  ok(d.get(), "DROP TABLE prep_sql");
}

}  // namespace
}  // namespace pgopt::test
