// pooler/failover.*: the clusters kept across reloads, the route a new transaction gets from each
// election state, and what a login's ParameterStatus says about the role.
#include <gtest/gtest.h>

#include "pooler/failover.hpp"

using namespace pgopt::pooler;
using topology::Probe;

namespace {

std::shared_ptr<const Config> config(const std::string& hosts) {
  auto r = parse_config("[pooler]\nauth_type = \"trust\"\n[databases.app]\nhosts = " + hosts + "\n[databases.one]\n", "t.toml");
  EXPECT_TRUE(r.errors.empty()) << format_errors(r.errors);
  return r.config;
}

TEST(Failover, OnlyMultiHostDatabasesGetAClusterKeptWhileTheMembersStay) {
  Failover f;
  auto fresh = f.update(*config("[\"a:1\", \"b:1\"]"));
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].first, "app");
  EXPECT_EQ(f.find("one"), nullptr);
  auto c = f.find("app");
  EXPECT_TRUE(f.update(*config("[\"a:1\", \"b:1\"]")).empty());  // unchanged: same cluster, no new prober
  EXPECT_EQ(f.find("app"), c);
  EXPECT_FALSE(c->retired());
  EXPECT_EQ(f.update(*config("[\"a:1\", \"c:1\"]")).size(), 1u);
  EXPECT_TRUE(c->retired());
  EXPECT_NE(f.find("app"), c);
}

TEST(Failover, RouteFollowsTheElection) {
  Cluster c({{"a", 1, 0}, {"b", 2, 0}});
  EXPECT_EQ(c.view().route, PrimaryRoute::Wait);  // discovering
  const auto now = topology::SteadyClock::now();
  std::vector<Probe> r1{Probe::Standby, Probe::Primary};
  c.round(r1, now);
  EXPECT_EQ(c.view().route, PrimaryRoute::Go);
  EXPECT_EQ(c.view().primary, 1u);
  EXPECT_EQ(c.member_of(ServerTarget{"b", 2, "x"}), 1u);
  EXPECT_EQ(c.member_of(ServerTarget{"b", 3, "x"}), std::nullopt);
  std::vector<Probe> r2{Probe::Primary, Probe::Primary};
  c.round(r2, now);
  EXPECT_EQ(c.view().route, PrimaryRoute::Refuse);
  EXPECT_EQ(c.view().claimants, "a:1, b:2");
  EXPECT_EQ(c.stats().split_brains, 1u);
  std::vector<Probe> r3{Probe::Failed, Probe::Standby};
  c.round(r3, now);
  EXPECT_EQ(c.view().route, PrimaryRoute::Wait);
  c.suspect();
  EXPECT_TRUE(c.suspected());
  EXPECT_EQ(c.next_round(std::chrono::milliseconds(1000)).count(), 0);
  c.round(r1, now);
  EXPECT_FALSE(c.suspected());
}

// patroni_urls: a disagreeing Patroni holds new transactions (Wait, state disagree); the last
// answer is kept for the admin console; a changed URL list is a new Cluster (a new prober).
TEST(Failover, PatroniDisagreementWaitsAndUrlsAreKeptPerCluster) {
  Cluster c({{"a", 1, 0}, {"b", 2, 0}}, {PatroniUrl{"a", 8008, 0}});
  const auto now = topology::SteadyClock::now();
  std::vector<Probe> r1{Probe::Standby, Probe::Primary};
  c.round(r1, now, topology::PatroniView{true, 0});
  EXPECT_EQ(c.view().route, PrimaryRoute::Wait);
  EXPECT_EQ(c.view().state, topology::State::Disagree);
  ASSERT_TRUE(c.stats().patroni);
  EXPECT_EQ(c.stats().patroni->leader, 0u);
  c.round(r1, now, topology::PatroniView{true, 1});
  EXPECT_EQ(c.view().route, PrimaryRoute::Go);
  EXPECT_EQ(c.view().primary, 1u);

  Failover f;
  auto cfg = [](const std::string& urls) {
    auto r = parse_config("[pooler]\nauth_type = \"trust\"\n[databases.app]\nhosts = [\"a:1\", \"b:1\"]\n" + urls,
                          "t.toml");
    EXPECT_TRUE(r.errors.empty()) << format_errors(r.errors);
    return r.config;
  };
  ASSERT_EQ(f.update(*cfg("patroni_urls = [\"http://a\"]\n")).size(), 1u);
  auto kept = f.find("app");
  EXPECT_TRUE(f.update(*cfg("patroni_urls = [\"http://a\"]\n")).empty());
  EXPECT_EQ(f.update(*cfg("patroni_urls = [\"http://b\"]\n")).size(), 1u);
  EXPECT_TRUE(kept->retired());
}

TEST(Failover, LoginParametersThatMeanNoWrites) {
  EXPECT_TRUE(login_says_standby({{"in_hot_standby", "on"}}));
  EXPECT_TRUE(login_says_standby({{"default_transaction_read_only", "on"}, {"in_hot_standby", "off"}}));
  EXPECT_FALSE(login_says_standby({{"in_hot_standby", "off"}, {"default_transaction_read_only", "off"}}));
  EXPECT_FALSE(login_says_standby({}));  // before PostgreSQL 14: the probe's query decides
}

}  // namespace
