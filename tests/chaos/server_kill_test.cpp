// Servers dying under load: kill -9 of the primary's postmaster under writers (every acknowledged
// row is there after the restart, none twice), and the replica stopped under reads with splitting
// on (no read fails).
#include "chaos_harness.hpp"

namespace pgopt::test::chaos {
namespace {

// Restores the shared cluster whatever the test did to it.
class ServerKill : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(heal_cluster()) << "could not put the cluster back"; }
};

// One writer's rows: what the pooler acknowledged, and what is in doubt (the connection broke
// before the answer, so the row may or may not have committed; never retried under the same key).
struct WriterLog {
  std::vector<int> acked, in_doubt;
};

// The test cluster runs with synchronous_commit = off (a commit is acknowledged before its WAL is
// written), which loses acknowledged commits at a crash by design. The writers' role turns it on,
// so what this test checks is the pooler: nothing acknowledged lost, nothing run twice.
void prepare_writer_table() {
  Conn d = direct();
  ok(d.get(),
     "DO $$ BEGIN CREATE ROLE chaos_writer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
  ok(d.get(), "ALTER ROLE chaos_writer SET synchronous_commit = on");
  ok(d.get(), "DROP TABLE IF EXISTS chaos_writes");
  ok(d.get(), "CREATE TABLE chaos_writes (writer int NOT NULL, seq int NOT NULL)");  // no key: duplicates must show
  ok(d.get(), "GRANT ALL ON chaos_writes TO chaos_writer");
}

TEST_F(ServerKill, PrimaryPostmasterKilledUnderWritersLosesAndDuplicatesNothing) {
  prepare_writer_table();
  PoolerOptions o;
  o.pool_size = 4;
  o.pooler_extra = "server_connect_timeout = \"2s\"\nquery_wait_timeout = \"10s\"\n";
  Pooler p(o);
  constexpr int kWriters = 4;
  std::vector<WriterLog> logs(kWriters);
  std::atomic<int> errors{0};
  std::atomic<bool> killed{false};
  std::atomic<int> acked_after_restart{0}, acked_total{0};
  {
    Load writers(kWriters, [&](int w, const std::atomic<bool>& stop) {
      Conn c;
      for (int seq = 0; !stop; ++seq) {
        if (!c || PQstatus(c.get()) != CONNECTION_OK) {
          c = connect(p.conninfo("chaos_writer", "pgopt_test", "connect_timeout=5"));
          if (PQstatus(c.get()) != CONNECTION_OK) {
            ++errors;
            // time must pass: the primary is down; a writer's retry pace, so it does not spin
            std::this_thread::sleep_for(20ms);
            continue;
          }
        }
        Result r = exec(c.get(), "INSERT INTO chaos_writes VALUES (" + std::to_string(w) + ", " +
                                     std::to_string(seq) + ")");
        if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
          logs[w].acked.push_back(seq);
          ++acked_total;
          if (killed) ++acked_after_restart;
        } else {
          logs[w].in_doubt.push_back(seq);
          ++errors;
        }
      }
    });
    // Under way: then the postmaster dies; its backends notice and exit, connections break.
    ASSERT_TRUE(eventually([&] { return acked_total >= 200; }));
    const pid_t pm = postmaster_pid("primary");
    ASSERT_GT(pm, 0);
    ASSERT_EQ(::kill(pm, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] { return !port_open(env().primary_port); }, 10s));
    ASSERT_TRUE(start_again("primary")) << "the primary did not start again";
    killed = true;
    const auto restarted = std::chrono::steady_clock::now();
    // The writers come back through the pooler on their own.
    EXPECT_TRUE(eventually([&] { return acked_after_restart >= 1; }, 30s)) << p.log();
    std::printf("primary kill: first write acknowledged %lld ms after the restart\n",
                (long long)std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                  restarted).count());
    EXPECT_TRUE(eventually([&] { return acked_after_restart >= 200; }, 60s)) << p.log();
  }
  EXPECT_GT(errors.load(), 0) << "the kill broke nothing: the test did not test anything";

  Conn d = direct();
  Result dup = exec(d.get(), "SELECT writer, seq, count(*) FROM chaos_writes GROUP BY 1, 2 HAVING count(*) > 1");
  EXPECT_EQ(PQntuples(dup.get()), 0) << "rows written twice, the first: writer " << PQgetvalue(dup.get(), 0, 0)
                                     << " seq " << PQgetvalue(dup.get(), 0, 1);
  size_t acked = 0, lost = 0, unexplained = 0;
  for (int w = 0; w < kWriters; ++w) {
    Result r = exec(d.get(), "SELECT seq FROM chaos_writes WHERE writer = " + std::to_string(w));
    std::set<int> present;
    for (int i = 0; i < PQntuples(r.get()); ++i) present.insert(std::atoi(PQgetvalue(r.get(), i, 0)));
    std::set<int> doubt(logs[w].in_doubt.begin(), logs[w].in_doubt.end());
    for (int s : logs[w].acked) lost += present.count(s) ? 0 : 1;
    for (int s : present) {
      const bool was_acked = std::binary_search(logs[w].acked.begin(), logs[w].acked.end(), s);
      unexplained += was_acked || doubt.count(s) ? 0 : 1;
    }
    acked += logs[w].acked.size();
  }
  std::printf("primary kill: %zu rows acknowledged, %d failed statements or connects, %zu lost, %zu unexplained\n",
              acked, errors.load(), lost, unexplained);
  EXPECT_EQ(lost, 0u) << "of " << acked << " acknowledged rows";
  EXPECT_EQ(unexplained, 0u) << "rows present that no writer sent";
  EXPECT_TRUE(p.running());
  ok(d.get(), "DROP TABLE chaos_writes");
}

