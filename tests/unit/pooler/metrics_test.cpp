// Statistics without sockets: histogram buckets and quantiles, per-worker counters and their sum,
// a session's query/transaction/wait accounting on a driven clock, and the Prometheus text format.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <thread>

#include "pooler/metrics/exposition.hpp"
#include "pooler/metrics/histogram.hpp"
#include "pooler/metrics/scrape.hpp"
#include "pooler/metrics/session_meter.hpp"
#include "pooler/metrics/stats.hpp"

namespace pgopt::pooler::metrics {
namespace {

using namespace std::chrono_literals;

TEST(Histogram, BucketsAreUpperBoundsInclusive) {
  EXPECT_EQ(bucket_of(0), 0u);
  EXPECT_EQ(bucket_of(100), 0u);  // le="0.0001" holds exactly 100 us
  EXPECT_EQ(bucket_of(101), 1u);
  EXPECT_EQ(bucket_of(250), 1u);
  EXPECT_EQ(bucket_of(999), 3u);
  EXPECT_EQ(bucket_of(1000), 3u);
  EXPECT_EQ(bucket_of(10'000'000), kBoundsUs.size() - 1);
  EXPECT_EQ(bucket_of(10'000'001), kBoundsUs.size());  // +Inf
  EXPECT_EQ(bucket_of(UINT64_MAX), kBoundsUs.size());
  for (size_t i = 1; i < kBoundsUs.size(); ++i) EXPECT_LT(kBoundsUs[i - 1], kBoundsUs[i]);
}

TEST(Histogram, QuantileInterpolatesInsideTheBucket) {
  HistogramData h;
  EXPECT_EQ(h.quantile(0.99), 0);  // empty
  for (int i = 0; i < 100; ++i) h.record(2000);  // all in (1000, 2500]
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.sum_us, 200000u);
  EXPECT_DOUBLE_EQ(h.quantile(0.5), 1000 + 1500 * 0.5);
  EXPECT_DOUBLE_EQ(h.quantile(1.0), 2500);

  HistogramData mixed;
  for (int i = 0; i < 90; ++i) mixed.record(80);     // (0, 100]
  for (int i = 0; i < 10; ++i) mixed.record(40000);  // (25000, 50000]
  EXPECT_LE(mixed.quantile(0.5), 100);
  // p95: rank 95 is the 5th of 10 in (25000, 50000]
  EXPECT_DOUBLE_EQ(mixed.quantile(0.95), 25000 + 25000 * 0.5);
  EXPECT_DOUBLE_EQ(mixed.quantile(0.99), 25000 + 25000 * 0.9);
}

TEST(Histogram, QuantileInTheInfBucketIsTheHighestBound) {
  HistogramData h;
  h.record(60'000'000);
  EXPECT_DOUBLE_EQ(h.quantile(0.99), double(kBoundsUs.back()));
}

TEST(Histogram, MergeAddsBucketsAndSums) {
  HistogramData a, b;
  a.record(50);
  b.record(50);
  b.record(3'000'000);
  a += b;
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.counts[0], 2u);
  EXPECT_EQ(a.counts[bucket_of(3'000'000)], 1u);
  EXPECT_EQ(a.sum_us, 3'000'100u);
}

using K = std::pair<std::string, ErrorSource>;

// Distinct valid SQLSTATEs: "T0000", "T0001", ...
std::string fmt_code(size_t i) {
  std::string s = "T0000";
  for (int p = 4; p >= 1 && i > 0; --p, i /= 10) s[size_t(p)] = char('0' + i % 10);
  return s;
}

TEST(Stats, SumsWorkersPerDatabase) {
  Stats st(3);
  st.counters(0, "app").query_count.add(5);
  st.counters(1, "app").query_count.add(7);
  st.counters(2, "other").received.add(100);
  st.counters(1, "app").query.record(300);
  st.counters(0, "app").query.record(300);
  // The same object each time: sessions keep the pointer.
  EXPECT_EQ(&st.counters(0, "app"), &st.counters(0, "app"));
  EXPECT_NE(&st.counters(0, "app"), &st.counters(1, "app"));
  auto all = st.collect();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all["app"].query_count, 12u);
  EXPECT_EQ(all["app"].query.count(), 2u);
  EXPECT_EQ(all["app"].query.counts[bucket_of(300)], 2u);
  EXPECT_EQ(all["other"].received, 100u);
  EXPECT_EQ(all["other"].query_count, 0u);
}

