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

TEST(ClassifierCache, KeyIsTheExactText) {
  ClassifierCache cache({}, 4);
  cache.classify("SELECT 1");
  cache.classify("select 1");
  cache.classify("SELECT 1 ");
  EXPECT_EQ(cache.misses(), 3u);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(ClassifierCache, EvictsTheLeastRecentlyUsed) {
  ClassifierCache cache({}, 2);
  cache.classify("SELECT 1");  // miss
  cache.classify("SELECT 2");  // miss
  cache.classify("SELECT 1");  // hit: SELECT 2 is now the oldest
  cache.classify("SELECT 3");  // miss, evicts SELECT 2
  EXPECT_EQ(cache.size(), 2u);
  cache.classify("SELECT 1");  // still cached
  EXPECT_EQ(cache.hits(), 2u);
  cache.classify("SELECT 2");  // was evicted
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
    std::string sql = "SELECT * FROM t WHERE id = " + std::to_string(i);
    EXPECT_EQ(cache.classify(sql).kind, StatementKind::Read);
  }
  EXPECT_EQ(cache.size(), 100u);
  EXPECT_EQ(cache.misses(), 1000u);
  cache.classify("SELECT * FROM t WHERE id = 999");
  cache.classify("SELECT * FROM t WHERE id = 0");
  EXPECT_EQ(cache.hits(), 1u);
}

}  // namespace
}  // namespace pgopt::sql
