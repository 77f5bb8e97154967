// Cost of one read/write routing decision (issue 5: Router::decide()) on a realistic statement mix,
// with the classification cache hit (an application's few texts repeated) and missed (every call parses).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pooler/routing/router.hpp"

namespace {

using pgopt::pooler::routing::ClientState;
using pgopt::pooler::routing::Decision;
using pgopt::pooler::routing::Router;
using pgopt::pooler::routing::RouterOptions;

// What a pooled application sends outside a transaction block: pgbench -S's statement, a reporting
// join, a write, a transaction start, and a hinted read, each with the decision expected (checked
// once before timing, so the benchmark cannot measure a fast wrong answer).
struct Statement {
  const char* name;
  std::string sql;
  Decision::Action action;
  pgopt::pooler::routing::Target target;
};

const std::vector<Statement>& mix() {
  using pgopt::pooler::routing::Target;
  static const std::vector<Statement> m = {
      {"pgbench_select", "SELECT abalance FROM pgbench_accounts WHERE aid = 4711;", Decision::Action::Forward,
       Target::Replica},
      {"join_10_lines",
       "SELECT c.id, c.name, o.id AS order_id, o.created_at, sum(li.quantity * li.unit_price) AS total\n"
       "FROM customers c\n"
       "JOIN orders o ON o.customer_id = c.id\n"
       "JOIN line_items li ON li.order_id = o.id\n"
       "LEFT JOIN shipments s ON s.order_id = o.id AND s.status <> 'cancelled'\n"
       "WHERE c.region = $1\n"
       "  AND o.created_at >= now() - interval '30 days'\n"
       "GROUP BY c.id, c.name, o.id, o.created_at\n"
       "HAVING sum(li.quantity * li.unit_price) > $2\n"
       "ORDER BY total DESC LIMIT 50",
       Decision::Action::Forward, Target::Replica},
      {"insert", "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 4711, -512, now())",
       Decision::Action::Forward, Target::Primary},
      {"begin", "BEGIN", Decision::Action::Forward, Target::Primary},
      {"hinted_read", "/* pgopt:primary */ SELECT abalance FROM pgbench_accounts WHERE aid = $1",
       Decision::Action::Forward, Target::Primary},
  };
  return m;
}

void check(Router& router, const Statement& s) {
  Decision d = router.decide(s.sql, ClientState{});
  if (d.action != s.action || d.target != s.target) {
    std::fprintf(stderr, "router_bench: unexpected decision for %s\n", s.name);
    std::abort();
  }
}

// One statement of the mix, repeated: every call after the first is a cache hit.
void BM_DecideCached(benchmark::State& state) {
  const Statement& s = mix()[size_t(state.range(0))];
  Router router(RouterOptions{});
  // A realistic cache: the statement among a few thousand others the application also sends.
  for (int i = 0; i < 5000; ++i) router.decide("SELECT * FROM t WHERE id = " + std::to_string(i), ClientState{});
  check(router, s);
  ClientState client;
  for (auto _ : state) benchmark::DoNotOptimize(router.decide(s.sql, client));
  state.SetLabel(s.name);
  state.SetItemsProcessed(state.iterations());
}

// The whole mix in turn, cached: what a worker sees from an application with a handful of texts.
void BM_DecideCachedMix(benchmark::State& state) {
  Router router(RouterOptions{});
  for (const auto& s : mix()) check(router, s);
  ClientState client;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.decide(mix()[i].sql, client));
    if (++i == mix().size()) i = 0;
  }
  state.SetLabel("mix of 5");
  state.SetItemsProcessed(state.iterations());
}

// Every call parses: the text is new each time, as when an application sends its values as literals
// (pgbench -S with -M simple sends "... WHERE aid = 4711;" with a new aid each time), and the cache
// holds one entry, so nothing is found in it either way.
void BM_DecideUncached(benchmark::State& state) {
  const Statement& s = mix()[size_t(state.range(0))];
  RouterOptions options;
  options.cache_capacity = 1;
  Router router(options);
  check(router, s);
  // Pre-built texts so the timed loop measures the decision, not string building: the literal 4711
  // replaced by another number, or a trailing comment where the statement has none.
  std::vector<std::string> texts;
  for (int i = 0; i < 4096; ++i) {
    std::string t = s.sql;
    if (auto at = t.find("4711"); at != std::string::npos) t.replace(at, 4, std::to_string(100000 + i));
    else t += " -- " + std::to_string(i);
    texts.push_back(std::move(t));
  }
  ClientState client;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.decide(texts[i], client));
    if (++i == texts.size()) i = 0;
  }
  state.SetLabel(s.name);
  state.SetItemsProcessed(state.iterations());
}

// Inside a transaction block: no classification at all, only the hint scan.
void BM_DecideInTransaction(benchmark::State& state) {
  Router router(RouterOptions{});
  ClientState client;
  client.in_transaction = true;
  const std::string& sql = mix()[0].sql;
  for (auto _ : state) benchmark::DoNotOptimize(router.decide(sql, client));
  state.SetLabel("pgbench_select");
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_DecideCached)->DenseRange(0, 4);
BENCHMARK(BM_DecideCachedMix);
BENCHMARK(BM_DecideUncached)->DenseRange(0, 4);
BENCHMARK(BM_DecideInTransaction);

BENCHMARK_MAIN();
