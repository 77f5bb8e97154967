// The replica set on a driven clock: which replica a read may use (health, lag in time and bytes,
// read-your-writes stamps, promotion, staleness) and how reads spread (weights, balancing modes).
#include "pooler/routing/replica_set.hpp"

#include <gtest/gtest.h>

#include <map>

namespace pgopt::pooler::routing {
namespace {

using namespace std::chrono_literals;

const SteadyClock::time_point T0 = SteadyClock::time_point{} + 1000s;

std::vector<ReplicaEndpoint> two(int w1 = 1, int w2 = 1) {
  return {{"10.0.0.1", 5432, w1}, {"10.0.0.2", 5432, w2}};
}

ReplicaSetOptions opts(Balance b = Balance::RoundRobin) {
  ReplicaSetOptions o;
  o.balance = b;
  o.max_lag_time = 1000ms;
  o.ban_time = 5000ms;
  o.stale_after = 2000ms;
  return o;
}

TEST(Lsn, ParsesAndFormatsPostgresText) {
  EXPECT_EQ(parse_lsn("0/0"), 0u);
  EXPECT_EQ(parse_lsn("16/B374D848"), (uint64_t(0x16) << 32) | 0xB374D848u);
  EXPECT_EQ(format_lsn((uint64_t(0x16) << 32) | 0xB374D848u), "16/B374D848");
  EXPECT_EQ(parse_lsn(format_lsn(0xFFFFFFFF00000001ull)), 0xFFFFFFFF00000001ull);
  for (const char* bad : {"", "/", "1/", "/1", "1", "x/1", "1/1 ", "1//1", "100000000/0"})
    EXPECT_FALSE(parse_lsn(bad).has_value()) << bad;
}

TEST(Lsn, InsertPositionPastAPageHeaderCountsAsTheBoundary) {
  EXPECT_EQ(insert_position_as_record_end(0x3000000 + 40), 0x3000000u);  // a segment's first page
  EXPECT_EQ(insert_position_as_record_end(0x3002000 + 24), 0x3002000u);  // any other page
  EXPECT_EQ(insert_position_as_record_end(0x3002000 + 48), 0x3002000u + 48);
  EXPECT_EQ(insert_position_as_record_end(0x3002000), 0x3002000u);
  // A replica that replayed up to the boundary is caught up with such a primary.
  ReplicaSet set({{"r", 5432, 1}}, opts());
  set.primary_position(set.begin_round(), 0x3002000 + 24, T0);
  set.replica_position(0, true, 0x3002000, T0 + 10s);
  EXPECT_EQ(set.status(0, T0 + 10s).lag, 0ms);
  EXPECT_EQ(set.stamp_after(0), 0x3002000u);
}

TEST(ReplicaSet, NoReadsUntilAReplicaHasBeenPolled) {
  ReplicaSet set(two(), opts());
  EXPECT_FALSE(set.choose(0, T0));
  set.primary_position(set.begin_round(), 100, T0);
  set.replica_position(1, true, 100, T0);
  EXPECT_EQ(set.choose(0, T0), 1);
  // Positions older than stale_after are not trusted.
  EXPECT_FALSE(set.choose(0, T0 + 2500ms));
}

TEST(ReplicaSet, WeightZeroAndPromotedReplicasGetNoReads) {
  ReplicaSet set(two(0, 1), opts());
  set.primary_position(set.begin_round(), 100, T0);
  set.replica_position(0, true, 100, T0);
  set.replica_position(1, false, 100, T0);  // promoted: not a replica any more
  EXPECT_FALSE(set.choose(0, T0));
  EXPECT_TRUE(set.status(1, T0).promoted);
  set.replica_position(1, true, 100, T0);
  EXPECT_EQ(set.choose(0, T0), 1);
}

TEST(ReplicaSet, BanLastsBanTimeAndNeedsAFreshPoll) {
  ReplicaSet set(two(), opts());
  set.primary_position(set.begin_round(), 100, T0);
  set.replica_position(0, true, 100, T0);
  set.replica_position(1, true, 100, T0);
  EXPECT_TRUE(set.ban(0, T0));
  EXPECT_FALSE(set.ban(0, T0 + 1s));  // already banned: reported once
  for (int i = 0; i < 10; ++i) EXPECT_EQ(set.choose(0, T0 + 1s), 1);
  EXPECT_FALSE(set.due(0, T0 + 4s));
  EXPECT_TRUE(set.due(0, T0 + 7s));  // the second ban restarted the clock: 1s + 5s
  // Over, but its old position is forgotten until the poller vouches for it again.
  set.replica_position(1, true, 100, T0 + 7s);
  EXPECT_EQ(set.choose(0, T0 + 7s), 1);
  EXPECT_EQ(set.choose(0, T0 + 7s), 1);
  set.replica_position(0, true, 100, T0 + 7s);
  std::map<int, int> seen;
  for (int i = 0; i < 10; ++i) ++seen[*set.choose(0, T0 + 7s)];
  EXPECT_EQ(seen[0], 5);
  EXPECT_EQ(seen[1], 5);
}

TEST(ReplicaSet, TimeLagIsSinceThePrimaryWasLastAtTheReplayedPosition) {
  ReplicaSet set({{"r", 5432, 1}}, opts());
  // The primary stands at 100 from T0 to T0+3s, then moves to 200.
  for (int ms = 0; ms <= 3000; ms += 50) set.primary_position(set.begin_round(), 100, T0 + std::chrono::milliseconds(ms));
  set.primary_position(set.begin_round(), 200, T0 + 3050ms);
  // A replica stuck at 100 (replay paused) was current until T0+3s.
  set.replica_position(0, true, 100, T0 + 3500ms);
  EXPECT_EQ(set.status(0, T0 + 3500ms).lag, 500ms);
  EXPECT_EQ(set.choose(0, T0 + 3500ms), 0);
  set.replica_position(0, true, 100, T0 + 4100ms);
  EXPECT_EQ(set.status(0, T0 + 4100ms).lag, 1100ms);
  EXPECT_FALSE(set.choose(0, T0 + 4100ms));  // over max_replica_lag = 1s
  EXPECT_EQ(set.status(0, T0 + 4100ms).lag_bytes, 100u);
  // Caught up: no lag however long the primary has been idle.
  set.replica_position(0, true, 200, T0 + 60s);
  EXPECT_EQ(set.status(0, T0 + 60s).lag, 0ms);
  EXPECT_EQ(set.choose(0, T0 + 60s), 0);
}

TEST(ReplicaSet, ByteLagLimit) {
  auto o = opts();
  o.max_lag_time = 0ms;
  o.max_lag_bytes = 1000;
  ReplicaSet set({{"r", 5432, 1}}, o);
  set.primary_position(set.begin_round(), 5000, T0);
  set.replica_position(0, true, 4000, T0);
  EXPECT_EQ(set.choose(0, T0), 0);  // exactly at the limit
  set.replica_position(0, true, 3999, T0);
  EXPECT_FALSE(set.choose(0, T0));
  // Unlimited: any lag.
  o.max_lag_bytes = 0;
  set.set_options(o);
  EXPECT_EQ(set.choose(0, T0), 0);
}

TEST(ReplicaSet, ReadYourWritesStampComesFromALaterRound) {
  ReplicaSet set({{"r", 5432, 1}}, opts());
  uint64_t r1 = set.begin_round();
  // A commit seen while round r1 is under way: its primary position may predate the commit.
  const uint64_t commit_round = set.current_round();
  EXPECT_EQ(commit_round, r1);
  set.primary_position(r1, 100, T0);
  EXPECT_FALSE(set.stamp_after(commit_round).has_value());
  uint64_t r2 = set.begin_round();
  EXPECT_FALSE(set.stamp_after(commit_round).has_value());  // started, not finished
  set.primary_position(r2, 150, T0 + 50ms);
  ASSERT_EQ(set.stamp_after(commit_round), 150u);
  set.replica_position(0, true, 120, T0 + 60ms);
  EXPECT_FALSE(set.choose(150, T0 + 60ms));  // not replayed that far yet
  EXPECT_EQ(set.choose(0, T0 + 60ms), 0);   // fine for anyone else
  set.replica_position(0, true, 150, T0 + 110ms);
  EXPECT_EQ(set.choose(150, T0 + 110ms), 0);
}

TEST(ReplicaSet, RoundRobinFollowsWeights) {
  ReplicaSet set(two(1, 3), opts(Balance::RoundRobin));
  set.primary_position(set.begin_round(), 1, T0);
  set.replica_position(0, true, 1, T0);
  set.replica_position(1, true, 1, T0);
  std::map<int, int> seen;
  for (int i = 0; i < 400; ++i) ++seen[*set.choose(0, T0)];
  EXPECT_EQ(seen[0], 100);
  EXPECT_EQ(seen[1], 300);
}

TEST(ReplicaSet, RandomFollowsWeightsRoughly) {
  ReplicaSet set(two(1, 3), opts(Balance::Random));
  set.primary_position(set.begin_round(), 1, T0);
  set.replica_position(0, true, 1, T0);
  set.replica_position(1, true, 1, T0);
  std::map<int, int> seen;
  for (int i = 0; i < 4000; ++i) ++seen[*set.choose(0, T0)];
  EXPECT_GT(seen[0], 800);
  EXPECT_LT(seen[0], 1200);
}

TEST(ReplicaSet, LeastConnectionsPrefersTheLessBusyPerWeight) {
  ReplicaSet set(two(1, 2), opts(Balance::LeastConnections));
  set.primary_position(set.begin_round(), 1, T0);
  set.replica_position(0, true, 1, T0);
  set.replica_position(1, true, 1, T0);
  set.acquired(1);
  set.acquired(1);
  set.acquired(0);  // 1 per weight on both: a tie
  std::map<int, int> seen;
  for (int i = 0; i < 10; ++i) ++seen[*set.choose(0, T0)];
  EXPECT_EQ(seen[0], 5);  // ties rotate
  set.acquired(0);        // 2 per weight vs 1
  for (int i = 0; i < 10; ++i) EXPECT_EQ(set.choose(0, T0), 1);
  set.released(0);
  set.released(0);
  set.released(0);  // never below zero
  EXPECT_EQ(set.status(0, T0).in_use, 0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(set.choose(0, T0), 0);
}

}  // namespace
}  // namespace pgopt::pooler::routing
