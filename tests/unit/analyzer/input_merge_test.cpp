// merge(), bottom-k samples and p95: the arithmetic behind per-job partials and log + pg_stat_statements.
#include <gtest/gtest.h>

#include <algorithm>
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
  // Below capacity nothing is dropped: the samples of both sides, in key order, keys alongside.
  ASSERT_EQ(g.samples.size(), 5u);
  EXPECT_EQ(g.sample_keys.size(), 5u);
  EXPECT_TRUE(std::is_sorted(g.sample_keys.begin(), g.sample_keys.end()));
  std::vector<std::string> got = g.samples;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"SELECT 0", "SELECT 0", "SELECT 1", "SELECT 1", "SELECT 2"}));
  EXPECT_EQ(g.duration_reservoir.size(), 5u);
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

// The kept candidates of a whole stream, by offering every (key, value) to one BottomK.
std::vector<int> bottom_k_of(const std::vector<std::pair<uint64_t, int>>& all, size_t cap,
                             std::vector<uint64_t>* keys = nullptr) {
  input::BottomK<int> k;
  for (const auto& [key, v] : all) k.offer(cap, key, [v = v] { return v; });
  std::vector<int> values;
  std::vector<uint64_t> ks;
  k.take(values, ks);
  if (keys) *keys = ks;
  return values;
}

TEST(InputMerge, BottomKOfPartsMergesIntoBottomKOfTheWhole) {
  // Any cut, any order of the parts: the merge is exactly the sample of the whole stream. This is
  // what makes --jobs N give the same p95 and samples as one job.
  std::vector<std::pair<uint64_t, int>> all;
  for (int i = 0; i < 5000; ++i) all.emplace_back(input::sample_key(1, 77, 0, uint64_t(i) * 97), i);
  all.emplace_back(all[10].first, -1);  // a key collision is settled by the value
  std::vector<uint64_t> whole_keys;
  std::vector<int> whole = bottom_k_of(all, 64, &whole_keys);
  ASSERT_EQ(whole.size(), 64u);
  for (size_t cut : {size_t(0), size_t(1), size_t(63), size_t(2500), all.size() - 1}) {
    std::vector<std::pair<uint64_t, int>> left(all.begin(), all.begin() + std::ptrdiff_t(cut)),
        right(all.begin() + std::ptrdiff_t(cut), all.end());
    std::vector<uint64_t> lk, rk;
    std::vector<int> l = bottom_k_of(left, 64, &lk), r = bottom_k_of(right, 64, &rk);
    std::vector<int> a = r;  // right part first: the order of the parts does not matter either
    std::vector<uint64_t> ak = rk;
    input::bottom_k_merge(a, ak, l, lk, 64, 1);
    EXPECT_EQ(a, whole) << "cut at " << cut;
    EXPECT_EQ(ak, whole_keys) << "cut at " << cut;
  }
}

TEST(InputMerge, BottomKIsUniform) {
  // Keys from positions: every quarter of the stream is equally represented.
  std::map<int, int> kept;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    std::vector<std::pair<uint64_t, int>> all;
    for (int n = 1; n <= 100; ++n) all.emplace_back(input::sample_key(seed, 5, 0, uint64_t(n) * 150), n);
    for (int x : bottom_k_of(all, 10)) kept[(x - 1) / 25]++;
  }
  ASSERT_EQ(kept.size(), 4u);
  for (const auto& [quarter, count] : kept) EXPECT_NEAR(count, 1000, 150) << "quarter " << quarter;
}

TEST(InputMerge, BottomKMergeOfHandBuiltSamplesKeepsCapacity) {
  // Groups built by hand carry no keys: they still merge, within capacity, nothing invented.
  std::vector<int> a(16, 0), b(16, 1);
  std::vector<uint64_t> ak, bk;
  input::bottom_k_merge(a, ak, b, bk, 16, 3);
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(ak.size(), 16u);
  size_t from_b = size_t(std::count(a.begin(), a.end(), 1));
  EXPECT_GT(from_b, 0u);
  EXPECT_LT(from_b, 16u);
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
