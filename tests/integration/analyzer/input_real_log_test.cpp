// Against the real test cluster: statements run through libpq (simple and extended protocol) with
// log_min_duration_statement = 0 are read back from the primary's log, and from pg_stat_statements.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "analyzer/input.hpp"
#include "analyzer_test_util.hpp"

using namespace pgopt::analyzer;

namespace {

using pgopt::test::analyzer_util::cluster_env;

class InputRealLog : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = cluster_env();
    ASSERT_FALSE(env_["PGOPT_PRIMARY_PORT"].empty()) << "no cluster env at " << PGOPT_CLUSTER_ENV;
    conninfo_ = "host=127.0.0.1 port=" + env_["PGOPT_PRIMARY_PORT"] + " user=postgres dbname=" + env_["PGOPT_TEST_DB"];
    conn_ = PQconnectdb(conninfo_.c_str());
    ASSERT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    // A table name of our own: the log is shared with every other test using the cluster. Letters
    // only: libpg_query's fingerprint ignores the digits of a relation name (so partitions group
    // together), and a name told apart by digits would share one group with every earlier run's.
    table_ = "input_real_";
    for (uint64_t v = (uint64_t(getpid()) << 20) ^ std::random_device{}(); v; v /= 26) table_ += char('a' + v % 26);
    exec("SET log_min_duration_statement = 0");
    exec("CREATE TABLE " + table_ + " (id int, name text)");
  }
  void TearDown() override {
    if (conn_) {
      if (!table_.empty()) exec("DROP TABLE IF EXISTS " + table_);
      PQfinish(conn_);
    }
  }
  void exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(conn_);
    PQclear(r);
  }
  void exec_params(const std::string& sql, std::initializer_list<const char*> params) {
    std::vector<const char*> v(params);
    PGresult* r = PQexecParams(conn_, sql.c_str(), int(v.size()), nullptr, v.data(), nullptr, nullptr, 0);
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << sql << ": " << PQerrorMessage(conn_);
    PQclear(r);
  }
  const QueryGroup* group_containing(const Workload& w, const std::string& needle) {
    const QueryGroup* found = nullptr;
    for (const auto& [fp, g] : w.groups)
      if (g.normalized.find(needle) != std::string::npos) {
        EXPECT_EQ(found, nullptr) << "two groups contain " << needle;
        found = &g;
      }
    return found;
  }

  std::map<std::string, std::string> env_;
  std::string conninfo_, table_;
  PGconn* conn_ = nullptr;
};

