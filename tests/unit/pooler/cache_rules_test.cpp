// cache::Rules and ClientCommits: which rule a statement falls under, and a client's own commits.
#include "pooler/cache/rules.hpp"

#include <gtest/gtest.h>

#include "pooler/cache/client_commits.hpp"

namespace pgopt::pooler::cache {
namespace {

using namespace std::chrono_literals;
using Tables = std::vector<std::string>;

CacheRule rule(std::string name, std::chrono::milliseconds ttl) {
  CacheRule r;
  r.name = std::move(name);
  r.ttl = ttl;
  return r;
}

TEST(CacheRules, FirstMatchingRuleInFileOrderEveryCriterion) {
  CacheRule by_fp = rule("flags", 5s);
  by_fp.fingerprints = {"0123456789abcdef"};
  CacheRule by_tables = rule("catalog", 30s);
  by_tables.tables = {"products", "app.prices"};
  CacheRule by_user = rule("reports", 1min);
  by_user.database = "app";
  by_user.user = "report";
  Rules rules({by_fp, by_tables, by_user});
  Tables products{"products"}, join{"app.prices", "shop.products"}, mixed{"products", "orders"},
      unqualified_prices{"prices"}, none{};
  auto m = rules.match({"0123456789abcdef", mixed, "app", "web", std::nullopt});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 0u);
  EXPECT_EQ(m->ttl, 5s);
  EXPECT_EQ(rules.match({"ffff", products, "app", "web", std::nullopt})->index, 1u);
  EXPECT_EQ(rules.match({"ffff", join, "app", "web", std::nullopt})->ttl, 30s);
  // Every table read must be opted in; a qualified entry does not vouch for an unqualified name.
  EXPECT_FALSE(rules.match({"ffff", mixed, "app", "web", std::nullopt}));
  EXPECT_FALSE(rules.match({"ffff", unqualified_prices, "app", "web", std::nullopt}));
  EXPECT_FALSE(rules.match({"ffff", none, "app", "web", std::nullopt}));
  EXPECT_EQ(rules.match({"ffff", mixed, "app", "report", std::nullopt})->index, 2u);
  EXPECT_FALSE(rules.match({"ffff", mixed, "other", "report", std::nullopt}));
  EXPECT_EQ(rules.slot_count(), 4u);
  EXPECT_EQ(rules.slot_name(1), "catalog");
  EXPECT_EQ(rules.slot_name(3), "hint");
}

TEST(CacheRules, HintTtlOverridesAndAHintAloneUsesTheHintSlot) {
  CacheRule r = rule("catalog", 30s);
  r.tables = {"products"};
  Rules rules({r});
  Tables products{"products"}, orders{"orders"};
  EXPECT_EQ(rules.match({"f", products, "app", "web", 2s})->ttl, 2s);
  auto m = rules.match({"f", orders, "app", "web", 250ms});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 1u);
  EXPECT_EQ(m->ttl, 250ms);
  EXPECT_FALSE(rules.match({"f", orders, "app", "web", std::nullopt}));
}

TEST(CacheClientCommits, OnlyLaterCommitsToItsTablesRefuse) {
  ClientCommits c;
  Tables t{"app.orders"}, u{"users"};
  EXPECT_TRUE(c.allows(0, t));
  c.note(Tables{"orders"}, false, 10);
  EXPECT_FALSE(c.allows(9, t));  // filled before the commit (schema ignored: table_name.hpp)
  EXPECT_TRUE(c.allows(10, t));  // filled after it
  EXPECT_TRUE(c.allows(0, u));
  c.note(Tables{"orders"}, false, 5);  // an older seq never lowers the mark
  EXPECT_FALSE(c.allows(9, t));
  c.note({}, true, 20);
  EXPECT_FALSE(c.allows(19, u));
  EXPECT_TRUE(c.allows(20, u));
  c.clear();
  EXPECT_TRUE(c.allows(0, t));
}

}  // namespace
}  // namespace pgopt::pooler::cache
