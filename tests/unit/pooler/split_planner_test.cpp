// SplitPlanner and BatchRetry, socket-free: read-your-writes stamps across a commit (and a config
// that turns it off), the router's view of the client's defaults, and which batches may run again
// when their server breaks before answering.
#include "pooler/split_planner.hpp"

#include <gtest/gtest.h>

namespace pgopt::pooler {
namespace {

using namespace std::chrono_literals;
using routing::ReplicaSet;
using Ryw = SplitMemory::Ryw;

const routing::SteadyClock::time_point T0 = routing::SteadyClock::time_point{} + 1000s;

std::shared_ptr<ReplicaSet> one_replica() {
  routing::ReplicaSetOptions o;
  o.balance = routing::Balance::RoundRobin;
  return std::make_shared<ReplicaSet>(std::vector<routing::ReplicaEndpoint>{{"r", 5432, 1}}, o);
}

struct Fixture {
  std::shared_ptr<Config> cfg = std::make_shared<Config>();
  DatabaseConfig db;
  std::shared_ptr<ReplicaSet> set = one_replica();
  SplitMemory memory;
  SplitPlanner split{memory};
  Fixture() { EXPECT_TRUE(split.refresh(cfg, &db, set)); }
};

TEST(SplitPlanner, AWriteCommittedOnThePrimaryHoldsReadsUntilAReplicaReplayedIt) {
  Fixture f;
  f.set->primary_position(f.set->begin_round(), 100, T0);
  f.set->replica_position(0, true, 100, T0);
  EXPECT_EQ(f.split.choose_replica(T0).index, 0) << "nothing written yet: the replica may serve";

  f.memory.wrote = true;
  f.split.transaction_ended(/*on_primary=*/false);
  EXPECT_EQ(f.memory.ryw, Ryw::On) << "a transaction that ended on a replica stamps nothing";
  EXPECT_TRUE(f.memory.wrote);
  f.split.transaction_ended(/*on_primary=*/true);
  EXPECT_EQ(f.memory.ryw, Ryw::AwaitingStamp);
  EXPECT_FALSE(f.memory.wrote);

  auto c = f.split.choose_replica(T0);
  EXPECT_FALSE(c.index) << "until a later poll round stamps the commit, reads go to the primary";
  EXPECT_TRUE(c.ryw_blocked) << "the replica is fit, only not known to have the write";

  const uint64_t r2 = f.set->begin_round();
  f.set->primary_position(r2, 200, T0 + 10ms);
  c = f.split.choose_replica(T0 + 10ms);
  EXPECT_EQ(f.memory.ryw, Ryw::On) << "stamped";
  EXPECT_EQ(f.memory.ryw_lsn, 200u);
  EXPECT_FALSE(c.index) << "the replica replayed only to 100";
  EXPECT_TRUE(c.ryw_blocked);

  f.set->replica_position(0, true, 200, T0 + 20ms);
  EXPECT_EQ(f.split.choose_replica(T0 + 20ms).index, 0);
}

TEST(SplitPlanner, AConfigWithoutReadYourWritesDropsAPendingStamp) {
  Fixture f;
  f.set->primary_position(f.set->begin_round(), 100, T0);
  f.set->replica_position(0, true, 100, T0);
  f.memory.wrote = true;
  f.split.transaction_ended(true);
  ASSERT_FALSE(f.split.choose_replica(T0).index);

  auto cfg2 = std::make_shared<Config>();
  DatabaseConfig db2;
  db2.read_your_writes = false;
  EXPECT_FALSE(f.split.refresh(f.cfg, &f.db, f.set)) << "the same config changes nothing";
  EXPECT_TRUE(f.split.refresh(cfg2, &db2, f.set));
  EXPECT_EQ(f.memory.ryw, Ryw::Off);
  EXPECT_EQ(f.split.choose_replica(T0).index, 0);
  f.memory.wrote = true;
  f.split.transaction_ended(true);
  EXPECT_EQ(f.memory.ryw, Ryw::Off) << "no stamps while it is off";

  EXPECT_TRUE(f.split.refresh(f.cfg, &f.db, nullptr));
  EXPECT_FALSE(f.split.active()) << "a database that stopped splitting";
}

TEST(SplitPlanner, TheRouterSeesTheClientsDefaultsRouteAndHeldBegin) {
  Fixture f;
  GucState want;
  auto cs = f.split.routing_state(want, false);
  EXPECT_FALSE(cs.default_read_only);
  EXPECT_FALSE(cs.in_transaction);
  want.set_reported("default_transaction_read_only", "on");
  want.set_replayed("default_transaction_isolation", "SET default_transaction_isolation = 'SERIALIZABLE'");
  f.memory.route = routing::Route::Primary;
  f.memory.begin_pending = true;
  cs = f.split.routing_state(want, true);
  EXPECT_TRUE(cs.default_read_only) << "looked up again: the settings changed";
  EXPECT_TRUE(cs.default_serializable);
  EXPECT_TRUE(cs.in_transaction);
  EXPECT_EQ(cs.route, routing::Route::Primary);
  EXPECT_TRUE(cs.begin_pending);
  want.set_reported("default_transaction_read_only", "off");
  EXPECT_FALSE(f.split.routing_state(want, false).default_read_only);
}

BatchRetry::Facts fresh_read() {
  BatchRetry::Facts f;
  f.bytes = 20;
  f.fresh = true;
  f.on_replica = true;
  f.want_replica = true;
  f.idle = true;
  return f;
}

TEST(BatchRetry, OnlyBatchesThatChangeNothingAreKept) {
  EXPECT_TRUE(BatchRetry::eligible(fresh_read()));
  BatchRetry::Facts f = fresh_read();
  f.bytes = BatchRetry::kMaxBytes + 1;
  EXPECT_FALSE(BatchRetry::eligible(f)) << "too large to keep";
  f = fresh_read();
  f.on_replica = false;
  EXPECT_FALSE(BatchRetry::eligible(f)) << "a statement on the primary may write";
  f.bare_begins = true;
  EXPECT_TRUE(BatchRetry::eligible(f)) << "a bare BEGIN outside a transaction does nothing";
  f.idle = false;
  EXPECT_FALSE(BatchRetry::eligible(f)) << "BEGIN inside a transaction (or behind a held BEGIN)";
  f = fresh_read();
  f.fresh = false;
  EXPECT_TRUE(BatchRetry::eligible(f)) << "a new read on a replica still attached";
  f.busy = true;
  EXPECT_FALSE(BatchRetry::eligible(f)) << "behind a read still running there";
}

TEST(BatchRetry, ARetryRunsTheSameBytesAtMostMaxRetriesTimes) {
  BatchRetry r;
  const std::string batch("Q\0\0\0\x0dSELECT 1\0", 14);
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(batch.data()), batch.size());
  r.arm(bytes, fresh_read());
  ASSERT_TRUE(r.armed());
  for (int i = 1; i < BatchRetry::kMaxRetries; ++i) {
    EXPECT_EQ(r.take_for_retry(), batch);
    EXPECT_FALSE(r.armed()) << "disarmed while it moves";
    r.rearm();
    EXPECT_TRUE(r.armed()) << "armed again on its new server, retry " << i;
  }
  EXPECT_EQ(r.take_for_retry(), batch);
  r.rearm();
  EXPECT_FALSE(r.armed()) << "no retries left";

  r.arm(bytes, fresh_read());
  ASSERT_TRUE(r.armed()) << "a new batch starts counting again";
  r.result_forwarded();
  EXPECT_FALSE(r.armed()) << "the client saw a reply: running it again would show it twice";
  r.arm(bytes, fresh_read());
  BatchRetry::Facts big = fresh_read();
  big.bytes = BatchRetry::kMaxBytes + 1;
  r.arm(bytes, big);
  EXPECT_FALSE(r.armed()) << "a later batch that cannot be kept disarms the earlier one";
}

}  // namespace
}  // namespace pgopt::pooler
