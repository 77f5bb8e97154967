// Small helpers the analyzer's end-to-end tests share: whole files, the CREATE INDEX lines of a
// report, the shared test cluster's address, and a database of a test's own on it.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace pgopt::test::analyzer_util {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> create_lines(const std::string& sql) {
  std::vector<std::string> out;
  std::istringstream in(sql);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("CREATE INDEX", 0) == 0) out.push_back(line);
  return out;
}

// The cluster scripts/cluster.sh started for the tests (KEY='value' lines of PGOPT_CLUSTER_ENV).
inline std::map<std::string, std::string> cluster_env() {
  std::map<std::string, std::string> env;
  std::ifstream f(PGOPT_CLUSTER_ENV);
  for (std::string line; std::getline(f, line);) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    env[line.substr(0, eq)] = v;
  }
  return env;
}

// A fixture whose test gets a fresh database `db` on the shared cluster, with HypoPG and every
// statement logged (for that database only: the rest of the cluster is left alone), dropped after.
class ScratchDatabaseTest : public ::testing::Test {
 protected:
  explicit ScratchDatabaseTest(std::string db) : db_(std::move(db)) {}

  void SetUp() override {
    env_ = cluster_env();
    ASSERT_FALSE(env_["PGOPT_PRIMARY_PORT"].empty()) << "no cluster env at " << PGOPT_CLUSTER_ENV;
    port_ = env_["PGOPT_PRIMARY_PORT"];
    conninfo_ = "host=127.0.0.1 port=" + port_ + " user=postgres dbname=" + db_;
    exec("postgres", "DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    exec("postgres", "CREATE DATABASE " + db_);
    exec("postgres", "ALTER DATABASE " + db_ + " SET log_min_duration_statement = 0");
    exec(db_, "CREATE EXTENSION hypopg");
  }
  void TearDown() override { exec("postgres", "DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)"); }

  void exec(const std::string& db, const std::string& sql) {
    PGconn* c = PQconnectdb(("host=127.0.0.1 port=" + port_ + " user=postgres dbname=" + db).c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, sql.c_str());
    auto st = PQresultStatus(r);
    EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << sql << ": " << PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
  }

  std::string db_;
  std::map<std::string, std::string> env_;
  std::string port_, conninfo_;
};

}  // namespace pgopt::test::analyzer_util