TEST(Stats, ReadersSeeWritersProgressWithoutLocks) {
  Stats st(2);
  DbCounters& a = st.counters(0, "db");
  DbCounters& b = st.counters(1, "db");
  constexpr int kN = 200000;
  std::thread t1([&] {
    for (int i = 0; i < kN; ++i) a.query_count.add(1);
  });
  std::thread t2([&] {
    for (int i = 0; i < kN; ++i) b.query_count.add(1);
  });
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    uint64_t now = st.collect()["db"].query_count;
    EXPECT_GE(now, last);  // each worker's counter only grows
    last = now;
  }
  t1.join();
  t2.join();
  EXPECT_EQ(st.collect()["db"].query_count, uint64_t(2 * kN));
}

TEST(ErrorCounts, CountsBySqlstateAndSourceAndSumsWorkers) {
  Stats st(2);
  st.counters(0, "app").errors.add(ErrorSource::Server, "23505");
  st.counters(0, "app").errors.add(ErrorSource::Server, "23505");
  st.counters(1, "app").errors.add(ErrorSource::Server, "23505");
  st.counters(1, "app").errors.add(ErrorSource::Pooler, "23505");  // same code, other source: its own series
  st.counters(0, "app").errors.add(ErrorSource::Pooler, "57P01");
  auto all = st.collect();
  const auto& e = all["app"].errors;
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e.at(K("23505", ErrorSource::Server)), 3u);
  EXPECT_EQ(e.at(K("23505", ErrorSource::Pooler)), 1u);
  EXPECT_EQ(e.at(K("57P01", ErrorSource::Pooler)), 1u);
}

TEST(ErrorCounts, EveryCodeCharacterRoundTrips) {
  ErrorCounts c;
  for (const char* code : {"00000", "ZZZZZ", "P0001", "XX000", "0A000", "42P01"}) c.add(ErrorSource::Server, code);
  ErrorCounts::Map m;
  c.read_into(m);
  for (const char* code : {"00000", "ZZZZZ", "P0001", "XX000", "0A000", "42P01"})
    EXPECT_EQ(m[K(code, ErrorSource::Server)], 1u) << code;
}

TEST(ErrorCounts, InvalidCodesAndTooManyCodesGoToOtherAndTheTableStaysBounded) {
  ErrorCounts c;
  c.add(ErrorSource::Server, "");       // an ErrorResponse without a 'C' field
  c.add(ErrorSource::Server, "2350");   // too short
  c.add(ErrorSource::Server, "23a05");  // lower case is not a SQLSTATE
  for (size_t i = 0; i < ErrorCounts::kSlots + 10; ++i) c.add(ErrorSource::Pooler, fmt_code(i));
  ErrorCounts::Map m;
  c.read_into(m);
  EXPECT_EQ(m[K("other", ErrorSource::Server)], 3u);
  EXPECT_EQ(m[K("other", ErrorSource::Pooler)], 10u);
  EXPECT_EQ(m.size(), ErrorCounts::kSlots + 2);
}

TEST(ErrorCounts, AReaderNeverSeesACodeWithoutItsCount) {
  ErrorCounts c;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int round = 0; round < 2000; ++round)
      for (size_t i = 0; i < ErrorCounts::kSlots; ++i) c.add(ErrorSource::Server, fmt_code(i));
    done = true;
  });
  while (!done) {
    ErrorCounts::Map m;
    c.read_into(m);
    for (const auto& [k, n] : m) ASSERT_GE(n, 1u) << k.first;
  }
  writer.join();
  ErrorCounts::Map m;
  c.read_into(m);
  EXPECT_EQ(m[K(fmt_code(0), ErrorSource::Server)], 2000u);
}

class Meter : public ::testing::Test {
 protected:
  using TP = SessionMeter::Clock::time_point;
  TP t0 = TP{} + 100s;
  Stats st{1};
  DbCounters& c = st.counters(0, "app");
  SessionMeter m;
  void SetUp() override { m.bind(&c); }
};

TEST_F(Meter, ErrorsAreCountedOnlyWhenBound) {
  SessionMeter unbound;
  unbound.error(ErrorSource::Server, "23505");
  m.error(ErrorSource::Server, "23505");
  EXPECT_EQ(st.collect()["app"].errors.at(K("23505", ErrorSource::Server)), 1u);
}

TEST_F(Meter, AutocommitStatementIsOneQueryAndOneTransaction) {
  m.to_server_at(true, t0);
  m.ready_at('I', false, false, false, t0 + 3ms);
  EXPECT_EQ(c.query_count.load(), 1u);
  EXPECT_EQ(c.xact_count.load(), 1u);
  EXPECT_EQ(c.query_time_us.load(), 3000u);
  EXPECT_EQ(c.xact_time_us.load(), 3000u);
  EXPECT_EQ(c.query.read().counts[bucket_of(3000)], 1u);
}

