// A session's own SET search_path (issue 17, section 1): its later DML groups apart with the
// setting, other sessions and its own statements after RESET / disconnection do not; SET and
// set_config() statements themselves are never split.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "analyzer/input.hpp"

using namespace pgopt::analyzer;

namespace {

std::string line(int pid, const std::string& sql) {
  return "2024-05-01 10:00:00.000 UTC [" + std::to_string(pid) + "] app@shop LOG:  duration: 1.000 ms  statement: " + sql +
         "\n";
}

// normalized text + search_path -> calls
std::map<std::string, uint64_t> groups(const std::string& log) {
  InputOptions in;
  InputResult r = read_log_buffer(log, in, "sessions.log");
  EXPECT_TRUE(r.errors.empty());
  std::map<std::string, uint64_t> out;
  for (const auto& [fp, g] : r.workload.groups) out[g.normalized + " | " + g.search_path] += g.calls;
  return out;
}

}  // namespace

TEST(SessionSearchPath, LaterStatementsOfThatSessionOnlyGroupWithIt) {
  std::string log = line(100, "SET search_path TO s2, \"Foo\"") + line(100, "SELECT val FROM items WHERE id = 1") +
                    line(101, "SELECT val FROM items WHERE id = 2") +
                    line(100, "SELECT pg_catalog.set_config('application_name', 'x', false)") +
                    line(100, "RESET search_path") + line(100, "SELECT val FROM items WHERE id = 3") +
                    line(102, "SELECT set_config('search_path', 'a, \"B\"', false)") +
                    line(102, "SELECT val FROM items WHERE id = 4") +
                    "2024-05-01 10:00:01.000 UTC [102] app@shop LOG:  disconnection: session time: 0:00:01.000 user=app "
                    "database=shop host=[local]\n" +
                    line(102, "SELECT val FROM items WHERE id = 5");
  auto g = groups(log);
  EXPECT_EQ(g["SELECT val FROM items WHERE id = $1 | \"s2\", \"Foo\""], 1u);
  EXPECT_EQ(g["SELECT val FROM items WHERE id = $1 | a, \"B\""], 1u);
  EXPECT_EQ(g["SELECT val FROM items WHERE id = $1 | "], 3u);  // other session, after RESET, after disconnection
  EXPECT_EQ(g["SELECT pg_catalog.set_config($1, $2, $3) | "], 1u);  // not split by the session's path
}
