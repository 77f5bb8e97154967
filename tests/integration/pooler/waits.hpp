// Conditions a test waits on instead of sleeping (tests/README.md, "Waits"): a statement running on
// the primary, seen in pg_stat_activity over a direct connection. Each wait is bounded by a deadline.
#pragma once

#include "harness.hpp"

#include <chrono>
#include <string>

namespace pgopt::test {

// How many sessions run exactly `sql` now (state active) on the server at `port` (0: the shared
// cluster's primary), counted over a direct connection so the pooler under test is not in the way.
inline int running(const std::string& sql, int port = 0) {
  Conn d = port ? connect_ok("host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres user=postgres")
                : direct("postgres");
  const char* params[] = {sql.c_str()};
  Result r(PQexecParams(d.get(),
                        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = $1 "
                        "AND pid <> pg_backend_pid()",
                        1, nullptr, params, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return -1;
  return std::atoi(PQgetvalue(r.get(), 0, 0));
}

// Waits until `n` sessions run `sql` on the server at `port` (0: the primary): "the query is
// running" (a cancel or a kill then has something to hit). False when they do not within `patience`.
inline bool wait_running(const std::string& sql, int n = 1, int port = 0,
                         std::chrono::milliseconds patience = std::chrono::seconds(10)) {
  return eventually([&] { return running(sql, port) >= n; }, patience);
}

}  // namespace pgopt::test
