// ClassifierCache: hit/miss accounting, LRU eviction order, and results equal to classify().
#include <gtest/gtest.h>

#include <string>

#include "sql/classify.hpp"

namespace pgopt::sql {
namespace {

TEST(ClassifierCache, SecondLookupIsAHitWithTheSameAnswer) {
  ClassifierCache cache({}, 4);
  const Classification& first = cache.classify("SELECT nextval('s')");
  EXPECT_EQ(first.kind, StatementKind::Write);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 0u);
  const Classification& second = cache.classify("SELECT nextval('s')");
  EXPECT_EQ(second.kind, StatementKind::Write);
  EXPECT_EQ(second.reasons, std::vector<std::string>{"calls nextval()"});
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(ClassifierCache, KeyIsTheTextWithLiteralsMasked) {
  ClassifierCache cache({}, 8);
  cache.classify("SELECT 1");
  cache.classify("select 1");
  cache.classify("SELECT 1 ");
  EXPECT_EQ(cache.misses(), 3u);
  EXPECT_EQ(cache.size(), 3u);
  // Values do not make a new entry: an application that inlines them still hits.
  cache.classify("SELECT abalance FROM pgbench_accounts WHERE aid = 4711");
  cache.classify("SELECT abalance FROM pgbench_accounts WHERE aid = 12");
  cache.classify("SELECT abalance FROM pgbench_accounts WHERE aid = 1.5e3");
  EXPECT_EQ(cache.misses(), 4u);
  EXPECT_EQ(cache.hits(), 2u);
  cache.classify("SELECT * FROM t WHERE name = 'it''s' /* 'x' */ AND id = $1");
  cache.classify("SELECT * FROM t WHERE name = 'other' /* 'x' */ AND id = $1");
  EXPECT_EQ(cache.hits(), 3u);
}

TEST(ClassifierCache, LiteralsThatDecideTheAnswerAreNeverMasked) {
  // Each pair differs only in a literal, and the literal changes the classification: whichever
  // comes first must not answer for the other.
  const std::pair<const char*, const char*> pairs[] = {
      {"EXPLAIN (ANALYZE 0) INSERT INTO t VALUES (1)", "EXPLAIN (ANALYZE 1) INSERT INTO t VALUES (1)"},
      {"SELECT set_config('a.b', 'c', 1::boolean)", "SELECT set_config('a.b', 'c', 0::boolean)"},
      {"SELECT pg_catalog.set_config('a.b', 'c', 'true')", "SELECT pg_catalog.set_config('a.b', 'c', 'false')"},
  };
  for (const auto& [a, b] : pairs) {
    ClassifierCache cache({}, 8);
    const StatementKind ka = classify(a, {}).kind, kb = classify(b, {}).kind;
    EXPECT_EQ(cache.classify(a).kind, ka) << a;
    EXPECT_EQ(cache.classify(b).kind, kb) << b;
    ClassifierCache reverse({}, 8);
    EXPECT_EQ(reverse.classify(b).kind, kb) << b;
    EXPECT_EQ(reverse.classify(a).kind, ka) << a;
  }
  EXPECT_NE(classify("EXPLAIN (ANALYZE 0) INSERT INTO t VALUES (1)", {}).kind,
            classify("EXPLAIN (ANALYZE 1) INSERT INTO t VALUES (1)", {}).kind);
}

TEST(ClassifierCache, LiteralFreeKeys) {
  std::string k;
  ASSERT_TRUE(literal_free_key("SELECT 1, .5, 2.5e-3, 'a''b', \"Col 1\" FROM t1 WHERE x = -7 -- 'c\n", k));
  EXPECT_EQ(k, "\x01SELECT ?, ?, ?, ?, \"Col 1\" FROM t1 WHERE x = -? -- 'c\n");
  ASSERT_TRUE(literal_free_key("SELECT $1, $22 /* a /* 'nested' */ 3 */", k));
  EXPECT_EQ(k, "\x01SELECT $1, $22 /* a /* 'nested' */ 3 */");
  for (const char* keep_exact : {"SELECT E'a\\'b'", "SELECT x'1F'", "SELECT U&'a'", "SELECT $$a$$", "SELECT 'open",
                                 "SELECT 1abc", "SELECT 1.2.3", "/* open", "explain select 1", "SELECT \x01"})
    EXPECT_FALSE(literal_free_key(keep_exact, k)) << keep_exact;
}

// The last text's key is remembered per thread: a repeat, and a different text of the same length
// right after it, each get their own key.
TEST(ClassifierCache, LiteralFreeKeyRepeatsAndLookalikes) {
  std::string k;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(literal_free_key("SELECT a FROM t WHERE id = 17", k));
    EXPECT_EQ(k, "\x01SELECT a FROM t WHERE id = ?");
  }
  ASSERT_TRUE(literal_free_key("SELECT b FROM t WHERE id = 17", k));
  EXPECT_EQ(k, "\x01SELECT b FROM t WHERE id = ?");
  EXPECT_FALSE(literal_free_key("SELECT E'x' FROM t WHERE i = 1", k));
  EXPECT_FALSE(literal_free_key("SELECT E'x' FROM t WHERE i = 1", k));  // the remembered result is false too
  std::string big = "SELECT " + std::string(5000, 'x') + " FROM t WHERE id = 1";
  ASSERT_TRUE(literal_free_key(big, k));
  EXPECT_EQ(k, "\x01SELECT " + std::string(5000, 'x') + " FROM t WHERE id = ?");
  ASSERT_TRUE(literal_free_key("SELECT b FROM t WHERE id = 17", k));
  EXPECT_EQ(k, "\x01SELECT b FROM t WHERE id = ?");
}

TEST(ClassifierCache, EvictsTheLeastRecentlyUsed) {
  ClassifierCache cache({}, 2);
  cache.classify("SELECT a");  // miss
  cache.classify("SELECT b");  // miss
  cache.classify("SELECT a");  // hit: SELECT b is now the oldest
  cache.classify("SELECT c");  // miss, evicts SELECT b
  EXPECT_EQ(cache.size(), 2u);
  cache.classify("SELECT a");  // still cached
  EXPECT_EQ(cache.hits(), 2u);
  cache.classify("SELECT b");  // was evicted
  EXPECT_EQ(cache.misses(), 4u);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ClassifierCache, UsesItsOptions) {
  ClassifierOptions o;
  o.read_only_functions = {"app.lookup"};
  ClassifierCache cache(o, 8);
  EXPECT_EQ(cache.classify("SELECT app.lookup(1)").kind, StatementKind::Read);
  ClassifierCache strict({}, 8);
  EXPECT_EQ(strict.classify("SELECT app.lookup(1)").kind, StatementKind::Write);
}

TEST(ClassifierCache, HugeStatementsAreAnsweredButNotKept) {
  ClassifierCache cache({}, 8);
  std::string big = "SELECT 1 WHERE 'x' <> '" + std::string(ClassifierCache::kMaxCachedLength, 'y') + "'";
  EXPECT_EQ(cache.classify(big).kind, StatementKind::Read);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.classify(big + "; DELETE FROM t").kind, StatementKind::Write);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(ClassifierCache, ZeroCapacityStillWorks) {
  ClassifierCache cache({}, 0);
  EXPECT_EQ(cache.classify("SELECT 1").kind, StatementKind::Read);
  EXPECT_EQ(cache.classify("DELETE FROM t").kind, StatementKind::Write);
  EXPECT_EQ(cache.classify("DELETE FROM t").kind, StatementKind::Write);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
}

TEST(ClassifierCache, ManyDistinctStatementsStayBounded) {
  ClassifierCache cache({}, 100);
  for (int i = 0; i < 1000; ++i) {
    std::string sql = "SELECT * FROM t" + std::to_string(i) + " WHERE id = 1";
    EXPECT_EQ(cache.classify(sql).kind, StatementKind::Read);
  }
  EXPECT_EQ(cache.size(), 100u);
  EXPECT_EQ(cache.misses(), 1000u);
  cache.classify("SELECT * FROM t999 WHERE id = 1");
  cache.classify("SELECT * FROM t0 WHERE id = 1");
  EXPECT_EQ(cache.hits(), 1u);
}

}  // namespace
}  // namespace pgopt::sql
