// cacheability(), cache_hint() and written_tables(): what the result cache may keep, and what a
// write must invalidate (docs/result-cache.md).
#include "sql/cacheability.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sql/builtin_functions.hpp"
#include "sql/cache_writes.hpp"
#include "sql/classify.hpp"
#include "tsv.hpp"

namespace pgopt::sql {
namespace {

using namespace std::chrono_literals;
using Tables = std::vector<std::string>;

Cacheability check(std::string_view sql, CacheabilityOptions opt = {}) { return cacheability(sql, opt); }

TEST(Cacheability, PlainReadsAreCacheableWithTheirTables) {
  for (const char* sql : {"SELECT 1", "VALUES (1), (2)", "TABLE app.flags", "SELECT * FROM products WHERE id = $1",
                          "SELECT lower(name), count(*) FROM users GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
                          "SELECT current_user, session_user, current_schema",
                          "SELECT to_char(created, 'YYYY-MM-DD'), date_trunc('day', created) FROM orders"}) {
    Cacheability c = check(sql);
    EXPECT_TRUE(c.cacheable) << sql << ": " << c.reason;
    EXPECT_TRUE(c.reason.empty()) << sql;
  }
}

TEST(Cacheability, TablesAreQualifiedAsWrittenFromEveryDepth) {
  Cacheability c = check(
      "WITH recent AS (SELECT * FROM app.orders WHERE id > 5) "
      "SELECT * FROM recent r JOIN Users u ON u.id = r.user_id "
      "WHERE EXISTS (SELECT 1 FROM \"Audit\".\"Log\" l WHERE l.id = u.id) "
      "AND u.plan IN (SELECT plan FROM plans) UNION ALL SELECT * FROM users");
  EXPECT_TRUE(c.cacheable) << c.reason;
  // `recent` is the CTE: kept on purpose (an extra name costs one more invalidation, never stale data).
  EXPECT_EQ(c.tables, (Tables{"Audit.Log", "app.orders", "plans", "recent", "users"}));
}

TEST(Cacheability, VolatileAndClockFunctionsAreNot) {
  struct Case {
    const char* sql;
    const char* reason;
  };
  for (const Case& k : std::vector<Case>{
           {"SELECT now()", "calls stable function now()"},
           {"SELECT random()", "calls volatile function random()"},
           {"SELECT clock_timestamp()", "calls volatile function clock_timestamp()"},
           {"SELECT nextval('s')", "calls nextval()"},
           {"SELECT txid_current()", "calls txid_current()"},
           {"SELECT pg_current_xact_id()", "calls pg_current_xact_id()"},
           {"SELECT pg_current_wal_lsn()", "calls volatile function pg_current_wal_lsn()"},
           {"SELECT txid_current_snapshot()", "calls stable function txid_current_snapshot()"},
           {"SELECT pg_catalog.statement_timestamp()", "calls stable function statement_timestamp()"},
           {"SELECT has_table_privilege('t', 'SELECT')", "calls stable function has_table_privilege()"},
           {"SELECT set_config('a.b', '1', true)", "set_config()"},
           {"SELECT pg_advisory_lock(1)", "calls pg_advisory_lock()"},
           {"SELECT pg_try_advisory_xact_lock(1)", "calls pg_try_advisory_xact_lock()"},
           {"SELECT current_setting('app.tenant')", "calls stable function current_setting()"},
           {"SELECT * FROM t WHERE created > CURRENT_TIMESTAMP - interval '1 day'", "CURRENT_TIMESTAMP"},
           {"SELECT CURRENT_DATE", "CURRENT_DATE"},
           {"SELECT LOCALTIMESTAMP", "LOCALTIMESTAMP"},
           {"SELECT age(born) FROM people", "calls stable function age()"},
           {"SELECT gen_random_uuid()", "volatile function gen_random_uuid()"},
           {"SELECT app.price(id) FROM products", "calls user function app.price()"},
           {"SELECT * FROM generate_series(1, 3) g, lateral (SELECT random()) r", "random()"},
       }) {
    Cacheability c = check(k.sql);
    EXPECT_FALSE(c.cacheable) << k.sql;
    EXPECT_NE(c.reason.find(k.reason), std::string::npos) << k.sql << ": " << c.reason;
  }
}

TEST(Cacheability, StableFunctionsFromConfigAreTrusted) {
  CacheabilityOptions opt;
  opt.stable_functions = {"app.price", "Tax_Rate"};
  EXPECT_TRUE(check("SELECT app.price(id), tax_rate(id) FROM products", opt).cacheable);
  EXPECT_TRUE(check("SELECT billing.tax_rate(1)", opt).cacheable);  // unqualified entry: any schema
  // A qualified entry vouches only for the qualified call (search_path might lead elsewhere).
  Cacheability c = check("SELECT price(1)", opt);
  EXPECT_FALSE(c.cacheable);
  EXPECT_EQ(c.reason, "calls user function price() (not in the cache's stable_functions)");
  // The list cannot bless a volatile built-in by accident unless it names it.
  EXPECT_FALSE(check("SELECT random()", opt).cacheable);
}

TEST(Cacheability, LocksWritesAndIntoAreNot) {
  struct Case {
    const char* sql;
    const char* reason;
  };
  for (const Case& k : std::vector<Case>{
           {"SELECT * FROM t FOR UPDATE", "SELECT ... FOR UPDATE"},
           {"SELECT * FROM t FOR SHARE", "SELECT ... FOR SHARE"},
           {"SELECT * FROM (SELECT * FROM t FOR NO KEY UPDATE) s", "FOR NO KEY UPDATE"},
           {"SELECT * INTO copy FROM t", "SELECT INTO"},
           {"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "data-modifying CTE"},
           {"WITH x AS (SELECT 1), y AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT 1", "data-modifying CTE"},
           {"INSERT INTO t VALUES (1)", "not a SELECT"},
           {"EXPLAIN SELECT 1", "not a SELECT"},
           {"SHOW TimeZone", "not a SELECT"},
           {"SELECT 1; SELECT 2", "more than one statement"},
           {"", "no statement"},
           {"SELEC 1", "does not parse"},
           {"SELECT * FROM t TABLESAMPLE SYSTEM (10)", "TABLESAMPLE without REPEATABLE"},
           {"SELECT * FROM pg_stat_activity", "pg_stat_activity"},
           {"SELECT * FROM pg_catalog.pg_class", "pg_catalog.pg_class"},
           {"SELECT * FROM information_schema.tables", "information_schema.tables"},
           {"SELECT * FROM pg_temp.scratch", "pg_temp.scratch"},
       }) {
    Cacheability c = check(k.sql);
    EXPECT_FALSE(c.cacheable) << k.sql;
    EXPECT_NE(c.reason.find(k.reason), std::string::npos) << k.sql << ": " << c.reason;
  }
  EXPECT_TRUE(check("SELECT * FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (42)").cacheable);
}

TEST(Cacheability, TheFirstObstacleIsTheReasonAndTablesAreStillListed) {
  Cacheability c = check("SELECT random(), now() FROM a JOIN b USING (id) FOR UPDATE");
  EXPECT_FALSE(c.cacheable);
  EXPECT_EQ(c.reason, "SELECT ... FOR UPDATE");  // the SELECT node is visited before its children
  EXPECT_EQ(c.tables, (Tables{"a", "b"}));
}

TEST(Cacheability, EveryKeyStableBuiltinIsAStableBuiltin) {
  auto names = detail::key_stable_builtins();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (std::string_view n : names) {
    EXPECT_EQ(detail::builtin_volatility(n), detail::Volatility::Stable) << n;
    EXPECT_FALSE(detail::is_builtin_writer(n)) << n;
    EXPECT_TRUE(detail::is_key_stable_builtin(n)) << n;
  }
  EXPECT_FALSE(detail::is_key_stable_builtin("now"));
  EXPECT_FALSE(detail::is_key_stable_builtin("current_setting"));
}

TEST(CacheHint, LeadingCommentWithTtl) {
  auto h = cache_hint("/* pgopt:cache ttl=5s */ SELECT 1");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->ttl, 5s);
  EXPECT_TRUE(h->error.empty());
  EXPECT_EQ(cache_hint("-- note\n/*PGOPT : Cache  TTL = 250ms*/SELECT 1")->ttl, 250ms);
  EXPECT_EQ(cache_hint("/* pgopt:cache ttl=2min */ SELECT 1")->ttl, 2min);
  EXPECT_EQ(cache_hint("/* pgopt:primary */ /* pgopt:cache ttl=1h */ SELECT 1")->ttl, 1h);
  EXPECT_EQ(check("/* pgopt:cache ttl=5s */ SELECT 1").hint->ttl, 5s);
}

TEST(CacheHint, NotAHint) {
  EXPECT_FALSE(cache_hint("SELECT 1"));
  EXPECT_FALSE(cache_hint("SELECT 1 /* pgopt:cache ttl=5s */"));  // only leading comments count
  EXPECT_FALSE(cache_hint("/* pgopt:primary */ SELECT 1"));
  EXPECT_FALSE(cache_hint("/* pgopt:cached */ SELECT 1"));
  EXPECT_FALSE(cache_hint("/* a /* pgopt:cache ttl=5s */ b */ SELECT 1"));  // nested: a comment
  EXPECT_FALSE(cache_hint("/* pgopt:cache ttl=5s"));                         // unterminated
  EXPECT_FALSE(check("SELECT 1").hint);
}

TEST(CacheHint, MalformedHintsAreErrorsNotSilence) {
  for (const char* sql : {"/* pgopt:cache */ SELECT 1", "/* pgopt:cache ttl */ SELECT 1", "/* pgopt:cache ttl=5 */ SELECT 1",
                          "/* pgopt:cache ttl=0s */ SELECT 1", "/* pgopt:cache ttl=-1s */ SELECT 1",
                          "/* pgopt:cache ttl=5d */ SELECT 1", "/* pgopt:cache ttl=1000h */ SELECT 1",
                          "/* pgopt:cache size=5 */ SELECT 1", "/* pgopt:cache ttl=s */ SELECT 1"}) {
    auto h = cache_hint(sql);
    ASSERT_TRUE(h) << sql;
    EXPECT_FALSE(h->error.empty()) << sql;
    EXPECT_EQ(h->ttl, 0ms) << sql;
  }
}

// ---- written_tables --------------------------------------------------------------------------

WrittenTables writes(std::string_view sql, ClassifierOptions opt = {}) { return written_tables(sql, opt); }

TEST(WrittenTables, DmlTargetsAtEveryDepth) {
  EXPECT_EQ(writes("INSERT INTO app.orders SELECT * FROM staging").tables, Tables{"app.orders"});
  EXPECT_EQ(writes("UPDATE users SET x = 1 FROM plans WHERE plans.id = users.plan").tables, Tables{"users"});
  EXPECT_EQ(writes("DELETE FROM Carts").tables, Tables{"carts"});
  EXPECT_EQ(writes("MERGE INTO stock s USING deliveries d ON s.id = d.id WHEN MATCHED THEN UPDATE SET n = s.n + d.n").tables,
            Tables{"stock"});
  EXPECT_EQ(writes("WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d").tables, (Tables{"a", "b"}));
  EXPECT_EQ(writes("SELECT * FROM (WITH u AS (UPDATE c SET n = 1 RETURNING *) SELECT * FROM u) s").tables, Tables{"c"});
  EXPECT_EQ(writes("COPY items FROM STDIN").tables, Tables{"items"});
  EXPECT_EQ(writes("TRUNCATE a, app.b").tables, (Tables{"a", "app.b"}));
  EXPECT_EQ(writes("SELECT * INTO snapshot FROM t").tables, Tables{"snapshot"});
  EXPECT_EQ(writes("CREATE TABLE app.t2 AS SELECT 1").tables, Tables{"app.t2"});
  EXPECT_EQ(writes("EXPLAIN ANALYZE DELETE FROM t").tables, Tables{"t"});
  EXPECT_EQ(writes("INSERT INTO a VALUES (1); UPDATE b SET x = 2; INSERT INTO a VALUES (3)").tables, (Tables{"a", "b"}));
  EXPECT_EQ(writes("SELECT nextval('App.Seq')").tables, Tables{"app.seq"});
  for (const auto& w : {writes("INSERT INTO t VALUES (1)"), writes("TRUNCATE t")}) EXPECT_FALSE(w.all);
}

TEST(WrittenTables, NothingForReadsAndSessionStatements) {
  for (const char* sql : {"SELECT * FROM t", "EXPLAIN DELETE FROM t", "SET search_path = app", "BEGIN", "COMMIT",
                          "ROLLBACK", "SAVEPOINT a", "LISTEN x", "NOTIFY x", "LOCK t", "VACUUM t", "ANALYZE t",
                          "PREPARE p AS DELETE FROM t", "COPY t TO STDOUT", "SELECT pg_advisory_lock(1)",
                          "ROLLBACK PREPARED 'x'", "SHOW all"}) {
    WrittenTables w = writes(sql);
    EXPECT_FALSE(w.any()) << sql << ": " << w.reason;
  }
}

TEST(WrittenTables, AllWhenTheTextCannotTell) {
  struct Case {
    const char* sql;
    const char* reason;
  };
  for (const Case& k : std::vector<Case>{
           {"CALL app.proc()", "CALL"},
           {"DO $$ BEGIN DELETE FROM t; END $$", "DO"},
           {"EXECUTE p(1)", "EXECUTE"},
           {"COMMIT PREPARED 'x'", "COMMIT PREPARED"},
           {"ALTER TABLE t ADD COLUMN c int", "DDL"},
           {"CREATE OR REPLACE VIEW v AS SELECT 2", "DDL"},
           {"GRANT SELECT ON t TO bob", "DDL"},
           {"SELECT app.touch(1)", "calls unknown function app.touch()"},
           {"INSERT INTO log VALUES (audit.stamp())", "audit.stamp()"},
           {"SELECT nextval(seq_name) FROM conf", "computed or quoted sequence name"},
           {"SELECT nextval('\"Odd\".s')", "computed or quoted sequence name"},
           {"DELET FROM t", "does not parse"},
       }) {
    WrittenTables w = writes(k.sql);
    EXPECT_TRUE(w.all) << k.sql;
    EXPECT_NE(w.reason.find(k.reason), std::string::npos) << k.sql << ": " << w.reason;
  }
}

TEST(WrittenTables, FunctionListsFollowTheClassifierOptions) {
  ClassifierOptions opt;
  opt.read_only_functions = {"app.touch"};
  EXPECT_FALSE(writes("SELECT app.touch(1)", opt).any());
  opt.write_functions = {"lower"};
  EXPECT_TRUE(writes("SELECT lower('A')", opt).all);
  ClassifierOptions lenient;
  lenient.unknown_functions_are_reads = true;
  EXPECT_FALSE(writes("SELECT app.touch(1)", lenient).any());
  EXPECT_EQ(writes("INSERT INTO t VALUES (app.touch(1))", lenient).tables, Tables{"t"});
}

// ---- against the classifier's golden statements ------------------------------------------------

// The classifier's golden file (classify.tsv): real traffic, of every kind.
std::vector<std::string> golden_statements() {
  std::vector<std::string> out;
  for (const auto& row : testing::read_tsv(std::string(PGOPT_FIXTURES) + "/sql/classify.tsv"))
    if (row.cells.size() >= 3 && row.cells.size() < 4) out.push_back(row.cells[0]);  // default options only
  return out;
}

TEST(CacheabilityGolden, CacheableImpliesReadAndWritingImpliesNotRead) {
  const auto statements = golden_statements();
  ASSERT_GE(statements.size(), 100u);
  size_t cacheable = 0, writing = 0;
  for (const std::string& sql : statements) {
    Classification c = classify(sql, {});
    if (cacheability(sql, {}).cacheable) {
      ++cacheable;
      EXPECT_EQ(c.kind, StatementKind::Read) << sql;  // a cacheable statement never needs the primary
    }
    if (written_tables(sql, {}).any()) {
      ++writing;
      EXPECT_NE(c.kind, StatementKind::Read) << sql;  // what invalidates is never routed as a read
    }
  }
  EXPECT_GE(cacheable, 5u);
  EXPECT_GE(writing, 30u);
}

}  // namespace
}  // namespace pgopt::sql
