// `pgopt analyze --verify DSN` (issue 17, 2): each recommendation built for real on a staging
// database, the statements of the groups it serves timed with EXPLAIN (ANALYZE, BUFFERS) before and
// after, and every index built dropped again, also after SIGINT/SIGTERM.
#pragma once

#include <functional>
#include <string>

#include "analyzer/advisor/advisor.hpp"
#include "analyzer/advisor/catalog.hpp"
#include "analyzer/workload.hpp"

typedef struct pg_conn PGconn;

namespace pgopt::analyzer::advisor {

// Every index --verify builds starts with this, so a run killed with SIGKILL leaves indexes the next
// run finds and drops.
inline constexpr const char* kVerifyPrefix = "pgopt_verify_";

struct VerifyOptions {
  std::string dsn;
  bool same_db_ok = false;       // --verify-same-db: the user means to build on the --db database
  int timeout_ms = 30000;        // statement_timeout of each timed statement
  int runs = 3;                  // timed runs per statement after one warm-up; the best counts
  size_t samples_per_group = 3;
  VerifyRules rules;
  std::function<void(const std::string& stage, size_t done, size_t total)> progress;
};

struct VerifyOutcome {
  std::string error;       // could not verify at all (connection, same database); adv unchanged
  bool usage_error = false;  // the error is the user's choice of DSN (exit 2)
  int signal = 0;          // SIGINT/SIGTERM arrived: everything built was dropped, stop now
  size_t leftovers = 0;    // indexes of an earlier, killed run that were dropped first
};

// `source`: the --db connection (null with --schema), to refuse building on the same database.
VerifyOutcome verify(Advice& adv, const Workload& workload, const Catalog& catalog, PGconn* source,
                     const VerifyOptions& options);

}  // namespace pgopt::analyzer::advisor
