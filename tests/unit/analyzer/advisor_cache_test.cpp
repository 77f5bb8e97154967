// The what-if cache: one inner costing per (statement group, indexes on the tables it touches),
// whatever the order of the configuration or the indexes on other tables; failures are cached too.
#include <gtest/gtest.h>

#include "analyzer/advisor/evaluator.hpp"

using namespace pgopt::analyzer::advisor;

namespace {

class CountingEvaluator : public Evaluator {
 public:
  std::optional<double> cost(const QueryModel& q, const std::vector<const IndexSpec*>& config) override {
    ++calls;
    last_config = config.size();
    if (q.fingerprint == 99) return std::nullopt;  // a group the evaluator cannot cost
    return 100.0 - 10.0 * double(config.size());
  }
  std::string method() const override { return "counting"; }
  int calls = 0;
  size_t last_config = 0;
};

IndexSpec index_on(const std::string& table, const std::string& column) {
  IndexSpec s;
  s.table = table;
  s.columns = {column};
  s.descending = {false};
  s.opclass = {""};
  return s;
}

}  // namespace

TEST(CachingEvaluator, OneInnerCallPerGroupAndRelevantConfiguration) {
  TableInfo orders, users;
  orders.name = "orders";
  users.name = "users";
  QueryModel q;
  q.fingerprint = 1;
  AccessModel a;
  a.table = &orders;
  q.accesses.push_back(a);

  IndexSpec o1 = index_on("orders", "customer_id"), o2 = index_on("orders", "created_at"), u1 = index_on("users", "email");
  CountingEvaluator inner;
  CachingEvaluator cache(inner);
  EXPECT_EQ(cache.cost(q, {&o1, &o2}), 80.0);
  EXPECT_EQ(inner.calls, 1);
  EXPECT_EQ(cache.cost(q, {&o2, &o1}), 80.0);  // same set, other order
  EXPECT_EQ(cache.cost(q, {&u1, &o1, &o2}), 80.0);  // plus an index on a table q does not touch
  EXPECT_EQ(inner.calls, 1);
  EXPECT_EQ(cache.hits(), 2u);
  // Only the relevant indexes reach the inner evaluator.
  EXPECT_EQ(cache.cost(q, {&u1, &o1}), 90.0);
  EXPECT_EQ(inner.calls, 2);
  EXPECT_EQ(inner.last_config, 1u);
  // Another group with the same configuration is another question.
  QueryModel other = q;
  other.fingerprint = 2;
  EXPECT_EQ(cache.cost(other, {&o1}), 90.0);
  EXPECT_EQ(inner.calls, 3);
  // A failure is remembered: the search does not retry a statement the planner rejected.
  QueryModel bad = q;
  bad.fingerprint = 99;
  EXPECT_FALSE(cache.cost(bad, {}).has_value());
  EXPECT_FALSE(cache.cost(bad, {}).has_value());
  EXPECT_EQ(inner.calls, 4);
  EXPECT_EQ(cache.misses(), 4u);
}
