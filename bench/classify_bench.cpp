// Cost per statement of the pooler's SQL hot path: classify() uncached vs a ClassifierCache hit,
// and the session-effects prefilter.
#include <benchmark/benchmark.h>

#include <string>

#include "sql/classify.hpp"
#include "sql/session_effects.hpp"

namespace {

const std::string kPgbenchSelect = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
const std::string kUpdate = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2";
const std::string kJoin =
    "SELECT c.id, c.name, o.id AS order_id, o.created_at, sum(li.quantity * li.unit_price) AS total\n"
    "FROM customers c\n"
    "JOIN orders o ON o.customer_id = c.id\n"
    "JOIN line_items li ON li.order_id = o.id\n"
    "LEFT JOIN shipments s ON s.order_id = o.id AND s.status <> 'cancelled'\n"
    "WHERE c.region = $1\n"
    "  AND o.created_at >= now() - interval '30 days'\n"
    "GROUP BY c.id, c.name, o.id, o.created_at\n"
    "HAVING sum(li.quantity * li.unit_price) > $2\n"
    "ORDER BY total DESC LIMIT 50";

const std::string& statement(int64_t which) {
  switch (which) {
    case 0: return kPgbenchSelect;
    case 1: return kUpdate;
    default: return kJoin;
  }
}

void label(benchmark::State& state) {
  static const char* names[] = {"pgbench_select", "update", "join_10_lines"};
  state.SetLabel(names[state.range(0)]);
  state.SetItemsProcessed(state.iterations());
}

void BM_ClassifyUncached(benchmark::State& state) {
  const std::string& sql = statement(state.range(0));
  pgopt::sql::ClassifierOptions options;
  for (auto _ : state) benchmark::DoNotOptimize(pgopt::sql::classify(sql, options));
  label(state);
}

void BM_ClassifyCacheHit(benchmark::State& state) {
  const std::string& sql = statement(state.range(0));
  pgopt::sql::ClassifierCache cache({}, 10000);
  // A realistic cache: the statement among a few thousand others.
  for (int i = 0; i < 5000; ++i) cache.classify("SELECT * FROM t WHERE id = " + std::to_string(i));
  cache.classify(sql);
  for (auto _ : state) benchmark::DoNotOptimize(&cache.classify(sql));
  label(state);
}

void BM_SessionPrefilter(benchmark::State& state) {
  const std::string& sql = statement(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(pgopt::sql::may_have_session_effects(sql));
  label(state);
}

void BM_SessionEffects(benchmark::State& state) {
  const std::string& sql = statement(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(pgopt::sql::session_effects(sql));
  label(state);
}

}  // namespace

BENCHMARK(BM_ClassifyUncached)->DenseRange(0, 2);
BENCHMARK(BM_ClassifyCacheHit)->DenseRange(0, 2);
BENCHMARK(BM_SessionPrefilter)->DenseRange(0, 2);
BENCHMARK(BM_SessionEffects)->DenseRange(0, 2);

BENCHMARK_MAIN();
