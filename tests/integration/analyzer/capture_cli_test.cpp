// `pgopt analyze --capture FILE`: a capture of pgbench's statements (tests/fixtures/capture/
// pgbench.jsonl) against the real cluster recommends the key indexes of that database only; and
// the command line around it (no LOG needed, repeatable, combined with a LOG, bad files exit 1
// naming FILE:LINE).
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "integration/pooler/harness.hpp"

#include "analyzer_test_util.hpp"

namespace pgopt::test {
namespace {

using pgopt::test::analyzer_util::slurp;
using pgopt::test::analyzer_util::create_lines;

const std::string kFixtures = std::string(PGOPT_FIXTURES) + "/capture/";

class CaptureCli : public ::testing::Test {
 protected:
  static constexpr const char* kDb = "pgopt_capture";
  std::string dir_ = std::string(::testing::TempDir()) + "pgopt_capture_cli_" + std::to_string(::getpid());
  std::string conninfo_;

  void SetUp() override {
    const auto& env = ClusterEnv::instance();
    ASSERT_GT(env.primary_port, 0) << "no cluster env at " << PGOPT_CLUSTER_ENV;
    ASSERT_EQ(std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()), 0);
    conninfo_ = "host=127.0.0.1 port=" + std::to_string(env.primary_port) + " user=postgres dbname=" + kDb;
  }
  void TearDown() override {
    std::system(("rm -rf " + dir_).c_str());
    Conn d = direct("postgres");
    ok(d.get(), std::string("DROP DATABASE IF EXISTS ") + kDb + " WITH (FORCE)");
  }

  // pgbench's tables at scale 1 without primary keys (-I dtg), never analysed, HypoPG installed.
  void pgbench_database() {
    const auto& env = ClusterEnv::instance();
    {
      Conn d = direct("postgres");
      ok(d.get(), std::string("DROP DATABASE IF EXISTS ") + kDb + " WITH (FORCE)");
      ok(d.get(), std::string("CREATE DATABASE ") + kDb);
    }
    Conn c = direct(kDb);
    ok(c.get(), "CREATE EXTENSION hypopg");
    std::string init = env.get("PGOPT_PG_BIN") + "/pgbench -h 127.0.0.1 -p " + std::to_string(env.primary_port) +
                       " -U postgres -i -I dtg -s 1 -q " + kDb + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(init.c_str()), 0) << init;
    for (const char* t : {"pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history"})
      ok(c.get(), std::string("ALTER TABLE ") + t + " SET (autovacuum_enabled = off)");
  }

