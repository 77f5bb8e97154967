// The `pgopt analyze` executable's terminal behaviour: a progress bar on stderr when stderr is a
// terminal (run under script(1), which gives the command a pseudo-terminal), none when it is a file
// or a pipe; the report itself is the same either way. Needs no database (--schema).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "analyzer_test_util.hpp"

namespace {

using pgopt::test::analyzer_util::slurp;

class CliProgress : public ::testing::Test {
 protected:
  std::string dir_ = std::string(::testing::TempDir()) + "pgopt_cli_progress_" + std::to_string(::getpid());

  void SetUp() override {
    ASSERT_EQ(std::system(("mkdir -p " + dir_).c_str()), 0);
    std::ofstream(dir_ + "/schema.sql") << "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric);\n";
    std::ofstream log(dir_ + "/app.log");
    for (int i = 0; i < 200; ++i)
      log << "2024-05-01 10:00:00.000 UTC [" << 100 + i % 7 << "] app@shop LOG:  duration: 1.500 ms  statement: "
          << "SELECT id, total FROM orders WHERE customer_id = " << i << "\n";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string analyze(const std::string& out) const {
    std::ostringstream cmd;
    cmd << PGOPT_BINARY << " analyze --schema " << dir_ << "/schema.sql --format sql -o " << out << " " << dir_ << "/app.log";
    return cmd.str();
  }
};

TEST_F(CliProgress, BarOnATerminalOnly) {
  // script -q -e -c CMD FILE: CMD's stdout and stderr go to a pseudo-terminal whose output script
  // copies to its own stdout (and to FILE).
  std::string tty_out = dir_ + "/tty.txt";
  std::ostringstream under_script;
  under_script << "script -q -e -c '" << analyze(dir_ + "/a.sql") << "' /dev/null > " << tty_out << " 2>&1";
  ASSERT_EQ(std::system(under_script.str().c_str()), 0) << slurp(tty_out);
  std::string tty = slurp(tty_out);
  EXPECT_NE(tty.find("costing statements ["), std::string::npos) << tty;  // each group without indexes
  EXPECT_NE(tty.find("choosing index 1 ["), std::string::npos) << tty;     // the search's first round
  EXPECT_NE(tty.find("] 100%"), std::string::npos) << tty;
  EXPECT_NE(tty.find("\r\033[K"), std::string::npos) << tty;  // the line is cleared at the end

  std::string err = dir_ + "/stderr.txt";
  std::ostringstream redirected;
  redirected << analyze(dir_ + "/b.sql") << " 2> " << err;
  ASSERT_EQ(std::system(redirected.str().c_str()), 0);
  EXPECT_EQ(slurp(err), "");
  std::string a = slurp(dir_ + "/a.sql"), b = slurp(dir_ + "/b.sql");
  EXPECT_NE(a.find("CREATE INDEX CONCURRENTLY orders_customer_id"), std::string::npos) << a;
  EXPECT_EQ(a, b);
}

}  // namespace
