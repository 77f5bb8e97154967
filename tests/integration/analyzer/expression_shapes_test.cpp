// Expression-index candidates (issue 17, 3) on the real PG15 + HypoPG cluster: a filter on
// date_trunc() of a timestamp, a jsonb field (doc ->> 'k'), a cast (tsn::date), lower(name) and
// COALESCE(name, '') each get an expression index, costed by HypoPG and accepted by PostgreSQL as printed; date_trunc() of a
// timestamptz is STABLE (it depends on TimeZone), so PostgreSQL's IMMUTABLE check, run through
// HypoPG, refuses it and the report says why instead of recommending it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "analyzer_test_util.hpp"

namespace {

using pgopt::test::analyzer_util::create_lines;
using pgopt::test::analyzer_util::ScratchDatabaseTest;
using pgopt::test::analyzer_util::slurp;

class ExpressionShapes : public ScratchDatabaseTest {
 protected:
  static constexpr const char* kDb = "pgopt_expr_shapes";
  ExpressionShapes() : ScratchDatabaseTest(kDb) {}
  std::string dir_ = std::string(::testing::TempDir()) + "pgopt_expr_" + std::to_string(::getpid());

  void SetUp() override {
    ScratchDatabaseTest::SetUp();
    ASSERT_EQ(std::system(("mkdir -p " + dir_).c_str()), 0);
    exec(kDb, "CREATE TABLE e (id int PRIMARY KEY, ts timestamptz NOT NULL, tsn timestamp NOT NULL, doc jsonb NOT NULL, "
              "pad text, name text)");
    exec(kDb, "INSERT INTO e SELECT g, '2024-01-01'::timestamptz + g * interval '5 minutes', "
              "'2024-01-01'::timestamp + g * interval '5 minutes', jsonb_build_object('k', g::text, 'n', g % 10), "
              "repeat('x', 60), CASE WHEN g % 10 <> 0 THEN 'User' || g END FROM generate_series(1, 100000) g");
    exec(kDb, "VACUUM ANALYZE e");
  }
  void TearDown() override {
    std::system(("rm -rf " + dir_).c_str());
    ScratchDatabaseTest::TearDown();
  }

  // A stderr log of `statements` (each run 20 times with the day or key `i` put in for %d).
  std::string log_of(const std::string& name, const std::string& statement) {
    std::string path = dir_ + "/" + name + ".log";
    std::ofstream f(path);
    for (int i = 1; i <= 20; ++i) {
      char sql[512];
      std::snprintf(sql, sizeof sql, statement.c_str(), i, i);
      f << "2024-05-01 10:00:00.000 UTC [100] postgres@" << kDb << " LOG:  duration: 9.500 ms  statement: " << sql << "\n";
    }
    return path;
  }

  std::string analyze(const std::string& format, const std::string& log) {
    std::string out = dir_ + "/out.txt";
    int rc = std::system((std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format " + format + " " + log +
                          " > " + out + " 2>&1").c_str());
    EXPECT_EQ(rc, 0) << slurp(out);
    return slurp(out);
  }

  void expect_index(const std::string& statement, const std::string& key) {
    std::string sql = analyze("sql", log_of("case", statement));
    auto lines = create_lines(sql);
    ASSERT_EQ(lines.size(), 1u) << sql;
    EXPECT_NE(lines[0].find("ON public.e (" + key + ")"), std::string::npos) << lines[0];
    exec(kDb, lines[0]);  // PostgreSQL accepts it as printed
  }
};

TEST_F(ExpressionShapes, DateTruncOfATimestamp) {
  expect_index("SELECT pad FROM e WHERE date_trunc('day', tsn) = '2024-02-%02d'", "(date_trunc('day', tsn))");
}

TEST_F(ExpressionShapes, AJsonbField) {
  expect_index("SELECT pad FROM e WHERE doc ->> 'k' = '%d7'", "(doc ->> 'k')");
}

TEST_F(ExpressionShapes, ACast) {
  expect_index("SELECT pad FROM e WHERE tsn::date = '2024-03-%02d'", "(tsn::date)");
}

// lower() of a column: the case-insensitive lookup, an expression index.
TEST_F(ExpressionShapes, LowerOfAColumn) {
  expect_index("SELECT pad FROM e WHERE lower(name) = 'user%d7'", "(lower(name))");
}

// COALESCE of a nullable column with a constant, compared with a constant: an expression index
// of exactly that expression (a plain index on name cannot serve it).
TEST_F(ExpressionShapes, CoalesceOfAColumn) {
  expect_index("SELECT pad FROM e WHERE coalesce(name, '') = 'User%d7'", "(COALESCE(name, ''))");
}

TEST_F(ExpressionShapes, DateTruncOfATimestamptzIsNotImmutable) {
  std::string log = log_of("stable", "SELECT pad FROM e WHERE date_trunc('day', ts) = '2024-02-%02d'");
  EXPECT_TRUE(create_lines(analyze("sql", log)).empty());
  std::string md = analyze("markdown", log);
  EXPECT_NE(md.find("no expression index is possible: (date_trunc('day', ts)): hypopg: functions in index expression "
                    "must be marked IMMUTABLE"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("rewrite the filter on ts itself"), std::string::npos) << md;
}

}  // namespace