TEST_F(Meter, TransactionSpansItsQueriesAndTheClientsThinkTime) {
  m.to_server_at(true, t0);                      // BEGIN
  m.ready_at('T', false, false, false, t0 + 1ms);
  m.to_server_at(false, t0 + 10ms);              // SELECT, 9 ms later
  m.ready_at('T', false, false, false, t0 + 12ms);
  m.to_server_at(false, t0 + 20ms);              // COMMIT
  m.ready_at('I', false, false, false, t0 + 21ms);
  EXPECT_EQ(c.query_count.load(), 3u);
  EXPECT_EQ(c.query_time_us.load(), 1000u + 2000u + 1000u);
  EXPECT_EQ(c.xact_count.load(), 1u);
  EXPECT_EQ(c.xact_time_us.load(), 21000u);
}

TEST_F(Meter, FailedTransactionEndsAtIdleToo) {
  m.to_server_at(true, t0);
  m.ready_at('T', false, false, false, t0 + 1ms);
  m.to_server_at(false, t0 + 2ms);
  m.ready_at('E', false, false, false, t0 + 3ms);
  m.to_server_at(false, t0 + 4ms);
  m.ready_at('I', false, false, false, t0 + 5ms);  // ROLLBACK
  EXPECT_EQ(c.xact_count.load(), 1u);
  EXPECT_EQ(c.query_count.load(), 3u);
}

TEST_F(Meter, PipelinedQueriesAddUpToTheBusyTime) {
  m.to_server_at(true, t0);  // three autocommit Syncs in one batch
  m.ready_at('I', true, false, false, t0 + 1ms);
  m.ready_at('I', true, false, false, t0 + 3ms);
  m.ready_at('I', false, false, false, t0 + 6ms);
  EXPECT_EQ(c.query_count.load(), 3u);
  EXPECT_EQ(c.xact_count.load(), 3u);
  EXPECT_EQ(c.query_time_us.load(), 6000u);
  EXPECT_EQ(c.xact_time_us.load(), 6000u);
  // Nothing outstanding: a stray ReadyForQuery counts nothing.
  m.ready_at('I', false, false, false, t0 + 7ms);
  EXPECT_EQ(c.query_count.load(), 3u);
}

TEST_F(Meter, AFreshServerForgetsWhatALostOneLeftOpen) {
  m.to_server_at(true, t0);  // never answered: the server broke
  m.to_server_at(true, t0 + 50ms);
  m.ready_at('I', false, false, false, t0 + 51ms);
  EXPECT_EQ(c.query_time_us.load(), 1000u);
  EXPECT_EQ(c.xact_time_us.load(), 1000u);
}

TEST_F(Meter, WaitTimeCountsOnlyTheWaitingState) {
  m.waiting_at(true, t0);
  m.waiting_at(true, t0 + 1ms);  // no change
  m.waiting_at(false, t0 + 4ms);
  m.waiting_at(false, t0 + 9ms);  // no change
  EXPECT_EQ(c.wait_time_us.load(), 4000u);
}

TEST_F(Meter, RoutingIsCountedOnlyForSplitDatabases) {
  m.to_server_at(true, t0);
  m.ready_at('I', false, true, true, t0 + 1ms);
  m.to_server_at(true, t0 + 2ms);
  m.ready_at('I', false, true, false, t0 + 3ms);
  m.to_server_at(true, t0 + 4ms);
  m.ready_at('I', false, false, false, t0 + 5ms);
  EXPECT_EQ(c.routed_replica.load(), 1u);
  EXPECT_EQ(c.routed_primary.load(), 1u);
}

TEST(MeterUnbound, CountsNothing) {
  SessionMeter m;
  m.received(10);
  m.sent(10);
  m.waiting(true);
  m.to_server(true);
  m.ready('I', false, false, false);
  EXPECT_FALSE(m.bound());
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)" "\n"), R"(a\"b\\c\n)");
  EXPECT_EQ(escape_help("x\\y\nz\"q"), "x\\\\y\\nz\"q");  // quotes stay in HELP
  Exposition e;
  e.family("pgopt_clients", Exposition::Type::Gauge, "Clients.");
  e.sample("pgopt_clients", {{"database", "we\"ird\\db\n"}, {"user", "u"}}, uint64_t(3));
  EXPECT_EQ(e.text(),
            "# HELP pgopt_clients Clients.\n# TYPE pgopt_clients gauge\n"
            "pgopt_clients{database=\"we\\\"ird\\\\db\\n\",user=\"u\"} 3\n");
}

