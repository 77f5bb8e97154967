// pooler/topology/patroni.*: reading Patroni's GET /cluster and finding its leader among `hosts`.
#include "pooler/topology/patroni.hpp"

#include <gtest/gtest.h>

namespace pgopt::pooler::topology {
namespace {

// As Patroni 3.0 answers (members abridged to what a three-node cluster returns, one nested value).
const char* kCluster = R"({"members": [
  {"name": "m1", "role": "replica", "state": "streaming", "api_url": "http://127.0.0.1:8008/patroni",
   "host": "127.0.0.1", "port": 5432, "timeline": 2, "lag": 0},
  {"name": "m2", "role": "leader", "state": "running", "api_url": "http://127.0.0.1:8009/patroni",
   "host": "127.0.0.1", "port": 5433, "timeline": 2, "tags": {"nofailover": false, "x": [1, 2.5e3, null]}},
  {"name": "m3", "role": "sync_standby", "state": "streaming", "host": "127.0.0.1", "port": 5434, "lag": 0}
 ], "scope": "pgopt \"failover\"\u00e9", "pause": false})";

const std::vector<std::pair<std::string, int>> kHosts = {{"127.0.0.1", 5432}, {"127.0.0.1", 5433}, {"127.0.0.1", 5434}};

TEST(Patroni, ReadsTheMembersOfCluster) {
  auto m = parse_patroni_cluster(kCluster);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[1].name, "m2");
  EXPECT_EQ((*m)[1].role, "leader");
  EXPECT_EQ((*m)[1].state, "running");
  EXPECT_EQ((*m)[1].port, 5433);
  EXPECT_EQ((*m)[2].role, "sync_standby");
  EXPECT_EQ(patroni_leader(*m, kHosts), 1u);
}

TEST(Patroni, NoRunningLeaderOrOneOutsideHostsIsNone) {
  auto m = parse_patroni_cluster(kCluster);
  ASSERT_TRUE(m);
  (*m)[1].state = "stopped";  // the leader's PostgreSQL is down (a failover is under way)
  EXPECT_FALSE(patroni_leader(*m, kHosts));
  (*m)[1].state = "running";
  EXPECT_FALSE(patroni_leader(*m, {{"127.0.0.1", 5432}, {"127.0.0.1", 5434}}));
  (*m)[1].role = "master";  // Patroni before 3.0
  EXPECT_EQ(patroni_leader(*m, kHosts), 1u);
}

TEST(Patroni, RefusesWhatIsNotACluster) {
  EXPECT_FALSE(parse_patroni_cluster(""));
  EXPECT_FALSE(parse_patroni_cluster("<html>503</html>"));
  EXPECT_FALSE(parse_patroni_cluster(R"({"members": {}})"));
  EXPECT_FALSE(parse_patroni_cluster(R"({"members": [)"));
  EXPECT_FALSE(parse_patroni_cluster(R"({"members": []} trailing)"));
  EXPECT_FALSE(parse_patroni_cluster(std::string(100, '[') + std::string(100, ']')));  // depth limit
  auto empty = parse_patroni_cluster(R"({"members": [], "scope": "x"})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace pgopt::pooler::topology
