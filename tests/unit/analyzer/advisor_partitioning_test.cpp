// Partitioning advice in detail: the thresholds that trigger RANGE / LIST / HASH, the share of
// partitions each statement group prunes, and DDL sketches that parse and start from the data's own
// values (newest period, most common tenant). The golden cases (tests/fixtures/advisor/partition_*)
// cover the choice end to end; this covers the text a DBA will copy.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "analyzer/advisor/model.hpp"
#include "analyzer/advisor/partitioning.hpp"
#include "sql/parser.hpp"

using namespace pgopt::analyzer;
using namespace pgopt::analyzer::advisor;

namespace {

struct Fixture {
  Catalog cat;
  Workload w;
  void table(const std::string& ddl, double bytes) {
    cat = catalog_from_schema(pgopt::sql::parse_schema(ddl));
    cat.has_statistics = true;
    TableInfo& t = cat.tables.front();
    t.total_bytes = bytes;
    t.reltuples = bytes / 100;
    t.relpages = bytes / 8192;
  }
  ColumnInfo& column(const std::string& name) {
    for (auto& c : cat.tables.front().columns)
      if (c.name == name) {
        c.has_stats = true;
        return c;
      }
    throw std::runtime_error("no column " + name);
  }
  void add(uint64_t calls, const std::string& sql) {
    auto fp = pgopt::sql::fingerprint(sql);
    auto norm = pgopt::sql::normalize(sql);
    ASSERT_TRUE(fp.value && norm.text) << sql;
    QueryGroup& g = w.groups[*fp.value];
    g.fingerprint = *fp.value;
    g.normalized = *norm.text;
    g.calls += calls;
    g.samples.push_back(sql);
  }
  std::vector<PartitionAdvice> advise() {
    ModelBuild m = build_models(w, cat);
    return advise_partitioning(m.queries, cat);
  }
};

void expect_parses(const std::string& ddl) {
  pgopt::sql::ParseError err;
  EXPECT_TRUE(pgopt::sql::parses(ddl, &err)) << ddl;
}

}  // namespace

TEST(Partitioning, RangeStartsFromTheNewestPeriodAndPrunesByWindow) {
  Fixture f;
  f.table("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL, kind text);", 50e9);
  f.column("at").histogram = {"2023-01-01 00:00:00+00", "2023-09-01 00:00:00+00", "2024-03-14 10:00:00+00"};
  f.add(600, "SELECT count(*) FROM events WHERE at >= '2024-03-01' AND at < '2024-03-08'");
  f.add(300, "SELECT count(*) FROM events WHERE kind = 'x' AND at < '2024-02-15' AND at >= '2024-02-01'");
  f.add(100, "SELECT * FROM events WHERE id = 5");
  auto adv = f.advise();
  ASSERT_EQ(adv.size(), 1u);
  const PartitionAdvice& p = adv[0];
  EXPECT_EQ(p.strategy, "RANGE");
  EXPECT_EQ(p.column, "at");
  EXPECT_EQ(p.interval, "1 week");  // a week's window over 438 days of data
  EXPECT_NEAR(p.statement_share, 0.9, 1e-9);
  ASSERT_EQ(p.pruned.size(), 2u);
  // 63 weekly partitions: a 7-day window touches at most 2 of them, a 14-day one 3, whichever bound
  // the statement names first.
  std::multiset<double> shares;
  for (const auto& [fp, share] : p.pruned) shares.insert(std::round(share * 63));
  EXPECT_EQ(shares, (std::multiset<double>{60, 61}));
  // The example partition is the week (Monday to Monday) holding the newest data.
  EXPECT_NE(p.ddl.find("CREATE TABLE public.events_p2024_03_11 PARTITION OF public.events_new FOR VALUES FROM "
                       "('2024-03-11') TO ('2024-03-18');"),
            std::string::npos)
      << p.ddl;
  expect_parses(p.ddl);
  ASSERT_GE(p.migration.size(), 3u);
  EXPECT_NE(p.migration[1].find("must include at"), std::string::npos) << p.migration[1];
}