TEST_F(ServerKill, ReplicaStoppedUnderReadLoadFailsNoRead) {
  split::SplitConfig cfg;
  cfg.ban_time = "1s";
  cfg.pool_size = 6;
  cfg.read_your_writes = false;
  Pooler p(split::options(cfg));
  {
    Conn c = connect_ok(p.conninfo());
    ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();
  }
  Tally reads;
  std::atomic<int> on_replica{0};
  {
    Load readers(4, [&](int i, const std::atomic<bool>& stop) {
      Conn c = connect(p.conninfo());
      if (PQstatus(c.get()) != CONNECTION_OK) return reads.failure(PQerrorMessage(c.get()));
      for (int n = 0; !stop; ++n) {
        // Simple and extended protocol both.
        Result r(n % 2 ? PQexecParams(c.get(), "SELECT inet_server_port(), $1::int", 1, nullptr,
                                      std::array<const char*, 1>{"7"}.data(), nullptr, nullptr, 0)
                       : PQexec(c.get(), "SELECT inet_server_port(), count(*) FROM pg_class"));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
          reads.failure("reader " + std::to_string(i) + ": " + PQerrorMessage(c.get()));
          c = connect(p.conninfo());
          continue;
        }
        ++reads.ok;
        if (std::atoi(PQgetvalue(r.get(), 0, 0)) == split::replica_port()) ++on_replica;
      }
    });
    ASSERT_TRUE(eventually([&] { return on_replica >= 100; })) << reads.report();
    // A standby stopped with -m immediate replays WAL from its last restartpoint when it starts:
    // after the whole integration suite that was over a minute on a loaded machine (pg_ctl start
    // -t 60 timed out in two full runs). A checkpoint on the primary, replayed, and a restartpoint
    // on the replica (CHECKPOINT there) keep its recovery short.
    {
      Conn primary = direct("pgopt_test");
      ok(primary.get(), "CHECKPOINT");
      ASSERT_TRUE(split::replica_caught_up());
      Conn replica = split::replica_direct();
      ok(replica.get(), "CHECKPOINT");
    }
    ASSERT_EQ(pgctl("replica", "stop -m immediate -w"), 0);
    const uint64_t at_stop = reads.ok;
    // Reads go on (on the primary) while the replica is down ...
    EXPECT_TRUE(eventually([&] { return reads.ok >= at_stop + 300; }, 20s)) << reads.report();
    ASSERT_EQ(pgctl("replica", "start -w -t 60"), 0);
    // ... and come back to it once its ban is over.
    const int before = on_replica;
    EXPECT_TRUE(eventually([&] { return on_replica >= before + 100; }, 30s)) << reads.report() << p.log();
  }
  EXPECT_EQ(reads.failed, 0u) << reads.report();
  EXPECT_TRUE(p.running());
}

}  // namespace
}  // namespace pgopt::test::chaos
