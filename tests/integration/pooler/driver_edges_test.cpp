// Issue 22: what real drivers do every day and a transaction pooler must keep exact. Each scenario
// of drivers/psycopg_edges.py runs through pgopt in transaction mode on a pool of two servers.
#include "harness.hpp"
#include "programs.hpp"

#include <gmock/gmock.h>

namespace pgopt::test {
namespace {

constexpr auto kKillAfter = std::chrono::seconds(90);

class PsycopgEdges : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    table_ = "edge_" + GetParam();
    work_ = std::filesystem::temp_directory_path() / ("pgopt-edges-" + std::to_string(::getpid()) + "-" + GetParam());
    std::filesystem::create_directories(work_);
    Conn d = direct("pgopt_test", "trust_user");
    ok(d.get(), "SET client_min_messages = warning");
    ok(d.get(), "DROP TABLE IF EXISTS " + table_);
    ok(d.get(), "CREATE TABLE " + table_ + " (id int PRIMARY KEY)");
    PoolerOptions o;
    o.pool_size = 2;
    // A client that cannot get a server fails within seconds instead of hanging the scenario.
    o.pooler_extra = "query_wait_timeout = 10";
    pooler_ = std::make_unique<Pooler>(o);
    ASSERT_TRUE(pooler_->running()) << pooler_->log();
  }
  void TearDown() override {
    if (pooler_) {
      EXPECT_TRUE(pooler_->running()) << "pgopt died; log: " << pooler_->log_path;
    }
    pooler_.reset();
    Conn d = direct("pgopt_test", "trust_user");
    ok(d.get(), "DROP TABLE IF EXISTS " + table_);
    if (!HasFailure()) std::filesystem::remove_all(work_);
  }
  std::filesystem::path work_;
  std::string table_;
  std::unique_ptr<Pooler> pooler_;
};

TEST_P(PsycopgEdges, PassesThroughTransactionPooling) {
  ProgramRun r = run_program({python(), (drivers_dir() / "psycopg_edges.py").string(), GetParam(), "127.0.0.1",
                              std::to_string(pooler_->port), "trust_user", "pgopt_test", table_},
                             {}, work_ / "driver.log", kKillAfter);
  ASSERT_FALSE(r.timed_out) << tail(r.output);
  EXPECT_EQ(r.status, 0) << tail(r.output) << "\npgopt log: " << pooler_->log_path;
  EXPECT_THAT(r.output, ::testing::HasSubstr("OK " + GetParam()));
  // Nothing the pooler itself found wrong with what a server sent.
  EXPECT_THAT(pooler_->log(), ::testing::Not(::testing::HasSubstr("nothing was waiting for")));
}

INSTANTIATE_TEST_SUITE_P(Issue22, PsycopgEdges,
                         ::testing::Values("executemany_duplicate", "pipeline_error", "prepared_lru", "reserved_names",
                                           "deallocate_extended", "named_commands", "hold_cursor", "prepared_visibility",
                                           "stale_after_ddl", "stale_in_transaction", "stale_after_abandoned_transaction",
                                           "view_at_execute"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace pgopt::test
