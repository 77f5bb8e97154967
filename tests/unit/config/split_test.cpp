// The read/write splitting keys (issue 5): values, defaults, cross-key checks, dump and reload.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pooler/config/config.hpp"

using namespace pgopt::pooler;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

std::string db(const std::string& body, const std::string& pooler = "") {
  return "[pooler]\nauth_type = \"trust\"\n" + pooler + "\n[databases.app]\nport = 5432\n" + body;
}

std::shared_ptr<const Config> ok(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_TRUE(r.errors.empty()) << format_errors(r.errors);
  return r.config;
}

std::string errors(const std::string& text) { return format_errors(parse_config(text, "t.toml").errors); }

TEST(Split, Defaults) {
  auto c = ok(db(""));
  ASSERT_TRUE(c);
  const DatabaseConfig& d = c->databases.at("app");
  EXPECT_TRUE(d.replicas.empty());
  EXPECT_FALSE(d.read_write_split);
  EXPECT_EQ(d.load_balance, LoadBalance::LeastConnections);
  EXPECT_EQ(d.max_replica_lag, LagLimit::of_time(Millis{1000}));
  EXPECT_TRUE(d.read_your_writes);
  EXPECT_TRUE(d.write_functions.empty());
  EXPECT_TRUE(d.read_only_functions.empty());
  EXPECT_EQ(c->pooler.replica_ban_time, Millis{30'000});
  EXPECT_EQ(c->pooler.lag_poll_interval, Millis{50});
  EXPECT_EQ(c->pooler.replica_fallback, ReplicaFallback::Primary);
  EXPECT_FALSE(c->pooler.unknown_functions_are_reads);
}

TEST(Split, IssueExampleParses) {
  auto c = ok(R"([pooler]
auth_type = "trust"
replica_ban_time = "10s"
lag_poll_interval = "20ms"
replica_fallback = "error"
unknown_functions_are_reads = true

[databases.app]
host = "127.0.0.1"
port = 5432
replicas = [ { host = "127.0.0.1", port = 5433, weight = 1 }, { host = "10.0.0.8", weight = 3 } ]
read_write_split = true
load_balance = "round_robin"
max_replica_lag = "16MB"
read_your_writes = false
write_functions = ["audit.log_event"]
read_only_functions = ["app.price_for", "is_even"]
)");
  ASSERT_TRUE(c);
  const DatabaseConfig& d = c->databases.at("app");
  ASSERT_EQ(d.replicas.size(), 2u);
  EXPECT_EQ(d.replicas[0].host, "127.0.0.1");
  EXPECT_EQ(d.replicas[0].port, 5433);
  EXPECT_EQ(d.replicas[1].port, 5432);  // the database's port
  EXPECT_EQ(d.replicas[1].weight, 3);
  EXPECT_EQ(d.replicas[1].line, 11);
  EXPECT_TRUE(d.read_write_split);
  EXPECT_EQ(d.load_balance, LoadBalance::RoundRobin);
  EXPECT_EQ(d.max_replica_lag, LagLimit::of_bytes(16ull << 20));
  EXPECT_FALSE(d.read_your_writes);
  EXPECT_THAT(d.write_functions, ElementsAre("audit.log_event"));
  EXPECT_THAT(d.read_only_functions, ElementsAre("app.price_for", "is_even"));
  EXPECT_EQ(c->pooler.replica_ban_time, Millis{10'000});
  EXPECT_EQ(c->pooler.lag_poll_interval, Millis{20});
  EXPECT_EQ(c->pooler.replica_fallback, ReplicaFallback::Error);
  EXPECT_TRUE(c->pooler.unknown_functions_are_reads);
}

TEST(Split, ReplicaPortDefaultsToTheDatabasesWhereverPortIsWritten) {
  // port after replicas in the table still applies to them.
  auto c = ok("[pooler]\nauth_type = \"trust\"\n[databases.app]\nreplicas = [{ host = \"r\" }]\nport = 6543\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->databases.at("app").replicas.at(0).port, 6543);
}

TEST(Split, ArrayOfTablesSyntax) {
  auto c = ok(db("[[databases.app.replicas]]\nhost = \"r1\"\n[[databases.app.replicas]]\nhost = \"r2\"\nweight = 0\n"));
  ASSERT_TRUE(c);
  const auto& r = c->databases.at("app").replicas;
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].host, "r2");
  EXPECT_EQ(r[1].weight, 0);
}

TEST(Split, LagLimitForms) {
  auto lag = [](const std::string& v) {
    auto c = parse_config(db("max_replica_lag = " + v + "\n"), "t.toml");
    return c.config ? std::optional<LagLimit>(c.config->databases.at("app").max_replica_lag) : std::nullopt;
  };
  EXPECT_EQ(lag("\"500ms\""), LagLimit::of_time(Millis{500}));
  EXPECT_EQ(lag("\"2min\""), LagLimit::of_time(Millis{120'000}));
  EXPECT_EQ(lag("\"8kB\""), LagLimit::of_bytes(8192));
  EXPECT_EQ(lag("\"0s\""), LagLimit::of_time(Millis{0}));
  EXPECT_TRUE(lag("\"0s\"")->unlimited());
  EXPECT_TRUE(lag("\"0B\"")->unlimited());
  EXPECT_FALSE(lag("\"1B\"")->unlimited());
  EXPECT_FALSE(lag("1"));
  EXPECT_FALSE(lag("\"1\""));
  EXPECT_FALSE(lag("\"1m\""));
}

TEST(Split, ErrorsAreAllReportedWithLines) {
  const std::string text = db(R"(replicas = [ { host = "127.0.0.1", port = 5432 }, { hots = "x" }, { host = "r", weight = -1 } ]
load_balance = "fastest"
max_replica_lag = 16
write_functions = ["ok", "bad name", 3]
)");
  EXPECT_EQ(errors(text),
            "t.toml:6: unknown key \"hots\" in databases.app.replicas[1]; did you mean \"host\"?\n"
            "t.toml:6: databases.app.replicas[1]: host is required\n"
            "t.toml:6: databases.app.replicas[2].weight: -1 is out of range (must be between 0 and 1000)\n"
            "t.toml:7: databases.app.load_balance: \"fastest\" is not one of \"round_robin\", "
            "\"least_connections\", \"random\"\n"
            "t.toml:8: databases.app.max_replica_lag: a bare number is ambiguous; write a duration such as "
            "\"1s\" or a size such as \"16MB\"\n"
            "t.toml:9: databases.app.write_functions[1]: \"bad name\" is not a function name (\"name\" or "
            "\"schema.name\", unquoted identifiers)\n"
            "t.toml:9: databases.app.write_functions[2]: expected a string, got an integer\n");
}

TEST(Split, CrossKeyChecks) {
  EXPECT_EQ(errors(db("read_write_split = true\n")),
            "t.toml:6: databases.app.read_write_split = true needs at least one entry in replicas\n");
  EXPECT_EQ(errors(db("replicas = [{ host = \"127.0.0.1\" }]\n")),
            "t.toml:6: databases.app.replicas[0]: 127.0.0.1:5432 is the primary itself (host and port)\n");
  EXPECT_EQ(errors(db("replicas = [{ host = \"r\" },\n  { host = \"r\", port = 5432 }]\n")),
            "t.toml:7: databases.app.replicas[1]: r:5432 is listed twice\n");
  EXPECT_EQ(errors(db("write_functions = [\"App.F\"]\nread_only_functions = [\"app.f\"]\n")),
            "t.toml:7: databases.app: \"app.f\" is in both write_functions and read_only_functions\n");
}

TEST(Split, PoolerRanges) {
  EXPECT_THAT(errors(db("", "lag_poll_interval = \"1ms\"\n")),
              HasSubstr("pooler.lag_poll_interval: \"1ms\" is out of range (must be between 5ms and 1min)"));
  EXPECT_THAT(errors(db("", "replica_ban_time = 0\n")),
              HasSubstr("pooler.replica_ban_time: \"0s\" is out of range (must be between 1s and 365d)"));
  EXPECT_THAT(errors(db("", "replica_fallback = \"primry\"\n")), HasSubstr("did you mean \"primary\"?"));
  EXPECT_THAT(errors(db("", "unknown_functions_are_reads = \"yes\"\n")),
              HasSubstr("pooler.unknown_functions_are_reads: expected a boolean (true or false), got a string"));
}

TEST(Split, DumpRoundTrips) {
  auto c = ok(db(R"(replicas = [ { host = "a\"b", port = 5433 }, { host = "r2", weight = 0 } ]
read_write_split = true
max_replica_lag = "64MB"
write_functions = ["audit.log_event"]
read_only_functions = ["app.price_for"]
)",
                 "lag_poll_interval = \"100ms\"\nreplica_fallback = \"error\"\n"));
  ASSERT_TRUE(c);
  const std::string text = dump_config(*c);
  EXPECT_THAT(text, HasSubstr("replicas = [{ host = \"a\\\"b\", port = 5433, weight = 1 }, { host = \"r2\", port = "
                              "5432, weight = 0 }]\n"));
  EXPECT_THAT(text, HasSubstr("max_replica_lag = \"64MB\"\n"));
  EXPECT_THAT(text, HasSubstr("write_functions = [\"audit.log_event\"]\n"));
  EXPECT_THAT(text, HasSubstr("unknown_functions_are_reads = false\n"));
  auto again = parse_config(text, "dump.toml");
  ASSERT_TRUE(again.config) << format_errors(again.errors) << text;
  EXPECT_TRUE(changed_keys(*c, *again.config).empty());
  EXPECT_EQ(again.config->databases.at("app").replicas, c->databases.at("app").replicas);
  EXPECT_EQ(dump_config(*again.config), text);
}

TEST(Split, ChangedKeysSeeEverySplitKey) {
  auto a = ok(db("replicas = [{ host = \"r\" }]\n"));
  auto b = ok(db("replicas = [{ host = \"r\", weight = 2 }]\nread_write_split = true\nmax_replica_lag = \"1MB\"\n"
                 "read_only_functions = [\"f\"]\n",
                 "replica_fallback = \"error\"\n"));
  ASSERT_TRUE(a && b);
  EXPECT_THAT(changed_keys(*a, *b),
              ElementsAre("pooler.replica_fallback", "databases.app.replicas", "databases.app.read_write_split",
                          "databases.app.max_replica_lag", "databases.app.read_only_functions"));
  for (const auto& k : changed_keys(*a, *b)) EXPECT_TRUE(reloadable(k)) << k;
}

TEST(Split, UnknownReplicaKeyWithoutNearMatch) {
  EXPECT_THAT(errors(db("replicas = [{ host = \"r\", dbname = \"x\" }]\n")),
              HasSubstr("unknown key \"dbname\" in databases.app.replicas[0]; a replica has host, port and weight"));
  EXPECT_THAT(errors(db("replicas = \"r\"\n")), HasSubstr("databases.app.replicas: expected an array of tables"));
  EXPECT_THAT(errors(db("replicas = [\"r\"]\n")), HasSubstr("databases.app.replicas[0]: expected a table"));
}

}  // namespace
