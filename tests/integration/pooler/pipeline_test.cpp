// Pipelined clients in transaction mode: a server is released only when every Sync has its
// ReadyForQuery, so replies never go to the wrong client and nothing is lost in between.
#include "harness.hpp"

#include <poll.h>

namespace pgopt::test {
namespace {

// PQgetResult with a deadline: a reply the pooler never sends fails the test (null, `timed_out`)
// instead of blocking it until ctest's timeout.
PGresult* next_result(PGconn* c, std::chrono::steady_clock::time_point deadline, bool& timed_out) {
  while (PQisBusy(c)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      return nullptr;
    }
    pollfd p{PQsocket(c), POLLIN, 0};
    ::poll(&p, 1, int(left.count()));
    if (!PQconsumeInput(c)) break;  // the connection broke: PQgetResult reports it
  }
  return PQgetResult(c);
}

// Sends `n` parameterised queries, a Sync after every `per_sync` of them, then reads every reply.
std::vector<std::string> pipeline(PGconn* c, int n, int per_sync, const std::string& tag) {
  EXPECT_EQ(PQenterPipelineMode(c), 1);
  int syncs = 0;
  for (int i = 0; i < n; ++i) {
    std::string v = tag + std::to_string(i);
    const char* params[] = {v.c_str()};
    EXPECT_EQ(PQsendQueryParams(c, "SELECT $1::text, pg_sleep(0.01)", 1, nullptr, params, nullptr, nullptr, 0), 1);
    if ((i + 1) % per_sync == 0 || i + 1 == n) {
      EXPECT_EQ(PQpipelineSync(c), 1);
      ++syncs;
    }
  }
  std::vector<std::string> got;
  int seen_syncs = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool timed_out = false;
  while (seen_syncs < syncs) {
    PGresult* r = next_result(c, deadline, timed_out);
    if (timed_out) {
      ADD_FAILURE() << tag << ": no reply within 30 s after " << got.size() << " results, " << seen_syncs << " syncs";
      break;
    }
    if (!r) continue;  // end of one query's results
    auto st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      ++seen_syncs;
    } else if (st == PGRES_TUPLES_OK) {
      got.push_back(PQgetvalue(r, 0, 0));
    } else {
      ADD_FAILURE() << PQresStatus(st) << " " << PQerrorMessage(c);
      PQclear(r);
      break;
    }
    PQclear(r);
  }
  EXPECT_EQ(PQexitPipelineMode(c), 1);
  return got;
}

TEST(Pipeline, ManySyncsInFlightStayOnOneServerAndInOrder) {
  PoolerOptions o;
  o.pool_size = 1;  // two pipelining clients must take turns on one server without mixing replies
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  Conn b = connect_ok(p.conninfo());
  std::vector<std::string> got_a, got_b;
  std::thread ta([&] { got_a = pipeline(a.get(), 30, 3, "a"); });
  std::thread tb([&] { got_b = pipeline(b.get(), 30, 1, "b"); });
  ta.join();
  tb.join();
  ASSERT_EQ(got_a.size(), 30u);
  ASSERT_EQ(got_b.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(got_a[size_t(i)], "a" + std::to_string(i));
    EXPECT_EQ(got_b[size_t(i)], "b" + std::to_string(i));
  }
  // Both sessions are still in sync with the pooler afterwards.
  EXPECT_EQ(value(a.get(), "SELECT 'a ok'"), "a ok");
  EXPECT_EQ(value(b.get(), "SELECT 'b ok'"), "b ok");
}

TEST(Pipeline, ErrorInAPipelineSkipsToTheSyncAndReleasesCleanly) {
  PoolerOptions o;
  o.pool_size = 1;
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  ASSERT_EQ(PQenterPipelineMode(a.get()), 1);
  ASSERT_EQ(PQsendQueryParams(a.get(), "SELECT 1/0", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQsendQueryParams(a.get(), "SELECT 'skipped'", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(a.get()), 1);
  ASSERT_EQ(PQsendQueryParams(a.get(), "SELECT 'after sync'", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(a.get()), 1);
  std::vector<ExecStatusType> statuses;
  int syncs = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool timed_out = false;
  while (syncs < 2) {
    PGresult* r = next_result(a.get(), deadline, timed_out);
    ASSERT_FALSE(timed_out) << "no reply within 30 s; results so far: " << statuses.size();
    if (!r) continue;
    statuses.push_back(PQresultStatus(r));
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) ++syncs;
    PQclear(r);
  }
  ASSERT_EQ(PQexitPipelineMode(a.get()), 1);
  std::vector<ExecStatusType> want = {PGRES_FATAL_ERROR, PGRES_PIPELINE_ABORTED, PGRES_PIPELINE_SYNC,
                                      PGRES_TUPLES_OK, PGRES_PIPELINE_SYNC};
  EXPECT_EQ(statuses, want);
  // Another client gets the same single server, idle and not in a failed transaction.
  Conn b = connect_ok(p.conninfo());
  EXPECT_EQ(value(b.get(), "SELECT 'b fine'"), "b fine");
}

}  // namespace
}  // namespace pgopt::test
