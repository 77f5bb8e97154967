// CacheFactsMemo: the result cache's per-worker answers are those of cacheability() and
// written_tables(), kept per literal-free text (a repeat is a hit), never across options, and never
// for a text whose sequence name is a literal.
#include <gtest/gtest.h>

#include <string>

#include "sql/cache_facts.hpp"

namespace pgopt::sql {
namespace {

TEST(CacheFactsMemo, CacheabilityIsKeptPerLiteralFreeTextWithItsHint) {
  CacheFactsMemo memo(16);
  const CacheabilityOptions none;
  const Cacheability& a = memo.cacheability("/* pgopt:cache ttl=5s */ SELECT v FROM t WHERE id = 1", none);
  EXPECT_TRUE(a.cacheable);
  ASSERT_TRUE(a.hint);
  EXPECT_EQ(a.hint->ttl.count(), 5000);
  EXPECT_EQ(memo.misses(), 1u);
  const Cacheability& b = memo.cacheability("/* pgopt:cache ttl=5s */ SELECT v FROM t WHERE id = 2", none);
  EXPECT_EQ(memo.hits(), 1u);
  EXPECT_EQ(b.tables, std::vector<std::string>{"t"});
  // Another hint is another comment, so another key: its own TTL, not the first one's.
  const Cacheability& c = memo.cacheability("/* pgopt:cache ttl=9s */ SELECT v FROM t WHERE id = 2", none);
  EXPECT_EQ(memo.misses(), 2u);
  ASSERT_TRUE(c.hint);
  EXPECT_EQ(c.hint->ttl.count(), 9000);
  EXPECT_FALSE(memo.cacheability("SELECT v FROM t WHERE id = 1 AND random() < 1", none).cacheable);
  EXPECT_FALSE(memo.cacheability("SELECT v FROM t WHERE id = 2 AND random() < 1", none).cacheable);
}

TEST(CacheFactsMemo, WrittenTablesAreKeptPerOptions) {
  CacheFactsMemo memo(16);
  ClassifierOptions plain, listed;
  listed.read_only_functions = {"app.lookup"};
  const std::string k1 = options_key(plain), k2 = options_key(listed);
  EXPECT_NE(k1, k2);
  EXPECT_TRUE(memo.written_tables("SELECT app.lookup(1)", plain, k1).all);
  EXPECT_FALSE(memo.written_tables("SELECT app.lookup(2)", listed, k2).all);  // not the plain answer
  EXPECT_TRUE(memo.written_tables("SELECT app.lookup(3)", plain, k1).all);
  EXPECT_EQ(memo.hits(), 1u);
  EXPECT_EQ(memo.written_tables("UPDATE t SET v = 'x' WHERE id = 4", plain, k1).tables, std::vector<std::string>{"t"});
}

TEST(CacheFactsMemo, SequenceNamesAreLiteralsSoNeverShared) {
  CacheFactsMemo memo(16);
  const ClassifierOptions o;
  const std::string k = options_key(o);
  EXPECT_EQ(memo.written_tables("SELECT nextval('a')", o, k).tables, std::vector<std::string>{"a"});
  EXPECT_EQ(memo.written_tables("SELECT nextval('b')", o, k).tables, std::vector<std::string>{"b"});
  EXPECT_EQ(memo.written_tables("SELECT SetVal('c', 5)", o, k).tables, std::vector<std::string>{"c"});
  EXPECT_EQ(memo.hits(), 0u);
}

TEST(TextMemo, EvictsTheLeastRecentlyUsed) {
  TextMemo<int> m(2);
  m.insert("a", 1);
  m.insert("b", 2);
  ASSERT_NE(m.find("a"), nullptr);  // a is now the most recent
  m.insert("c", 3);                 // evicts b
  EXPECT_EQ(m.find("b"), nullptr);
  ASSERT_NE(m.find("a"), nullptr);
  EXPECT_EQ(*m.find("c"), 3);
  EXPECT_EQ(m.size(), 2u);
}

}  // namespace
}  // namespace pgopt::sql