TEST(Partitioning, MonthlyAndYearlyBoundsRollOver) {
  Fixture f;
  f.table("CREATE TABLE logs (id bigint, at date NOT NULL);", 30e9);
  f.column("at").histogram = {"2010-01-01", "2023-12-31"};
  f.add(100, "SELECT count(*) FROM logs WHERE at BETWEEN '2023-01-01' AND '2023-04-01'");
  auto adv = f.advise();
  ASSERT_EQ(adv.size(), 1u);
  EXPECT_EQ(adv[0].interval, "1 month");
  EXPECT_NE(adv[0].ddl.find("public.logs_p2023_12 PARTITION OF public.logs_new FOR VALUES FROM ('2023-12-01') TO ('2024-01-01')"),
            std::string::npos)
      << adv[0].ddl;
  expect_parses(adv[0].ddl);
}

TEST(Partitioning, ListForFewTenantsWithTheMostCommonAsExampleAndADefault) {
  Fixture f;
  f.table("CREATE TABLE tickets (id bigint PRIMARY KEY, region text NOT NULL, state text);", 16e9);
  ColumnInfo& region = f.column("region");
  region.n_distinct = 12;
  region.mcv = {"eu-west", "us-east"};
  region.mcf = {0.3, 0.25};
  f.add(1000, "SELECT id FROM tickets WHERE region = 'eu-west' AND state = 'open'");
  f.add(500, "UPDATE tickets SET state = 'closed' WHERE region = 'us-east' AND id = 4");
  auto adv = f.advise();
  ASSERT_EQ(adv.size(), 1u);
  EXPECT_EQ(adv[0].strategy, "LIST");
  EXPECT_EQ(adv[0].interval, "12 partitions (one per value)");
  ASSERT_EQ(adv[0].pruned.size(), 2u);
  EXPECT_NEAR(adv[0].pruned[0].second, 11.0 / 12, 1e-9);
  EXPECT_NE(adv[0].ddl.find("CREATE TABLE public.tickets_euwest PARTITION OF public.tickets_new FOR VALUES IN ('eu-west');"),
            std::string::npos)
      << adv[0].ddl;
  EXPECT_NE(adv[0].ddl.find("PARTITION OF public.tickets_new DEFAULT;"), std::string::npos) << adv[0].ddl;
  expect_parses(adv[0].ddl);
}

TEST(Partitioning, HashForManyTenants) {
  Fixture f;
  f.table("CREATE TABLE docs (id bigint PRIMARY KEY, tenant_id int NOT NULL, title text);", 70e9);
  f.column("tenant_id").n_distinct = 5000;
  f.add(1000, "SELECT title FROM docs WHERE tenant_id = 7 AND id = 3");
  auto adv = f.advise();
  ASSERT_EQ(adv.size(), 1u);
  EXPECT_EQ(adv[0].strategy, "HASH");
  EXPECT_EQ(adv[0].interval, "modulus 32");
  EXPECT_NE(adv[0].ddl.find("FOR VALUES WITH (MODULUS 32, REMAINDER 0);"), std::string::npos) << adv[0].ddl;
  expect_parses(adv[0].ddl);
}

TEST(Partitioning, NothingForSmallTablesOrMixedFilters) {
  Fixture small;
  small.table("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL);", 2e9);  // under 10 GB
  small.add(100, "SELECT count(*) FROM events WHERE at >= '2024-03-01'");
  EXPECT_TRUE(small.advise().empty());

  Fixture mixed;
  mixed.table("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL, tenant_id int);", 50e9);
  mixed.column("tenant_id").n_distinct = 50;
  mixed.add(50, "SELECT count(*) FROM events WHERE at >= '2024-03-01'");   // 50%: below the 60% for RANGE
  mixed.add(50, "SELECT * FROM events WHERE id = 3");                       // and no tenant in 90%
  mixed.add(10, "SELECT * FROM events WHERE tenant_id = 3");
  EXPECT_TRUE(mixed.advise().empty());
}
