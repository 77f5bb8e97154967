// Read/write splitting and a replica that falls behind (issue 5): max_replica_lag in time and in
// bytes with replay paused, and read-your-writes with replay delayed, on the shared cluster.
#include "split_harness.hpp"

namespace pgopt::test {
namespace {

using namespace std::chrono_literals;
using split::primary_port;
using split::read_port;
using split::replica_port;

class SplitLag : public split::ReplicaFixture {
 protected:
  static void SetUpTestSuite() {
    Conn d = direct();
    ok(d.get(),
       "CREATE TABLE IF NOT EXISTS split_lag (id bigserial PRIMARY KEY, v text);"
       "CREATE TABLE IF NOT EXISTS split_ryw (id bigserial PRIMARY KEY, v text);"
       "CREATE INDEX IF NOT EXISTS split_ryw_v ON split_ryw (v)");
  }
  void TearDown() override {
    // The rows a test wrote, once the replica replays again (restored by the base).
    split::ReplicaFixture::TearDown();
    Conn d = direct();
    ok(d.get(), "TRUNCATE split_lag, split_ryw");
  }

  // Stops replay on the replica (its WAL receiver goes on receiving); TearDown resumes it.
  static bool pause_replay() {
    Conn r = split::replica_direct();
    ok(r.get(), "SELECT pg_wal_replay_pause()");
    return eventually([&] { return value(r.get(), "SELECT pg_get_wal_replay_pause_state()") == "paused"; });
  }
  static void resume_replay() {
    Conn r = split::replica_direct();
    ok(r.get(), "SELECT pg_wal_replay_resume()");
  }
};

TEST_F(SplitLag, ReplicaBehindInTimeGetsNoReadsUntilItCatchesUp) {
  split::SplitConfig cfg;
  cfg.max_lag = "300ms";
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();
  ASSERT_TRUE(pause_replay());
  Conn d = direct();
  // The paused replica falls behind from the first write it has not replayed.
  auto write = [&] { ok(d.get(), "INSERT INTO split_lag (v) VALUES ('time')"); };
  EXPECT_TRUE(eventually([&] {
    write();
    return read_port(c.get()) == primary_port();
  }, 10s)) << "reads stayed on a replica paused for 10 s";
  for (int i = 0; i < 10; ++i) {
    write();
    // time must pass: a negative; reads spread over 0.5 s of the pause never reach the replica
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(read_port(c.get()), primary_port()) << "a read ran on the replica while it was paused";
  }
  // A lagging replica is skipped, not banned: writes and the primary's reads go on as usual, and
  // once it replays again reads return to it.
  resume_replay();
  EXPECT_TRUE(split::reads_reach_replica(c.get(), 10s)) << p.log();
}

TEST_F(SplitLag, ReplicaBehindInBytesGetsNoReadsUntilItCatchesUp) {
  split::SplitConfig cfg;
  cfg.max_lag = "1MB";
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();
  ASSERT_TRUE(pause_replay());
  Conn d = direct();
  // A small write leaves the replica behind by a few hundred bytes: still within the limit however
  // long it lasts (the limit is in bytes, not time).
  ok(d.get(), "INSERT INTO split_lag (v) VALUES ('small')");
  // time must pass: a negative; the lag probes of a second see the small lag and keep the replica
  std::this_thread::sleep_for(1s);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(read_port(c.get()), replica_port());
  // About 4 MB of WAL: far past the limit.
  ok(d.get(), "INSERT INTO split_lag (v) SELECT repeat('x', 1000) FROM generate_series(1, 4000)");
  EXPECT_TRUE(eventually([&] { return read_port(c.get()) == primary_port(); }, 10s))
      << "reads stayed on a replica 4 MB behind";
  resume_replay();
  EXPECT_TRUE(split::reads_reach_replica(c.get(), 10s)) << p.log();
}

// Runs `iterations` times: INSERT a unique value through the pooler, then at once read it back on
// the same connection. Every 100 iterations it waits for a read that runs on the replica (the
// write has replayed there by then) and checks that read too. Returns how many immediate reads
// missed their row; `replica_reads` counts reads that ran on the replica. Stops at the first miss
// when `stop_at_miss`.
struct RywRun {
  int iterations = 0, misses = 0, replica_reads = 0, primary_reads = 0, late_misses = 0;
};
RywRun read_your_writes_loop(PGconn* c, int iterations, bool stop_at_miss) {
  RywRun run;
  const std::string prefix = "ryw-" + std::to_string(::getpid()) + "-" +
                             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-";
  const auto deadline = std::chrono::steady_clock::now() + 60s;  // bounded even when something hangs
  for (int i = 0; i < iterations && std::chrono::steady_clock::now() < deadline; ++i) {
    const std::string v = prefix + std::to_string(i);
    ok(c, "INSERT INTO split_ryw (v) VALUES ('" + v + "')");
    const std::string check = "SELECT count(*), inet_server_port() FROM split_ryw WHERE v = '" + v + "'";
    auto r = split::row(c, check);
    ++run.iterations;
    if (r.size() != 2) break;
    (std::atoi(r[1].c_str()) == replica_port() ? run.replica_reads : run.primary_reads)++;
    if (r[0] != "1") {
      ++run.misses;
      if (stop_at_miss) break;
    }
    if (i % 100 == 99) {
      eventually([&] {
        auto again = split::row(c, check);
        if (again.size() != 2) return true;
        if (again[0] != "1") ++run.late_misses;
        bool on_replica = std::atoi(again[1].c_str()) == replica_port();
        (on_replica ? run.replica_reads : run.primary_reads)++;
        return on_replica;
      }, 5s);
    }
  }
  return run;
}

// Replay delayed by 300 ms on the replica (within max_replica_lag): a read right after a write would
// miss the row on the replica; read-your-writes sends it to the primary until the replica has it.
class SplitReadYourWrites : public SplitLag {
 protected:
  void SetUp() override {
    SplitLag::SetUp();
    if (HasFatalFailure()) return;
    Conn r = split::replica_direct("postgres");
    ok(r.get(), "ALTER SYSTEM SET recovery_min_apply_delay = '300ms'");
    ok(r.get(), "SELECT pg_reload_conf()");
    ASSERT_TRUE(eventually([] {
      Conn fresh = split::replica_direct("postgres");
      return value(fresh.get(), "SHOW recovery_min_apply_delay") == "300ms";
    }));
  }
};

TEST_F(SplitReadYourWrites, AReadRightAfterAWriteSeesIt) {
  split::SplitConfig cfg;
  cfg.max_lag = "10s";
  cfg.read_your_writes = true;
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();
  RywRun run = read_your_writes_loop(c.get(), 1000, false);
  EXPECT_EQ(run.iterations, 1000) << "the loop ran out of time";
  EXPECT_EQ(run.misses, 0) << "immediate reads that missed their own write, of " << run.iterations;
  EXPECT_EQ(run.late_misses, 0);
  EXPECT_GE(run.replica_reads, 5) << "reads on the replica: " << run.replica_reads
                                  << ", on the primary: " << run.primary_reads;
}

TEST_F(SplitReadYourWrites, OnlyTheWritingClientLeavesTheReplica) {
  split::SplitConfig cfg;
  cfg.max_lag = "10s";
  Pooler p(split::options(cfg));
  Conn writer = connect_ok(p.conninfo());
  Conn reader = connect_ok(p.conninfo());
  ASSERT_TRUE(split::reads_reach_replica(writer.get())) << p.log();
  ASSERT_TRUE(split::reads_reach_replica(reader.get())) << p.log();
  for (int i = 0; i < 5; ++i) {
    ok(writer.get(), "INSERT INTO split_ryw (v) VALUES ('other-client')");
    EXPECT_EQ(read_port(reader.get()), replica_port()) << "a client that wrote nothing left the replica";
    EXPECT_EQ(read_port(writer.get()), primary_port()) << "the writer read from a replica 300 ms behind";
  }
}

TEST_F(SplitReadYourWrites, WithoutItAnImmediateReadMisses) {
  // The control: proves the replica really lags behind the writes, so the test above could fail.
  split::SplitConfig cfg;
  cfg.max_lag = "10s";
  cfg.read_your_writes = false;
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();
  RywRun run = read_your_writes_loop(c.get(), 1000, true);
  EXPECT_GE(run.misses, 1) << run.iterations << " immediate reads all found their row; replica reads: "
                           << run.replica_reads;
  EXPECT_GE(run.replica_reads, 1);
}

}  // namespace
}  // namespace pgopt::test