  // `pgopt analyze ARGS`: exit status, stdout and stderr.
  int analyze(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) const {
    std::string cmd = std::string(PGOPT_BINARY) + " analyze " + args + " > " + dir_ + "/out.txt 2> " + dir_ + "/err.txt";
    int rc = std::system(cmd.c_str());
    if (out) *out = slurp(dir_ + "/out.txt");
    if (err) *err = slurp(dir_ + "/err.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string db_arg() const { return "--db '" + conninfo_ + "'"; }
};

TEST_F(CaptureCli, PgbenchCaptureRecommendsTheKeyIndexesOfItsDatabaseOnly) {
  pgbench_database();
  std::string sql, err;
  ASSERT_EQ(analyze("--capture " + kFixtures + "pgbench.jsonl " + db_arg() + " --format sql", &sql, &err), 0) << err;
  auto lines = create_lines(sql);
  std::string joined;
  for (const auto& l : lines) joined += l + "\n";
  EXPECT_EQ(lines.size(), 2u) << sql;
  EXPECT_NE(joined.find("ON public.pgbench_accounts (aid);"), std::string::npos) << sql;
  EXPECT_NE(joined.find("ON public.pgbench_branches (bid);"), std::string::npos) << sql;
  // pgbench_tellers is only updated by the entry of another database (dbname pgopt_capture_other).
  EXPECT_EQ(joined.find("pgbench_tellers"), std::string::npos) << sql;
  EXPECT_NE(sql.find("costs: hypopg"), std::string::npos) << sql;

  std::string md;
  ASSERT_EQ(analyze("--capture " + kFixtures + "pgbench.jsonl " + db_arg(), &md, &err), 0) << err;
  EXPECT_NE(md.find("written by pgopt 0.1.0 at 2026-12-04T18:45:00.000Z"), std::string::npos) << md;
  EXPECT_NE(md.find("kept the 6 entries of dbname \"pgopt_capture\", left out 1 of other databases "
                    "(\"pgopt_capture_other\")"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"), std::string::npos) << md;
  EXPECT_NE(md.find("2026-12-04 18:40:00.000 UTC to 2026-12-04 18:45:00.000 UTC"), std::string::npos) << md;
}

// Offline (--schema): the command line around --capture.
TEST_F(CaptureCli, CommandLine) {
  std::ofstream(dir_ + "/schema.sql") << "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric);\n"
                                         "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, name text);\n";
  std::ofstream(dir_ + "/orders.jsonl")
      << R"({"format":"pgopt-capture","version":1,"pgopt":"0.1.0","started_at":"2026-12-04T18:40:00.000Z","written_at":"2026-12-04T18:45:00.000Z","statements":500,"fingerprints":1,"dropped_calls":0})"
         "\n"
      << R"({"database":"shop","dbname":"shop","fingerprint":"0000000000000001","query":"SELECT id, total FROM orders WHERE customer_id = $1","calls":500,"errors":0,"rows":500,"total_ms":750,"max_ms":3,"p95_ms":2,"durations_ms":[1.5,2],"primary_calls":500,"replica_calls":0,"samples":["SELECT id, total FROM orders WHERE customer_id = 42"]})"
         "\n";
  std::ofstream log(dir_ + "/app.log");
  for (int i = 0; i < 100; ++i)
    log << "2024-05-01 10:00:" << (10 + i % 50) << ".000 UTC [" << 200 + i % 5 << "] app@shop LOG:  duration: 0.700 ms  "
        << "statement: SELECT name FROM customers WHERE email = 'x" << i << "@example.com'\n";
  log.close();
  const std::string schema = "--schema " + dir_ + "/schema.sql ";

  std::string help;
  ASSERT_EQ(analyze("--help", &help), 0);
  EXPECT_NE(help.find("--capture"), std::string::npos) << help;

  // Only --capture: valid, and the capture's statement gets its index.
  std::string sql, err;
  ASSERT_EQ(analyze(schema + "--capture " + dir_ + "/orders.jsonl --format sql", &sql, &err), 0) << err;
  EXPECT_NE(sql.find("ON public.orders (customer_id"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("ON public.customers"), std::string::npos) << sql;

  // A LOG after --capture FILE is a log (one file per --capture), and both are read.
  ASSERT_EQ(analyze(schema + "--capture " + dir_ + "/orders.jsonl " + dir_ + "/app.log --format sql", &sql, &err), 0)
      << err;
  EXPECT_NE(sql.find("ON public.orders (customer_id"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ON public.customers (email"), std::string::npos) << sql;
  std::string json;
  ASSERT_EQ(analyze(schema + dir_ + "/app.log --capture=" + dir_ + "/orders.jsonl --format json", &json, &err), 0) << err;
  EXPECT_NE(json.find("\"statements\": 600"), std::string::npos) << json;

  // Bad files: exit 1, every problem as FILE:LINE, no report. Repeatable: both files are checked.
  std::string out;
  EXPECT_EQ(analyze(schema + "--capture " + kFixtures + "truncated.jsonl --capture " + kFixtures + "wrong_version.jsonl",
                    &out, &err),
            1);
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("pgopt analyze: " + kFixtures + "truncated.jsonl:3: not valid JSON: line ends early"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("pgopt analyze: " + kFixtures + "wrong_version.jsonl:1: capture format version 2 is not supported"),
            std::string::npos)
      << err;
  EXPECT_EQ(analyze(schema + "--capture " + dir_ + "/missing.jsonl", &out, &err), 1);
  EXPECT_NE(err.find(dir_ + "/missing.jsonl: cannot open: No such file or directory"), std::string::npos) << err;
  EXPECT_EQ(analyze(schema, &out, &err), 2);
  EXPECT_NE(err.find("give log files (or - for stdin), --capture FILE (written by pgopt pool), or --pg-stat-statements"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace pgopt::test
