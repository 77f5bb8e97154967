// Issue 17, 4: every one of the costliest statement groups ends the report with one outcome, on the
// real PG15 + HypoPG cluster: served by a recommendation, already served by an existing index, no
// B-tree helps (and what would), writes only. A wide range on a small table is never told to
// partition (the partitioning advice's own 10 GB threshold). Also: --jobs 2 (two HypoPG backends)
// gives the same advice as --jobs 1.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "analyzer_test_util.hpp"

namespace {

using pgopt::test::analyzer_util::ScratchDatabaseTest;
using pgopt::test::analyzer_util::slurp;

class CostlyExplained : public ScratchDatabaseTest {
 protected:
  CostlyExplained() : ScratchDatabaseTest("pgopt_costly") {}

  std::string analyze(const std::string& file, const std::string& args) {
    std::string out = std::string(::testing::TempDir()) + "pgopt_costly.out";
    int rc = std::system((std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' " + args + " " + file + " > " + out +
                          " 2>&1")
                             .c_str());
    EXPECT_EQ(rc, 0) << slurp(out);
    return slurp(out);
  }
};

// The report row of the group whose query text contains `query`.
std::string row_of(const std::string& report, const std::string& query) {
  auto section = report.find("## The costliest statement groups, explained");
  if (section == std::string::npos) return "";
  std::istringstream in(report.substr(section));
  std::string line;
  while (std::getline(in, line))
    if (line.find(query) != std::string::npos) return line;
  return "";
}

TEST_F(CostlyExplained, EveryCostlyGroupHasOneOutcome) {
  exec(db_, "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, total numeric, at timestamptz)");
  // `at` in no physical order (else a BRIN index is the advice for its wide range).
  exec(db_, "INSERT INTO orders SELECT g, g % 5000, g % 100, timestamptz '2024-01-01' + (g * 7919 % 50000) * interval '1 minute' "
            "FROM generate_series(1, 50000) g");
  exec(db_, "CREATE TABLE users (id bigint PRIMARY KEY, name text)");
  exec(db_, "INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 20000) g");
  exec(db_, "VACUUM ANALYZE");
  std::string file = std::string(::testing::TempDir()) + "pgopt_costly.sql";
  {
    std::ofstream w(file);
    for (int i = 0; i < 40; ++i) w << "SELECT * FROM orders WHERE customer_id = " << i << ";\n";
    for (int i = 0; i < 30; ++i) w << "SELECT * FROM orders WHERE id = " << i << ";\n";
    for (int i = 0; i < 20; ++i) w << "SELECT id FROM users WHERE name ILIKE '%" << i << "x%';\n";
    for (int i = 0; i < 10; ++i) w << "INSERT INTO orders (id, customer_id) VALUES (" << 100000 + i << ", 1);\n";
    for (int i = 0; i < 5; ++i) w << "SELECT sum(total) FROM orders WHERE at > '2024-01-0" << 1 + i << "';\n";
  }
  std::string report = analyze(file, "");
  EXPECT_NE(row_of(report, "customer_id = $1").find("served by recommendation #1"), std::string::npos) << report;
  EXPECT_NE(row_of(report, "WHERE id = $1").find("the existing index public.orders_pkey already serves it"),
            std::string::npos)
      << report;
  std::string ilike = row_of(report, "ILIKE");
  EXPECT_NE(ilike.find("no B-tree helps"), std::string::npos) << report;
  EXPECT_NE(ilike.find("gin_trgm_ops"), std::string::npos) << report;
  EXPECT_NE(row_of(report, "INSERT INTO orders").find("it only writes rows"), std::string::npos) << report;
  std::string range = row_of(report, "sum(total)");
  EXPECT_NE(range.find("no B-tree helps"), std::string::npos) << report;
  EXPECT_NE(range.find("below the size where partitioning pays"), std::string::npos) << report;
  EXPECT_EQ(report.find("RANGE partitioning"), std::string::npos) << report;

  // Two what-if backends choose exactly what one does.
  EXPECT_EQ(analyze(file, "--format sql --jobs 2"), analyze(file, "--format sql"));
}

}  // namespace
