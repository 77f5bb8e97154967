// A pooler's own statements in a real-looking log (pgopt pool's and PgBouncer's session sync and
// reset: set_config, RESET, SET, DISCARD ALL, ROLLBACK, DEALLOCATE ALL), and pgopt analyze's own
// tagged statements from an earlier run, are utility: counted apart,
// never in the top groups, never behind a recommendation, and their literals never in a report.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "analyzer/advisor/advisor.hpp"
#include "analyzer/input.hpp"
#include "analyzer/report/report.hpp"
#include "sql/parser.hpp"

using namespace pgopt::analyzer;
using namespace pgopt::analyzer::advisor;

namespace {

// The pooler's statements, each logged many times with large durations: treated as queries they
// would top every list.
const char* kPoolerStatements[] = {
    "SELECT pg_catalog.set_config($q$search_path$q$, $q$secret_schema$q$, false)",
    "SELECT pg_catalog.set_config($q$application_name$q$, $q$secret_app$q$, false), "
    "pg_catalog.set_config($q$TimeZone$q$, $q$UTC$q$, false)",
    "RESET search_path;SET statement_timeout = '5s';SELECT pg_catalog.set_config($q$work_mem$q$, $q$64MB$q$, false);",
    "DISCARD ALL",
    "ROLLBACK",
    "DEALLOCATE ALL",
    "SET SESSION AUTHORIZATION DEFAULT",
    // An earlier pgopt analyze run's own catalog read and what-if EXPLAIN, read back from the log.
    "/* pgopt analyze */ SELECT c.oid, c.relname FROM pg_class c WHERE c.relname = 'secret_table'",
    "/* pgopt analyze */ EXPLAIN (FORMAT JSON) SELECT id FROM orders WHERE note = 'secret_note'",
    "RESET ALL",
    "BEGIN",
    "COMMIT",
};

std::string pooled_log() {
  std::string log;
  int pid = 100;
  auto line = [&](double ms, const std::string& sql) {
    log += "2024-05-01 10:00:00.000 UTC [" + std::to_string(pid++ % 7 + 100) + "] app@shop LOG:  duration: " +
           std::to_string(ms) + " ms  statement: " + sql + "\n";
  };
  for (int i = 0; i < 50; ++i) {
    for (const char* s : kPoolerStatements) line(40, s);
    line(2, "SELECT id, total FROM orders WHERE customer_id = " + std::to_string(1000 + i));
  }
  return log;
}

}  // namespace

TEST(AdvisorUtility, PoolerStatementsInALogAreUtilityAndNeverRecommendedFor) {
  InputOptions in;
  InputResult r = read_log_buffer(pooled_log(), in, "pooled.log");
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.workload.parse_failures, 0u);
  const size_t pooler_kinds = std::size(kPoolerStatements);
  std::set<uint64_t> utility;
  for (const auto& [fp, g] : r.workload.groups)
    if (g.normalized.find("FROM orders WHERE customer_id") == std::string::npos) utility.insert(fp);
  // libpg_query's fingerprint ignores the length of a target list: one or two set_config() calls
  // are one group.
  ASSERT_EQ(utility.size(), pooler_kinds - 1);
  ASSERT_EQ(r.workload.groups.size(), utility.size() + 1);

  auto def = pgopt::sql::parse_schema(
      "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric, note text);");
  Catalog cat = catalog_from_schema(def);
  auto ev = make_cost_model(cat);
  Advice a = advise(r.workload, cat, *ev, AdvisorOptions{});

  EXPECT_EQ(a.utility_groups, utility.size());
  EXPECT_EQ(a.analysed_groups, 1u);
  EXPECT_EQ(a.utility_statements, 50u * pooler_kinds);
  EXPECT_NEAR(a.utility_ms, 50.0 * 40 * double(pooler_kinds), 1e-6);
  ASSERT_EQ(a.top_groups.size(), 1u);
  EXPECT_EQ(a.top_groups[0].normalized, "SELECT id, total FROM orders WHERE customer_id = $1");

  ASSERT_FALSE(a.recommendations.empty());
  for (const auto& rec : a.recommendations) {
    EXPECT_EQ(rec.index.table, "orders");
    for (const auto& g : rec.groups) EXPECT_FALSE(utility.count(g.fingerprint)) << rec.index.describe();
  }
  EXPECT_TRUE(a.unserved.empty());
  EXPECT_EQ(a.recommendations.front().index.columns.front(), "customer_id");

  for (const std::string& text :
       {report::render_markdown(a), report::render_html(a), report::render_json(a), report::render_sql(a)}) {
    EXPECT_EQ(text.find("secret"), std::string::npos) << text;
    EXPECT_EQ(text.find("DISCARD"), text.find("DISCARD, set_config()")) << "only the summary's explanation names DISCARD";
  }
}