TEST_F(InputRealLog, SimpleAndExtendedProtocolStatementsAreGroupedWithRealLiterals) {
  for (int id : {1, 2, 3}) exec("SELECT * FROM " + table_ + " WHERE id = " + std::to_string(id) + " AND name = 'n" +
                                std::to_string(id) + "'");
  exec("SELECT count(*)\n  FROM " + table_ + "\n WHERE name = 'multi\nline'\n   AND id > 10");
  exec_params("SELECT * FROM " + table_ + " WHERE id = $1 AND name = $2", {"7", "O'Brien"});
  exec_params("SELECT * FROM " + table_ + " WHERE id = $1 AND name = $2", {"8", nullptr});
  PGresult* prep = PQprepare(conn_, "input_real_stmt", ("SELECT name FROM " + table_ + " WHERE id > $1").c_str(), 1, nullptr);
  ASSERT_EQ(PQresultStatus(prep), PGRES_COMMAND_OK) << PQerrorMessage(conn_);
  PQclear(prep);
  for (const char* v : {"100", "200"}) {
    const char* params[] = {v};
    PGresult* r = PQexecPrepared(conn_, "input_real_stmt", 1, params, nullptr, nullptr, 0);
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
  }

  std::string log = env_["PGOPT_DATA_DIR"] + "/primary.log";
  InputResult r = read_logs({log}, {});
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_FALSE(r.workload.notes.empty());
  EXPECT_NE(r.workload.notes[0].find("'%m [%p] %q%u@%d '"), std::string::npos) << r.workload.notes[0];

  // Simple protocol literals and extended protocol parameters are one fingerprint.
  const QueryGroup* g = group_containing(r.workload, "FROM " + table_ + " WHERE id = $1 AND name = $2");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->calls, 5u);
  EXPECT_EQ(g->timed_calls, 5u);
  EXPECT_GT(g->total_ms, 0);
  // Samples come in the order of their random keys, not log order: compare as sets.
  std::vector<std::string> samples = g->samples;
  std::sort(samples.begin(), samples.end());
  EXPECT_EQ(samples, (std::vector<std::string>{
                         "SELECT * FROM " + table_ + " WHERE id = '7' AND name = 'O''Brien'",
                         "SELECT * FROM " + table_ + " WHERE id = '8' AND name = NULL",
                         "SELECT * FROM " + table_ + " WHERE id = 1 AND name = 'n1'",
                         "SELECT * FROM " + table_ + " WHERE id = 2 AND name = 'n2'",
                         "SELECT * FROM " + table_ + " WHERE id = 3 AND name = 'n3'",
                     }));

  const QueryGroup* multi = group_containing(r.workload, "FROM " + table_ + "\n WHERE name = $1\n   AND id > $2");
  ASSERT_NE(multi, nullptr);
  EXPECT_EQ(multi->calls, 1u);
  ASSERT_EQ(multi->samples.size(), 1u);
  EXPECT_EQ(multi->samples[0], "SELECT count(*)\n  FROM " + table_ + "\n WHERE name = 'multi\nline'\n   AND id > 10");

  const QueryGroup* prepared = group_containing(r.workload, "SELECT name FROM " + table_ + " WHERE id > $1");
  ASSERT_NE(prepared, nullptr);
  EXPECT_EQ(prepared->calls, 2u);  // parse and bind lines are not calls
  ASSERT_EQ(prepared->samples.size(), 2u);
  std::vector<std::string> bound = prepared->samples;
  std::sort(bound.begin(), bound.end());
  EXPECT_EQ(bound, (std::vector<std::string>{"SELECT name FROM " + table_ + " WHERE id > '100'",
                                             "SELECT name FROM " + table_ + " WHERE id > '200'"}));

  // Two jobs read the same (growing) file consistently: our groups are identical.
  InputOptions two;
  two.jobs = 2;
  InputResult r2 = read_logs({log}, two);
  const QueryGroup* g2 = group_containing(r2.workload, "FROM " + table_ + " WHERE id = $1 AND name = $2");
  ASSERT_NE(g2, nullptr);
  EXPECT_EQ(g2->calls, g->calls);
  EXPECT_EQ(g2->samples, g->samples);

  // pg_stat_statements groups the same statements under the same fingerprint, without literals.
  InputResult pss = read_pg_stat_statements(conninfo_, {});
  ASSERT_TRUE(pss.errors.empty()) << pss.errors[0];
  auto it = pss.workload.groups.find(g->fingerprint);
  ASSERT_NE(it, pss.workload.groups.end()) << "pg_stat_statements has no group for " << g->normalized;
  EXPECT_GE(it->second.calls, 5u);
  EXPECT_FALSE(it->second.has_literal_samples);
  EXPECT_TRUE(it->second.samples.empty());
  EXPECT_FALSE(it->second.queryids.empty());
  EXPECT_NE(it->second.normalized.find("$1"), std::string::npos);
  // Combined: counts from pg_stat_statements (it saw at least as many), samples from the log.
  Workload both = pss.workload;
  merge(both, r.workload, {});
  const QueryGroup& c = both.groups.at(g->fingerprint);
  EXPECT_TRUE(c.has_literal_samples);
  EXPECT_EQ(c.samples.size(), 5u);
  EXPECT_GE(c.calls, 5u);
}

TEST_F(InputRealLog, PgStatStatementsErrorsAreValues) {
  InputResult bad = read_pg_stat_statements("host=127.0.0.1 port=1 connect_timeout=2", {});
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].find("cannot connect"), std::string::npos) << bad.errors[0];
  // The extension lives in the test database only.
  InputResult none = read_pg_stat_statements(
      "host=127.0.0.1 port=" + env_["PGOPT_PRIMARY_PORT"] + " user=postgres dbname=postgres", {});
  ASSERT_EQ(none.errors.size(), 1u);
  EXPECT_NE(none.errors[0].find("CREATE EXTENSION pg_stat_statements"), std::string::npos) << none.errors[0];
}

}  // namespace
