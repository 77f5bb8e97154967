// End to end against the real PG15 + HypoPG cluster: pgbench's schema without primary keys, its
// default (TPC-B like) workload logged, then `pgopt analyze --db` must recommend exactly the three
// key indexes; after applying its DDL a second run must recommend nothing.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "analyzer_test_util.hpp"
#include "support/wait.hpp"

namespace {

using pgopt::test::analyzer_util::ScratchDatabaseTest;
using pgopt::test::analyzer_util::slurp;
using pgopt::test::analyzer_util::create_lines;

int run(const std::string& cmd, std::string* out = nullptr) {
  std::string full = cmd + (out ? " > /tmp/pgopt_advisor_it.out 2>&1" : " >/dev/null 2>&1");
  int rc = std::system(full.c_str());
  if (out) *out = slurp("/tmp/pgopt_advisor_it.out");
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class AdvisorPgbench : public ScratchDatabaseTest {
 protected:
  static constexpr const char* kDb = "pgopt_advisor";
  AdvisorPgbench() : ScratchDatabaseTest(kDb) {}

  std::string pgbench(const std::string& args) {
    return env_["PGOPT_PG_BIN"] + "/pgbench -h 127.0.0.1 -p " + port_ + " -U postgres " + args + " " + kDb;
  }

  // Runs the workload and returns the part of the server log it produced.
  std::string logged_workload() {
    std::string log = env_["PGOPT_DATA_DIR"] + "/primary.log";
    std::error_code ec;
    auto start = std::filesystem::file_size(log, ec);
    EXPECT_FALSE(ec) << log;
    // -n: no pre-run VACUUM, so the tables keep the statistics of a fresh load (never analysed),
    // the state this scenario is about; autovacuum is kept off them for the same reason.
    EXPECT_EQ(run(pgbench("-n -c 2 -j 2 -t 150")), 0);
    // The server writes the log asynchronously: a marker statement run after the workload is in
    // the log once the workload's lines are, and the part ends before it.
    const std::string marker = "pgopt_advisor_workload_end_" + std::to_string(::getpid());
    EXPECT_EQ(run(env_["PGOPT_PG_BIN"] + "/psql -X -h 127.0.0.1 -p " + port_ + " -U postgres -d " + kDb +
                  " -Atc \"SELECT '" + marker + "'\""),
              0);
    std::string all;
    size_t end = std::string::npos;
    EXPECT_TRUE(pgopt::test::poll_until([&] {
      all = slurp(log);
      end = all.find(marker, std::min<size_t>(start, all.size()));
      return end != std::string::npos;
    }, std::chrono::seconds(10))) << "the marker statement is not in " << log;
    if (end != std::string::npos) end = all.rfind('\n', end) + 1;  // the marker's line is not the workload's
    const size_t from = std::min<size_t>(start, all.size());
    if (end != std::string::npos && end < from) end = from;
    std::string part = all.substr(from, end == std::string::npos ? std::string::npos : end - from);
    std::string path = std::string(::testing::TempDir()) + "pgopt_pgbench.log";
    std::ofstream(path, std::ios::binary) << part;
    return path;
  }
};

TEST_F(AdvisorPgbench, RecommendsExactlyTheThreeKeyIndexesThenNothing) {
  ASSERT_EQ(run(pgbench("-i -I dtg -s 1")), 0);
  for (const char* t : {"pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history"})
    exec(kDb, std::string("ALTER TABLE ") + t + " SET (autovacuum_enabled = off)");
  std::string log = logged_workload();

  std::string sql;
  ASSERT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format sql " + log, &sql), 0) << sql;
  auto lines = create_lines(sql);
  ASSERT_EQ(lines.size(), 3u) << sql;
  std::string joined;
  for (const auto& l : lines) joined += l + "\n";
  EXPECT_NE(joined.find("ON public.pgbench_accounts (aid);"), std::string::npos) << joined;
  EXPECT_NE(joined.find("ON public.pgbench_branches (bid);"), std::string::npos) << joined;
  EXPECT_NE(joined.find("ON public.pgbench_tellers (tid);"), std::string::npos) << joined;
  EXPECT_NE(sql.find("costs: hypopg"), std::string::npos) << sql;

  // The JSON report is valid JSON and names the evaluation method and the helped statements.
  std::string json_path = std::string(::testing::TempDir()) + "pgopt_pgbench.json";
  ASSERT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format json -o " + json_path + " " + log), 0);
  EXPECT_EQ(run("python3 -m json.tool " + json_path), 0);
  std::string json = slurp(json_path);
  EXPECT_NE(json.find("\"evaluation\": \"hypopg\""), std::string::npos);
  EXPECT_NE(json.find("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"), std::string::npos);
  EXPECT_EQ(json.find("\"samples\""), std::string::npos);  // no literals without --show-samples

  // Applying the DDL as printed works, and then nothing is left to recommend.
  for (const auto& l : lines) exec(kDb, l.substr(0, l.size() - 1));
  std::string again;
  ASSERT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format sql " + log, &again), 0) << again;
  EXPECT_TRUE(create_lines(again).empty()) << again;
}

TEST_F(AdvisorPgbench, ReportsShowNormalizedSqlUnlessSamplesAreAsked) {
  ASSERT_EQ(run(pgbench("-i -I dtg -s 1")), 0);
  std::string log = logged_workload();
  // A real statement with its literals, as logged (pgbench -M simple sends literals).
  std::smatch m;
  std::string text = slurp(log);
  std::regex select_line("statement: (SELECT abalance FROM pgbench_accounts WHERE aid = [0-9]+;)");
  ASSERT_TRUE(std::regex_search(text, m, select_line)) << "no pgbench SELECT in the log";
  std::string literal_statement = m[1];
  std::string base = std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' " + log;
  for (const char* format : {"markdown", "html", "json"}) {
    std::string plain, with;
    ASSERT_EQ(run(base + " --format " + format, &plain), 0) << plain;
    ASSERT_EQ(run(base + " --show-samples --format " + format, &with), 0) << with;
    EXPECT_NE(plain.find("SELECT abalance FROM pgbench_accounts WHERE aid = $1"), std::string::npos) << format;
    EXPECT_EQ(plain.find(literal_statement), std::string::npos) << format << ": a literal leaked";
    EXPECT_EQ(plain.find("pgbench_accounts WHERE aid = 1"), std::string::npos) << format;
    // With --show-samples the real statements are there (the group's sample reservoir holds 16 of
    // its 300 calls, so look for the shape with a number rather than one given statement).
    std::regex sample("SELECT abalance FROM pgbench_accounts WHERE aid = [0-9]+");
    EXPECT_TRUE(std::regex_search(with, sample)) << format;
  }
  std::string html;
  ASSERT_EQ(run(base + " --format html", &html), 0);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  for (const char* external : {"<script", "<link", "src=", "href=", "@import", "url("})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
}

TEST_F(AdvisorPgbench, PgStatStatementsAloneRecommendsAndIgnoresPgoptsOwnQueries) {
  ASSERT_EQ(run(pgbench("-i -I dtg -s 1")), 0);
  for (const char* t : {"pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history"})
    exec(kDb, std::string("ALTER TABLE ") + t + " SET (autovacuum_enabled = off)");
  exec(kDb, "CREATE EXTENSION pg_stat_statements");
  std::string log = logged_workload();
  // A first run over the log puts pgopt's own catalog reads and EXPLAINs into pg_stat_statements.
  std::string first;
  ASSERT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format sql " + log, &first), 0) << first;

  std::string json_path = std::string(::testing::TempDir()) + "pgopt_pss.json";
  std::string out;
  ASSERT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --pg-stat-statements --format json -o " +
                    json_path, &out), 0) << out;
  std::string json = slurp(json_path);
  EXPECT_NE(json.find("\"evaluation\": \"hypopg\""), std::string::npos);
  // Generic plans of the normalized texts still find the dominant lookup.
  EXPECT_NE(json.find("CREATE INDEX CONCURRENTLY pgbench_accounts_aid_idx ON public.pgbench_accounts (aid);"),
            std::string::npos) << json;
  EXPECT_NE(json.find("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"), std::string::npos);
  // pgopt's own statements (tagged) are utility, never a top group; other databases are not read.
  auto top = json.substr(json.find("\"top_groups\""), json.find("\"recommendations\"") - json.find("\"top_groups\""));
  for (const char* own : {"pgopt analyze", "pg_stats", "hypopg", "pg_stat_statements", "EXPLAIN"})
    EXPECT_EQ(top.find(own), std::string::npos) << own << " in " << top;
  EXPECT_EQ(json.find("tables in the workload but not in the database"), std::string::npos) << json;
}

