// The primary-election rules of pooler/topology/topology.hpp, one test per rule, on a driven clock.
#include "pooler/topology/topology.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pgopt::pooler::topology {
namespace {

using P = Probe;
const SteadyClock::time_point t0{};

Change run(Topology& t, std::vector<P> probes, int ms = 0) {
  return t.round(probes, t0 + std::chrono::milliseconds(ms));
}

TEST(Topology, StartsDiscoveringAndElectsTheOnlyPrimary) {
  Topology t(3);
  EXPECT_EQ(t.state(), State::Discovering);
  EXPECT_EQ(run(t, {P::Failed, P::Failed, P::Failed}), Change::None);
  EXPECT_EQ(t.state(), State::Discovering);
  EXPECT_EQ(run(t, {P::Standby, P::Primary, P::Standby}, 10), Change::Elected);
  EXPECT_EQ(t.state(), State::Stable);
  EXPECT_EQ(t.primary(), 1u);
  EXPECT_EQ(t.changes(), 1u);
  EXPECT_EQ(run(t, {P::Standby, P::Primary, P::Standby}, 20), Change::None);
  EXPECT_EQ(t.since(), t0 + std::chrono::milliseconds(10));
}

TEST(Topology, SwitchoverIsLostThenMoved) {
  Topology t(3);
  run(t, {P::Primary, P::Standby, P::Standby});
  // Patroni stops the old primary before it promotes the new one.
  EXPECT_EQ(run(t, {P::Failed, P::Standby, P::Standby}, 100), Change::Lost);
  EXPECT_EQ(t.state(), State::NoPrimary);
  EXPECT_FALSE(t.primary());
  EXPECT_EQ(run(t, {P::Failed, P::Primary, P::Standby}, 200), Change::Elected);
  EXPECT_EQ(t.primary(), 1u);
  EXPECT_EQ(t.changes(), 3u);
}

TEST(Topology, DirectMoveBetweenTwoRounds) {
  Topology t(2);
  run(t, {P::Primary, P::Standby});
  EXPECT_EQ(run(t, {P::Standby, P::Primary}), Change::Moved);
  EXPECT_EQ(t.primary(), 1u);
}

TEST(Topology, TwoPrimariesAreSplitBrainUntilOneStepsDown) {
  Topology t(3);
  run(t, {P::Primary, P::Standby, P::Standby});
  EXPECT_EQ(run(t, {P::Primary, P::Primary, P::Standby}), Change::SplitBrain);
  EXPECT_EQ(t.state(), State::SplitBrain);
  EXPECT_FALSE(t.primary());
  EXPECT_EQ(t.claimants(), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(run(t, {P::Primary, P::Primary, P::Standby}), Change::None);
  EXPECT_EQ(run(t, {P::Standby, P::Primary, P::Standby}), Change::Elected);
  EXPECT_EQ(t.primary(), 1u);
}

TEST(Topology, SilentPrimaryKeepsItsRoleForABoundedNumberOfRounds) {
  Topology t(2);
  run(t, {P::Primary, P::Standby});
  for (int i = 0; i < Topology::kMaxSilentRounds; ++i) {
    EXPECT_EQ(run(t, {P::Silent, P::Standby}), Change::None) << i;
    EXPECT_EQ(t.primary(), 0u);
  }
  EXPECT_EQ(run(t, {P::Silent, P::Standby}), Change::Lost);
  EXPECT_EQ(t.role(0), P::Failed);
  // An answer resets the count.
  run(t, {P::Primary, P::Standby});
  EXPECT_EQ(run(t, {P::Silent, P::Standby}), Change::None);
  EXPECT_EQ(run(t, {P::Primary, P::Standby}), Change::None);
  EXPECT_EQ(run(t, {P::Silent, P::Standby}), Change::None);
}

TEST(Topology, StandbyAnswerLosesThePrimaryAtOnce) {
  Topology t(2);
  run(t, {P::Primary, P::Standby});
  EXPECT_EQ(run(t, {P::Standby, P::Standby}), Change::Lost);
}

TEST(Topology, RoundsAreFastUnlessStableAndUnsuspected) {
  const std::chrono::milliseconds period{1000};
  Topology t(2);
  EXPECT_EQ(t.next_round(period), Topology::kFastRound);
  run(t, {P::Primary, P::Standby});
  EXPECT_EQ(t.next_round(period), period);
  t.suspect();
  EXPECT_EQ(t.next_round(period), Topology::kFastRound);
  run(t, {P::Primary, P::Standby});
  EXPECT_EQ(t.next_round(period), period);
  EXPECT_EQ(t.next_round(std::chrono::milliseconds(20)), std::chrono::milliseconds(20));
}

TEST(Topology, MissingAnswersCountAsFailed) {
  Topology t(3);
  run(t, {P::Primary, P::Standby, P::Standby});
  EXPECT_EQ(run(t, {P::Standby}), Change::Lost);
  EXPECT_EQ(t.role(2), P::Failed);
}

// Rule 5: with Patroni's view, one primary is used only when it is Patroni's leader.
TEST(Topology, PatroniMustAgreeWithThePrimary) {
  Topology t(3);
  const std::vector<P> p0 = {P::Primary, P::Standby, P::Standby};
  EXPECT_EQ(t.round(p0, t0, PatroniView{true, 0}), Change::Elected);
  EXPECT_EQ(t.state(), State::Stable);
  // A switchover: Patroni names member 1 while member 0 still says primary. Hold, do not guess.
  EXPECT_EQ(t.round(p0, t0 + std::chrono::milliseconds(100), PatroniView{true, 1}), Change::Lost);
  EXPECT_EQ(t.state(), State::Disagree);
  EXPECT_FALSE(t.primary());
  EXPECT_EQ(t.next_round(std::chrono::seconds(1)), Topology::kFastRound);
  // Old primary stopped, new one not yet promoted: no primary.
  EXPECT_EQ(t.round(std::vector<P>{P::Failed, P::Standby, P::Standby}, t0, PatroniView{true, 1}), Change::None);
  EXPECT_EQ(t.state(), State::NoPrimary);
  // Both agree on member 1.
  EXPECT_EQ(t.round(std::vector<P>{P::Failed, P::Primary, P::Standby}, t0, PatroniView{true, 1}), Change::Elected);
  EXPECT_EQ(t.primary(), 1u);
  // Patroni has no running leader (or one that is not a member) while PostgreSQL has one: hold.
  EXPECT_EQ(t.round(std::vector<P>{P::Failed, P::Primary, P::Standby}, t0, PatroniView{true, std::nullopt}),
            Change::Lost);
  EXPECT_EQ(t.state(), State::Disagree);
  // Two primaries stay a split brain whatever Patroni says.
  EXPECT_EQ(t.round(std::vector<P>{P::Primary, P::Primary, P::Standby}, t0, PatroniView{true, 1}), Change::SplitBrain);
}

TEST(Topology, NoAnswerFromPatroniFallsBackToThePostgresAnswers) {
  Topology t(2);
  EXPECT_EQ(t.round(std::vector<P>{P::Standby, P::Primary}, t0, PatroniView{false, std::nullopt}), Change::Elected);
  EXPECT_EQ(t.state(), State::Stable);
  EXPECT_EQ(t.primary(), 1u);
  EXPECT_EQ(to_string(State::Disagree), "disagree");
}

}  // namespace
}  // namespace pgopt::pooler::topology
