// Statement shapes: what they fold together, and the invariant the fingerprint cache relies on:
// equal shapes imply equal libpg_query fingerprints.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analyzer/input/fingerprint_cache.hpp"
#include "analyzer/input/shape.hpp"
#include "sql/parser.hpp"

using namespace pgopt::analyzer::input;

namespace {

std::string shape(std::string_view sql) {
  std::string out;
  EXPECT_TRUE(statement_shape(sql, out)) << sql;
  return out;
}

TEST(InputShape, FoldsConstantsCaseWhitespaceAndComments) {
  EXPECT_EQ(shape("SELECT *\n\tFROM  Accounts WHERE id = 42 AND name = 'Bob''s' -- c\n;"),
            "select * from accounts where id = ? and name = ?");
  EXPECT_EQ(shape("select * from accounts /* a /* nested */ comment */ where id=1.5e3"),
            "select * from accounts where id=?");
  EXPECT_EQ(shape("SELECT $$dollar$$, $tag$x$tag$, E'it\\'s', B'0101', x'ff'"), "select ?, ?, e?, b?, x?");
}

TEST(InputShape, KeepsWhatTheFingerprintSees) {
  EXPECT_EQ(shape("SELECT \"MixedCase\", t1.c2 FROM t1 WHERE a = $1"), "select \"MixedCase\", t1.c2 from t1 where a = $1");
  // Utility statements keep their constants: fillfactor=70 and COPY's file name are fingerprinted.
  EXPECT_EQ(shape("CREATE INDEX ON t (a) WITH (fillfactor = 70)"), "create index on t (a) with (fillfactor = 70)");
  EXPECT_EQ(shape("COPY t FROM '/tmp/a.csv'"), "copy t from '/tmp/a.csv'");
  // float(p) picks float4 or float8; current_timestamp(p) keeps p.
  EXPECT_EQ(shape("SELECT x::float(10), current_timestamp(3) FROM t WHERE y = 3"),
            "select x::float(10), current_timestamp(3) from t where y = ?");
  // Each statement of a multi-statement string decides for itself.
  EXPECT_EQ(shape("SELECT 1; CREATE INDEX ON t (a) WITH (fillfactor = 70);"),
            "select ?; create index on t (a) with (fillfactor = 70)");
}

TEST(InputShape, RejectsUnterminatedText) {
  std::string out;
  EXPECT_FALSE(statement_shape("SELECT 'open", out));
  EXPECT_FALSE(statement_shape("SELECT \"open", out));
  EXPECT_FALSE(statement_shape("SELECT 1 /* open", out));
  EXPECT_FALSE(statement_shape("SELECT $q$ open", out));
}

// The property the cache depends on, over pairs that differ in what the shape drops.
TEST(InputShape, EqualShapesHaveEqualFingerprints) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"SELECT * FROM t WHERE a = 1", "select *   from T where A = 99999999999999999999"},
      {"SELECT * FROM t WHERE a = 'x' -- hi", "SELECT * FROM t WHERE a = $$y$$"},
      {"SELECT * FROM t LIMIT 5 OFFSET 10", "SELECT * FROM t LIMIT 50 OFFSET 1"},
      {"SELECT x::varchar(3) FROM t", "SELECT x::varchar(30) FROM t"},
      {"SELECT x::numeric(10,2) FROM t", "SELECT x::numeric(12,4) FROM t"},
      {"SELECT interval '1 day', date '2020-01-01'", "SELECT interval '2 days', date '2021-01-01'"},
      {"SELECT * FROM t ORDER BY 1", "SELECT * FROM t ORDER BY 2"},
      {"SELECT a[1] FROM t TABLESAMPLE SYSTEM (10)", "SELECT a[2] FROM t TABLESAMPLE SYSTEM (20)"},
      {"INSERT INTO t VALUES (1, 'a')", "insert into t values (2, 'b')"},
      {"UPDATE t SET a = a + 1 WHERE b = E'\\n'", "UPDATE t SET a = a + 2 WHERE b = 'q'"},
      {"WITH q AS (SELECT 1) SELECT * FROM q WHERE x > 2.5", "with q as (select 7) select * from q where x > .5"},
      {"DELETE FROM t WHERE ts > now() - interval '5 minutes'", "DELETE FROM t WHERE ts > now() - interval '6 minutes'"},
      {"SELECT x::float(10) FROM t", "SELECT x::float(10) FROM t WHERE 1 = 1 AND 2 = 2 AND false"},
      {"SET search_path = app", "set search_path = app"},
      {"CREATE INDEX ON t (a) WITH (fillfactor = 70)", "create index on t (a) with (fillfactor = 70)"},
  };
  for (const auto& [a, b] : pairs) {
    std::string sa = shape(a), sb = shape(b);
    auto fa = pgopt::sql::fingerprint(a), fb = pgopt::sql::fingerprint(b);
    ASSERT_TRUE(fa.value && fb.value) << a << " / " << b;
    if (sa == sb) {
      EXPECT_EQ(*fa.value, *fb.value) << "same shape, different fingerprints: " << a << " / " << b;
    }
  }
  // And pairs whose fingerprints differ must get different shapes.
  const std::vector<std::pair<std::string, std::string>> different = {
      {"SELECT x::float(10) FROM t", "SELECT x::float(30) FROM t"},
      {"SELECT current_timestamp(3)", "SELECT current_timestamp(6)"},
      {"CREATE INDEX ON t (a) WITH (fillfactor = 70)", "CREATE INDEX ON t (a) WITH (fillfactor = 80)"},
      {"COPY t FROM '/a'", "COPY t FROM '/b'"},
      {"SELECT \"A\" FROM t", "SELECT a FROM t"},
  };
  for (const auto& [a, b] : different) {
    auto fa = pgopt::sql::fingerprint(a), fb = pgopt::sql::fingerprint(b);
    ASSERT_NE(*fa.value, *fb.value) << a << " / " << b;
    EXPECT_NE(shape(a), shape(b)) << a << " / " << b;
  }
}

TEST(InputShape, CacheParsesEachShapeOnce) {
  FingerprintCache cache(4);
  std::string s;
  statement_shape("SELECT 1", s);
  const ShapeInfo& a = cache.lookup(s, "SELECT 1");
  ASSERT_TRUE(a.ok);
  uint64_t fp = a.fingerprint;
  EXPECT_EQ(a.normalized, "SELECT $1");
  statement_shape("select 2", s);
  EXPECT_EQ(cache.lookup(s, "select 2").fingerprint, fp);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  statement_shape("SELEC nonsense", s);
  EXPECT_FALSE(cache.lookup(s, "SELEC nonsense").ok);
  // Bounded: past max_entries the memo starts over instead of growing.
  for (int i = 0; i < 10; ++i) {
    std::string sql = "SELECT c" + std::to_string(i) + " FROM t";
    statement_shape(sql, s);
    EXPECT_TRUE(cache.lookup(s, sql).ok);
  }
  EXPECT_LE(cache.size(), 4u);
  // The text it keeps is bounded too (huge statements must not pile up).
  FingerprintCache small(1000, 200);
  for (int i = 0; i < 20; ++i) {
    std::string sql = "SELECT " + std::string(40, 'x') + std::to_string(i) + " FROM t";
    statement_shape(sql, s);
    EXPECT_TRUE(small.lookup(s, sql).ok);
  }
  EXPECT_LE(small.size(), 4u);
  EXPECT_EQ(small.misses(), 20u);
}

}  // namespace