TEST_F(AdvisorPgbench, DuplicateAndPrefixIndexesAreDropSuggestionsWithTheStatisticsAge) {
  ASSERT_EQ(run(pgbench("-i -s 1")), 0);  // with primary keys
  exec(kDb, "CREATE INDEX accounts_aid_dup ON pgbench_accounts (aid)");
  exec(kDb, "CREATE INDEX accounts_bid ON pgbench_accounts (bid)");
  exec(kDb, "CREATE INDEX accounts_bid_abalance ON pgbench_accounts (bid, abalance)");
  std::string log = logged_workload();
  std::string json_path = std::string(::testing::TempDir()) + "pgopt_drops.json";
  std::string out;
  ASSERT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format json -o " + json_path + " " + log,
                &out), 0) << out;
  std::string json = slurp(json_path);
  EXPECT_NE(json.find("\"index\": \"public.accounts_aid_dup\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"kind\": \"duplicate\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"index\": \"public.accounts_bid\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"kind\": \"prefix\""), std::string::npos) << json;
  EXPECT_NE(json.find("DROP INDEX CONCURRENTLY public.accounts_aid_dup;"), std::string::npos);
  // Constraint indexes are never suggested; the fresh server's usage counters are too young for
  // "unused", and the note says how old they are.
  EXPECT_EQ(json.find("\"index\": \"public.pgbench_accounts_pkey\""), std::string::npos) << json;
  EXPECT_EQ(json.find("\"kind\": \"unused\""), std::string::npos) << json;
  EXPECT_TRUE(std::regex_search(json, std::regex("index usage statistics cover only [0-9.]+ days, since 20[0-9-]+ "
                                                 "[0-9:]+[+-][0-9]+")))
      << json;
  // --format sql prints them commented out, never as live statements.
  std::string sql;
  ASSERT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format sql " + log, &sql), 0);
  EXPECT_NE(sql.find("-- DROP INDEX CONCURRENTLY public.accounts_aid_dup;"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("\nDROP INDEX"), std::string::npos) << sql;
}

TEST_F(AdvisorPgbench, BadConnectionIsAClearError) {
  std::string out;
  EXPECT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db 'host=127.0.0.1 port=1 dbname=x connect_timeout=2' /dev/null", &out), 1);
  EXPECT_NE(out.find("--db:"), std::string::npos) << out;
}

}  // namespace