TEST(Exposition, CountersMustEndInTotal) {
  Exposition e;
  EXPECT_THROW(e.family("pgopt_queries", Exposition::Type::Counter, "x"), std::invalid_argument);
  EXPECT_THROW(e.family("pgopt_pool_total", Exposition::Type::Gauge, "x"), std::invalid_argument);
  EXPECT_NO_THROW(e.family("pgopt_queries_total", Exposition::Type::Counter, "x"));
  EXPECT_EQ(e.text(), "# HELP pgopt_queries_total x\n# TYPE pgopt_queries_total counter\n");
}

TEST(Exposition, ValuesReadBackExactly) {
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(0.0001), "0.0001");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(Exposition, HistogramIsCumulativeInSecondsWithSumAndCount) {
  HistogramData h;
  h.record(80);
  h.record(2000);
  h.record(2000);
  h.record(20'000'000);
  Exposition e;
  e.histogram("pgopt_query_duration_seconds", {{"database", "app"}}, h);
  const std::string t = e.text();
  EXPECT_NE(t.find("pgopt_query_duration_seconds_bucket{database=\"app\",le=\"0.0001\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("pgopt_query_duration_seconds_bucket{database=\"app\",le=\"0.001\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("pgopt_query_duration_seconds_bucket{database=\"app\",le=\"0.0025\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("pgopt_query_duration_seconds_bucket{database=\"app\",le=\"10\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("pgopt_query_duration_seconds_bucket{database=\"app\",le=\"+Inf\"} 4\n"), std::string::npos) << t;
  EXPECT_NE(t.find("pgopt_query_duration_seconds_sum{database=\"app\"} 20.00408\n"), std::string::npos) << t;
  EXPECT_NE(t.find("pgopt_query_duration_seconds_count{database=\"app\"} 4\n"), std::string::npos) << t;
  // One line per bucket, each bound once, in increasing order.
  size_t buckets = 0, pos = 0;
  while ((pos = t.find("_bucket{", pos)) != std::string::npos) ++buckets, ++pos;
  EXPECT_EQ(buckets, kBuckets);
}

// Every line of a page is a comment (HELP or TYPE) or `name{labels} value`; every family has HELP
// and TYPE before its samples, and its samples carry its name (with _bucket/_sum/_count for histograms).
TEST(Render, WholePageIsWellFormed) {
  Snapshot s;
  s.version = "0.9.0";
  s.stats["app"].query_count = 5;
  s.stats["app"].xact_count = 4;
  s.stats["app"].wait_time_us = 1500000;
  s.stats["app"].query.record(300);
  s.stats["app"].routed_replica = 2;
  s.clients.push_back({"app", "alice", "idle", 3});
  s.pools.push_back({"app", "alice", "primary", 1, 2, 0, 0.5});
  s.pool_size["app"] = 20;
  s.split_databases.push_back("app");
  s.prepared_statements = 7;
  s.stats["app"].errors[{"23505", ErrorSource::Server}] = 3;
  s.stats["app"].errors[{"57P01", ErrorSource::Pooler}] = 1;
  s.replicas.push_back({"app", "10.0.0.2:5432", true, false, 0.25, 4096});
  s.replicas.push_back({"app", "10.0.0.3:5432", false, true, std::nullopt, std::nullopt});
  const std::string page = render(s);

  std::istringstream in(page);
  std::string line, family, type;
  std::set<std::string> families;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(families.insert(family).second) << "twice: " << family;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.substr(7, family.size() + 1), family + " ");
      type = line.substr(7 + family.size() + 1);
      if (type == "counter") {
        EXPECT_EQ(family.substr(family.size() - 6), "_total");
      }
      continue;
    }
    const std::string name = line.substr(0, line.find_first_of("{ "));
    if (type == "histogram")
      EXPECT_TRUE(name == family + "_bucket" || name == family + "_sum" || name == family + "_count") << line;
    else
      EXPECT_EQ(name, family) << line;
    EXPECT_NE(line.find(' '), std::string::npos) << line;
  }
  for (const char* f : {"pgopt_up", "pgopt_info", "pgopt_clients", "pgopt_servers", "pgopt_pool_size",
                        "pgopt_client_wait_seconds_total", "pgopt_queries_total", "pgopt_transactions_total",
                        "pgopt_query_duration_seconds", "pgopt_transaction_duration_seconds",
                        "pgopt_received_bytes_total", "pgopt_sent_bytes_total", "pgopt_routed_statements_total", "pgopt_errors_total",
                        "pgopt_prepared_statements", "pgopt_replica_up", "pgopt_replica_lag_seconds",
                        "pgopt_replica_lag_bytes"})
    EXPECT_TRUE(families.count(f)) << f;
  EXPECT_NE(page.find("pgopt_info{version=\"0.9.0\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("pgopt_queries_total{database=\"app\"} 5\n"), std::string::npos);
  EXPECT_NE(page.find("pgopt_client_wait_seconds_total{database=\"app\"} 1.5\n"), std::string::npos);
  EXPECT_NE(page.find("pgopt_clients{database=\"app\",user=\"alice\",state=\"idle\"} 3\n"), std::string::npos);
  EXPECT_NE(page.find("pgopt_servers{database=\"app\",user=\"alice\",node=\"primary\",state=\"idle\"} 2\n"),
            std::string::npos);
  EXPECT_NE(page.find("pgopt_routed_statements_total{database=\"app\",target=\"replica\"} 2\n"), std::string::npos);
  EXPECT_NE(page.find("pgopt_errors_total{database=\"app\",sqlstate=\"23505\",source=\"server\"} 3\n"),
            std::string::npos);
  EXPECT_NE(page.find("pgopt_errors_total{database=\"app\",sqlstate=\"57P01\",source=\"pgopt\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.find("pgopt_replica_lag_seconds{database=\"app\",replica=\"10.0.0.2:5432\"} 0.25\n"),
            std::string::npos);
  // An unknown lag is absent, not zero.
  EXPECT_EQ(page.find("pgopt_replica_lag_seconds{database=\"app\",replica=\"10.0.0.3:5432\"}"), std::string::npos);
  EXPECT_NE(page.find("pgopt_replica_up{database=\"app\",replica=\"10.0.0.3:5432\"} 0\n"), std::string::npos);
}

// The result cache's series: per rule, absent altogether while no session used the cache.
TEST(Render, CacheCountersPerRule) {
  Snapshot s;
  EXPECT_EQ(render(s).find("pgopt_cache_"), std::string::npos);
  cache::RuleCounters c;
  c.entries = 2;
  c.bytes = 900;
  c.hits = 7;
  c.misses = 3;
  c.invalidations = 1;
  s.cache.emplace_back("products", c);
  s.cache.emplace_back("hint", cache::RuleCounters{});
  const std::string out = render(s);
  EXPECT_NE(out.find("# TYPE pgopt_cache_hits_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("pgopt_cache_entries{rule=\"products\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find("pgopt_cache_bytes{rule=\"products\"} 900\n"), std::string::npos);
  EXPECT_NE(out.find("pgopt_cache_hits_total{rule=\"products\"} 7\n"), std::string::npos);
  EXPECT_NE(out.find("pgopt_cache_misses_total{rule=\"products\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("pgopt_cache_invalidations_total{rule=\"products\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("pgopt_cache_refused_total{rule=\"hint\"} 0\n"), std::string::npos);
}

// Failover series (issue 18): one role and one state series per value, the current one at 1, and
// the last change as a Unix time only once there was one.
TEST(Render, FailoverRolesStatesAndLastChange) {
  Snapshot s;
  s.members.push_back({"app", "10.0.0.1:5432", true, "primary"});
  s.members.push_back({"app", "10.0.0.2:5432", false, "failed"});
  s.elections.push_back({"app", false, 3, 0, "stable", 1.7e9});
  s.elections.push_back({"other", false, 0, 0, "discovering", std::nullopt});
  const std::string out = render(s);
  EXPECT_NE(out.find(R"(pgopt_failover_member_role{database="app",member="10.0.0.1:5432",role="primary"} 1)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(pgopt_failover_member_role{database="app",member="10.0.0.1:5432",role="standby"} 0)"), std::string::npos);
  EXPECT_NE(out.find(R"(pgopt_failover_member_role{database="app",member="10.0.0.2:5432",role="failed"} 1)"), std::string::npos);
  EXPECT_NE(out.find(R"(pgopt_failover_state{database="app",state="stable"} 1)"), std::string::npos);
  EXPECT_NE(out.find(R"(pgopt_failover_state{database="other",state="disagree"} 0)"), std::string::npos);
  EXPECT_NE(out.find(R"(pgopt_failover_last_change_timestamp_seconds{database="app"} 1700000000)"), std::string::npos);
  EXPECT_EQ(out.find(R"(pgopt_failover_last_change_timestamp_seconds{database="other"})"), std::string::npos);
  EXPECT_NE(out.find(R"(pgopt_failover_primary_changes_total{database="app"} 3)"), std::string::npos);
}

}  // namespace
}  // namespace pgopt::pooler::metrics
