// The `pgopt analyze` command line as a contract (docs/analyzer.md): every option of the interface,
// exit status 0 / 1 (input problem) / 2 (usage error) with a message naming the option, stdin and
// compressed input, and --output never leaving half a report. Runs the real executable offline
// (--schema); no database needed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "analyzer_test_util.hpp"

namespace {

using pgopt::test::analyzer_util::slurp;

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

class CliOptions : public ::testing::Test {
 protected:
  std::string dir_ = std::string(::testing::TempDir()) + "pgopt_cli_options_" + std::to_string(::getpid());

  void SetUp() override {
    ASSERT_EQ(std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()), 0);
    std::ofstream(dir_ + "/schema.sql")
        << "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric);\n"
           "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, name text);\n";
    std::ofstream log(dir_ + "/app.log");
    for (int i = 0; i < 300; ++i) {
      log << "2024-05-01 10:00:" << (10 + i % 50) << ".000 UTC [" << 100 + i % 7 << "] app@shop LOG:  duration: 1.500 ms  "
          << "statement: SELECT id, total FROM orders WHERE customer_id = " << i << "\n";
      if (i % 3 == 0)
        log << "2024-05-01 10:00:" << (10 + i % 50) << ".000 UTC [" << 200 + i % 5 << "] app@shop LOG:  duration: 0.700 ms  "
            << "statement: SELECT name FROM customers WHERE email = 'secret" << i << "@example.com'\n";
    }
    log << "this line is not a log line at all\n";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // Runs `pgopt analyze --schema ... ARGS`, returns its exit status; stdout and stderr captured.
  int analyze(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) const {
    std::string cmd = std::string(PGOPT_BINARY) + " analyze --schema " + dir_ + "/schema.sql " + args + " > " + dir_ +
                      "/out.txt 2> " + dir_ + "/err.txt";
    int rc = std::system(cmd.c_str());
    if (out) *out = slurp(dir_ + "/out.txt");
    if (err) *err = slurp(dir_ + "/err.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string log() const { return dir_ + "/app.log"; }
};

TEST_F(CliOptions, UsageErrorsExitTwoAndNameTheOption) {
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--format xml " + log(), "--format must be markdown, html, json or sql, not 'xml'"},
      {"--log-format syslog " + log(), "--log-format must be auto, stderr, csvlog or jsonlog, not 'syslog'"},
      {"--budget lots " + log(), "--budget: not a size: 'lots'"},
      {"--max-indexes 0 " + log(), "--max-indexes must be a whole number of at least 1, not '0'"},
      {"--max-indexes 2x " + log(), "--max-indexes must be a whole number of at least 1, not '2x'"},
      {"--min-improvement 150 " + log(), "--min-improvement must be a percentage between 0 and 100, not '150'"},
      {"--consolidate 101 " + log(), "--consolidate must be a percentage between 0 and 100, not '101'"},
      {"--jobs abc " + log(), "--jobs must be a whole number from 1 to 256, not 'abc'"},
      {"", "give log files (or - for stdin), --capture FILE (written by pgopt pool), or --pg-stat-statements"},
      {"--pg-stat-statements", "--pg-stat-statements needs --db"},
      {"--verify-timeout 0 " + log(), "--verify-timeout must be a number of seconds, not '0'"},
      {"--verify-min-saving 101 " + log(), "--verify-min-saving must be a percentage between 0 and 100, not '101'"},
      {"--verify-same-db " + log(), "--verify-same-db needs --verify CONNINFO"},
  };
  for (const auto& c : cases) {
    std::string out, err;
    EXPECT_EQ(analyze(c.args, &out, &err), 2) << c.args << ": " << err;
    EXPECT_NE(err.find("pgopt analyze: " + c.message), std::string::npos) << c.args << ": " << err;
    EXPECT_EQ(out, "") << c.args;
  }
  // Errors CLI11 finds itself (unknown options, a missing subcommand or required option) are usage
  // errors too; --help and --version are not errors.
  for (const std::string& args : {"analyze --bogus " + log(), std::string("--bogus"), std::string(""),
                                 std::string("pool"), std::string("pool --config")}) {
    EXPECT_EQ(std::system((std::string(PGOPT_BINARY) + " " + args + " >/dev/null 2>&1").c_str()) >> 8, 2) << args;
  }
  for (const char* args : {"--help", "--version", "analyze --help", "pool --help"})
    EXPECT_EQ(std::system((std::string(PGOPT_BINARY) + " " + args + " >/dev/null 2>&1").c_str()) >> 8, 0) << args;
  std::string err;
  EXPECT_EQ(std::system((std::string(PGOPT_BINARY) + " analyze " + log() + " >/dev/null 2>" + dir_ + "/e.txt").c_str()) >> 8, 2);
  EXPECT_NE(slurp(dir_ + "/e.txt").find("give --db CONNINFO"), std::string::npos);
}

TEST_F(CliOptions, InputProblemsExitOneBeforeAnyReport) {
  std::string out, err;
  EXPECT_EQ(analyze(dir_ + "/missing.log", &out, &err), 1);
  EXPECT_NE(err.find("missing.log"), std::string::npos) << err;
  EXPECT_EQ(out, "");
  std::ofstream(dir_ + "/empty.sql") << "-- nothing here\n";
  std::string cmd = std::string(PGOPT_BINARY) + " analyze --schema " + dir_ + "/empty.sql " + log() + " 2>" + dir_ + "/e.txt";
  EXPECT_EQ(std::system(cmd.c_str()) >> 8, 1);
  EXPECT_NE(slurp(dir_ + "/e.txt").find("--schema: no CREATE TABLE found in"), std::string::npos) << slurp(dir_ + "/e.txt");
  // A staging database that cannot be reached: nothing was built, no report.
  EXPECT_EQ(analyze("--verify 'host=127.0.0.1 port=1 connect_timeout=2' " + log(), &out, &err), 1);
  EXPECT_NE(err.find("pgopt analyze: --verify: "), std::string::npos) << err;
  EXPECT_EQ(out, "");
  // A failed --output leaves neither the report nor its temporary file.
  EXPECT_EQ(analyze("-o " + dir_ + "/no/such/dir/report.md " + log(), &out, &err), 1);
  EXPECT_NE(err.find("--output: cannot write"), std::string::npos) << err;
}

TEST_F(CliOptions, EveryFormatAndTheDefaults) {
  std::string md, html, json, sql;
  ASSERT_EQ(analyze(log(), &md), 0);  // markdown is the default
  EXPECT_EQ(md.rfind("# pgopt analyze report", 0), 0u) << md;
  EXPECT_NE(md.find("| Parse failures | 0 statements, 1 unrecognised log line |"), std::string::npos) << md;
  ASSERT_EQ(analyze("--format html " + log(), &html), 0);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  ASSERT_EQ(analyze("--format json " + log(), &json), 0);
  EXPECT_NE(json.find("\"schema_version\": 1"), std::string::npos);
  EXPECT_NE(json.find("\"evaluation\": \"heuristic\""), std::string::npos);
  ASSERT_EQ(analyze("--format sql " + log(), &sql), 0);
  EXPECT_EQ(count(sql, "\nCREATE INDEX CONCURRENTLY "), 2u) << sql;
  EXPECT_NE(sql.find("ON public.orders (customer_id"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ON public.customers (email"), std::string::npos) << sql;
  for (const std::string* text : {&md, &html, &json, &sql}) EXPECT_EQ(text->find("secret"), std::string::npos);
  // --output writes the same report to a file.
  std::string to_file;
  ASSERT_EQ(analyze("--format sql -o " + dir_ + "/r.sql " + log(), &to_file), 0);
  EXPECT_EQ(to_file, "");
  EXPECT_EQ(slurp(dir_ + "/r.sql"), sql);
  // --show-samples brings the real statements in.
  std::string samples;
  ASSERT_EQ(analyze("--show-samples " + log(), &samples), 0);
  EXPECT_NE(samples.find("@example.com'"), std::string::npos) << samples;
}

TEST_F(CliOptions, LimitsBudgetAndThreshold) {
  std::string sql;
  ASSERT_EQ(analyze("--format sql --max-indexes 1 " + log(), &sql), 0);
  EXPECT_EQ(count(sql, "\nCREATE INDEX CONCURRENTLY "), 1u) << sql;
  EXPECT_NE(sql.find("ON public.orders (customer_id"), std::string::npos) << sql;  // the bigger saving
  ASSERT_EQ(analyze("--format sql --budget 1kB " + log(), &sql), 0);
  EXPECT_EQ(count(sql, "\nCREATE INDEX CONCURRENTLY "), 0u) << sql;
  EXPECT_NE(sql.find("No index is worth its cost"), std::string::npos) << sql;
  ASSERT_EQ(analyze("--format sql --min-improvement 100 " + log(), &sql), 0);
  EXPECT_EQ(count(sql, "\nCREATE INDEX CONCURRENTLY "), 0u) << sql;
}

TEST_F(CliOptions, StdinGzipJobsAndLogFormatGiveTheSameWorkload) {
  std::string base, stdin_json, gz_json, jobs_json;
  ASSERT_EQ(analyze("--format json " + log(), &base), 0);
  ASSERT_EQ(analyze("--format json - < " + log(), &stdin_json), 0);
  ASSERT_EQ(std::system(("gzip -c " + log() + " > " + dir_ + "/app.log.gz").c_str()), 0);
  ASSERT_EQ(analyze("--format json " + dir_ + "/app.log.gz", &gz_json), 0);
  ASSERT_EQ(analyze("--format json --jobs 2 " + log(), &jobs_json), 0);
  // Everything but the source names and the detection notes is identical.
  auto without_sources = [](std::string s) {
    s = std::regex_replace(s, std::regex("\"sources\": \\[[^\\]]*\\]"), "");
    return std::regex_replace(s, std::regex("\"notes\": \\[[^\\]]*\\]"), "");
  };
  EXPECT_EQ(without_sources(stdin_json), without_sources(base));
  EXPECT_EQ(without_sources(gz_json), without_sources(base));
  EXPECT_EQ(without_sources(jobs_json), without_sources(base));
  EXPECT_NE(base.find("\"statements\": 400"), std::string::npos) << base;
  // A forced wrong format reads nothing usable: an input problem (exit 1) that says how many lines
  // matched no format, never a report that finds nothing to do.
  std::string wrong, why;
  ASSERT_EQ(analyze("--format json --log-format csvlog " + log(), &wrong, &why), 1);
  EXPECT_TRUE(wrong.empty()) << wrong;
  EXPECT_NE(why.find("nothing usable was read (401 lines matched no log format)"), std::string::npos) << why;
  // An explicit --log-line-prefix is used as given.
  std::string prefixed;
  ASSERT_EQ(analyze("--format json --log-line-prefix '%m [%p] %q%u@%d ' " + log(), &prefixed), 0);
  EXPECT_NE(prefixed.find("\"statements\": 400"), std::string::npos) << prefixed;
}

// --jobs N reads a file in many byte ranges on N threads; the report must not change by one byte,
// even where sampling decides (p95 from a full duration sample, --show-samples literals).
TEST_F(CliOptions, JobsGiveAByteIdenticalReport) {
  const std::string big = dir_ + "/big.log";
  {
    std::ofstream log(big);
    for (int i = 0; i < 6000; ++i) {
      // Durations spread over three orders of magnitude, so which ones are kept moves the p95.
      int us = (i * 7919) % 997 * (1 + i % 13) + 50;
      log << "2024-05-01 10:" << 10 + i / 600 << ":" << (10 + i % 50) << ".000 UTC [" << 100 + i % 7
          << "] app@shop LOG:  duration: " << us / 1000 << "." << us % 1000 / 100 << us % 100 / 10 << us % 10
          << " ms  statement: SELECT id, total FROM orders WHERE customer_id = " << i << "\n";
      if (i % 2 == 0)
        log << "2024-05-01 10:" << 10 + i / 600 << ":" << (10 + i % 50) << ".000 UTC [" << 200 + i % 5
            << "] app@shop LOG:  duration: " << i % 9 << ".250 ms  statement: SELECT name\n\tFROM customers\n\tWHERE "
            << "email = 'user" << i << "@example.com'\n";
    }
  }
  struct stat st {};
  ASSERT_EQ(::stat(big.c_str(), &st), 0);
  ASSERT_GT(st.st_size, 8 * 64 * 1024) << "too small to be split into ranges";
  std::string one, two, three, md_one, md_two;
  ASSERT_EQ(analyze("--format json --show-samples --jobs 1 " + big, &one), 0);
  ASSERT_EQ(analyze("--format json --show-samples --jobs 2 " + big, &two), 0);
  ASSERT_EQ(analyze("--format json --show-samples --jobs 3 " + big, &three), 0);
  EXPECT_NE(one.find("\"statements\": 9000"), std::string::npos) << one;
  EXPECT_NE(one.find("@example.com'"), std::string::npos) << one;
  EXPECT_EQ(two, one);
  EXPECT_EQ(three, one);
  ASSERT_EQ(analyze("--show-samples --jobs 1 " + big, &md_one), 0);
  ASSERT_EQ(analyze("--show-samples --jobs 2 " + big, &md_two), 0);
  EXPECT_EQ(md_two, md_one);
}

TEST_F(CliOptions, OutputIntoAFifoOrThroughASymlinkKeepsTheNode) {
  // A pipe (like /dev/null, which a root user might name) must be written into, not renamed over.
  const std::string fifo = dir_ + "/report.pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = slurp(fifo); });
  EXPECT_EQ(analyze("--format json --output " + fifo + " " + log()), 0);
  reader.join();
  struct stat st {};
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_NE(got.find("\"recommendations\""), std::string::npos);
  // Through a symlink the file it points to gets the report and the link stays a link.
  std::ofstream(dir_ + "/real.md") << "old";
  ASSERT_EQ(::symlink((dir_ + "/real.md").c_str(), (dir_ + "/link.md").c_str()), 0);
  EXPECT_EQ(analyze("--output " + dir_ + "/link.md " + log()), 0);
  struct stat lst {};
  ASSERT_EQ(::lstat((dir_ + "/link.md").c_str(), &lst), 0);
  EXPECT_TRUE(S_ISLNK(lst.st_mode));
  EXPECT_NE(slurp(dir_ + "/real.md").find("# "), std::string::npos);
}

}  // namespace
