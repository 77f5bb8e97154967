// merge(), reservoirs and p95: the arithmetic behind per-job partials and log + pg_stat_statements.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "analyzer/input.hpp"
#include "analyzer/input/reservoir.hpp"

using namespace pgopt::analyzer;

namespace {

QueryGroup log_group(uint64_t fp, uint64_t calls, double each_ms) {
  QueryGroup g;
  g.fingerprint = fp;
  g.normalized = "SELECT $1";
  g.calls = g.timed_calls = g.sample_seen = calls;
  g.total_ms = double(calls) * each_ms;
  g.max_ms = each_ms;
  for (uint64_t i = 0; i < calls; ++i) {
    g.duration_reservoir.push_back(each_ms);
    g.samples.push_back("SELECT " + std::to_string(i));
  }
  return g;
}

TEST(InputMerge, LogsAddUp) {
  Workload a, b;
  a.groups[1] = log_group(1, 3, 2.0);
  b.groups[1] = log_group(1, 2, 5.0);
  b.groups[2] = log_group(2, 1, 1.0);
  a.statements = 3;
  b.statements = 3;
  a.first_timestamp = "2024-05-01 10:00:00";
  a.last_timestamp = "2024-05-01 11:00:00";
  b.first_timestamp = "2024-05-01 09:00:00";
  b.last_timestamp = "2024-05-01 10:30:00";
  InputOptions o;
  merge(a, b, o);
  EXPECT_EQ(a.statements, 6u);
  const QueryGroup& g = a.groups.at(1);
  EXPECT_EQ(g.calls, 5u);
  EXPECT_DOUBLE_EQ(g.total_ms, 16.0);
  EXPECT_DOUBLE_EQ(g.max_ms, 5.0);
  EXPECT_EQ(g.samples.size(), 5u);
  EXPECT_EQ(g.samples[3], "SELECT 0");  // below capacity the samples are simply concatenated
  EXPECT_EQ(a.groups.size(), 2u);
  EXPECT_EQ(*a.first_timestamp, "2024-05-01 09:00:00");
  EXPECT_EQ(*a.last_timestamp, "2024-05-01 11:00:00");
}

TEST(InputMerge, LogAndPgStatStatementsDoNotDoubleCount) {
  Workload logs, pss;
  logs.groups[7] = log_group(7, 10, 1.0);
  QueryGroup p;
  p.fingerprint = 7;
  p.normalized = "SELECT $1";
  p.calls = p.timed_calls = 1000;
  p.total_ms = 500;
  p.max_ms = 9;
  p.rows = 1000;
  p.has_literal_samples = false;
  p.from_pg_stat_statements = true;
  p.queryids = {42};
  pss.groups[7] = p;
  InputOptions o;
  Workload a = pss;
  merge(a, logs, o);
  for (const Workload& w : {a}) {
    const QueryGroup& g = w.groups.at(7);
    EXPECT_EQ(g.calls, 1000u);  // pg_stat_statements saw more: its totals win
    EXPECT_DOUBLE_EQ(g.total_ms, 500);
    EXPECT_EQ(g.samples.size(), 10u);  // the log brings the literal samples
    EXPECT_TRUE(g.has_literal_samples);
    EXPECT_TRUE(g.from_pg_stat_statements);
    EXPECT_EQ(g.rows, 1000u);
    EXPECT_EQ(g.queryids, std::vector<int64_t>{42});
  }
  Workload b = logs;
  merge(b, pss, o);
  EXPECT_EQ(b.groups.at(7).calls, 1000u);
  EXPECT_EQ(b.groups.at(7).samples.size(), 10u);
}

TEST(InputMerge, ReservoirMergeStaysUniform) {
  // A holds a sample of 9000 candidates "a", B of 1000 "b": about 90% of the merge comes from A.
  size_t from_a = 0, total = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    std::vector<int> a(16, 0), b(16, 1);
    input::reservoir_merge(a, 9000, b, 1000, 16, seed);
    ASSERT_EQ(a.size(), 16u);
    for (int x : a) from_a += x == 0;
    total += a.size();
  }
  double share = double(from_a) / double(total);
  EXPECT_NEAR(share, 0.9, 0.03);
}

TEST(InputMerge, AlgorithmRIsUniform) {
  std::map<int, int> kept;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    std::vector<int> r;
    for (uint64_t n = 1; n <= 100; ++n)
      input::reservoir_offer(r, 10, n, input::draw(seed, 0, n), [n] { return int(n); });
    for (int x : r) kept[(x - 1) / 25]++;  // quarters of the stream
  }
  for (const auto& [quarter, count] : kept) EXPECT_NEAR(count, 1000, 150) << "quarter " << quarter;
}

TEST(InputMerge, P95) {
  QueryGroup g;
  for (int i = 1; i <= 100; ++i) g.duration_reservoir.push_back(double(101 - i));
  g.timed_calls = 100;
  g.total_ms = 5050;
  EXPECT_DOUBLE_EQ(g.p95_ms(), 95.0);
  QueryGroup one;
  one.duration_reservoir = {3.5};
  EXPECT_DOUBLE_EQ(one.p95_ms(), 3.5);
  QueryGroup none;  // pg_stat_statements: totals only
  none.timed_calls = 4;
  none.total_ms = 10;
  EXPECT_DOUBLE_EQ(none.p95_ms(), 2.5);
  EXPECT_DOUBLE_EQ(QueryGroup{}.p95_ms(), 0.0);
}

}  // namespace
