// Conditions a test waits on instead of sleeping (tests/README.md, "Waits"): a statement running on
// the primary, seen in pg_stat_activity over a direct connection. Each wait is bounded by a deadline.
#pragma once

#include "harness.hpp"

#include <chrono>
#include <string>

namespace pgopt::test {

// How many sessions on the primary run exactly `sql` now (state active), counted over a direct
// connection so the pooler under test is not in the way.
inline int running(const std::string& sql) {
  Conn d = direct("postgres");
  const char* params[] = {sql.c_str()};
  Result r(PQexecParams(d.get(),
                        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = $1 "
                        "AND pid <> pg_backend_pid()",
                        1, nullptr, params, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return -1;
  return std::atoi(PQgetvalue(r.get(), 0, 0));
}

// Waits until `n` sessions run `sql` on the primary: "the query is running" (a cancel or a kill
// then has something to hit). False when they do not within `patience`.
inline bool wait_running(const std::string& sql, int n = 1,
                         std::chrono::milliseconds patience = std::chrono::seconds(10)) {
  return eventually([&] { return running(sql) >= n; }, patience);
}

}  // namespace pgopt::test
