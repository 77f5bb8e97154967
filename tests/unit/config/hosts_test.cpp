// The failover keys (issue 18): hosts, health_check_period, failover_wait_timeout; values, dump
// round trip and reload diffs. Error texts are in tests/fixtures/config/bad_hosts.*.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pooler/config/config.hpp"

using namespace pgopt::pooler;
using ::testing::HasSubstr;

namespace {

std::string db(const std::string& body, const std::string& pooler = "") {
  return "[pooler]\nauth_type = \"trust\"\n" + pooler + "\n[databases.app]\n" + body;
}

std::shared_ptr<const Config> ok(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_TRUE(r.errors.empty()) << format_errors(r.errors);
  return r.config;
}

TEST(Hosts, DefaultsToNoneAndOneHost) {
  auto c = ok(db(""));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->databases.at("app").hosts.empty());
  EXPECT_EQ(c->pooler.health_check_period, Millis(1000));
  EXPECT_EQ(c->pooler.failover_wait_timeout, Millis(5000));
}

TEST(Hosts, PortsDefaultToTheDatabasePortAndHostIsTheFirstMember) {
  auto c = ok(db("hosts = [\"a\", \"b:5433\", \"[::1]\"]\nport = 6000\n"));
  ASSERT_TRUE(c);
  const DatabaseConfig& d = c->databases.at("app");
  ASSERT_EQ(d.hosts.size(), 3u);
  EXPECT_EQ(d.hosts[0].port, 6000);
  EXPECT_EQ(d.hosts[1].port, 5433);
  EXPECT_EQ(d.hosts[2].host, "::1");
  EXPECT_EQ(d.hosts[2].port, 6000);
  EXPECT_EQ(d.host, "a");
  EXPECT_EQ(d.port, 6000);
}

TEST(Hosts, NotTogetherWithHost) {
  auto r = parse_config(db("host = \"x\"\nhosts = [\"a\", \"b\"]\n"), "t.toml");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(format_errors(r.errors), HasSubstr("t.toml:5: databases.app: set hosts or host, not both"));
}

TEST(Hosts, DumpRoundTrips) {
  auto c = ok(db("hosts = [\"a:5432\", \"b\", \"[fe80::1]:5434\"]\nport = 5433\n",
                 "health_check_period = \"250ms\"\nfailover_wait_timeout = \"0s\"\n"));
  ASSERT_TRUE(c);
  const std::string text = dump_config(*c);
  EXPECT_THAT(text, HasSubstr("hosts = [\"a:5432\", \"b:5433\", \"[fe80::1]:5434\"]\n"));
  EXPECT_THAT(text, HasSubstr("health_check_period = \"250ms\"\n"));
  EXPECT_THAT(text, HasSubstr("failover_wait_timeout = \"0s\"\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("\nhost = ")));
  auto again = parse_config(text, "dump.toml");
  ASSERT_TRUE(again.config) << format_errors(again.errors) << text;
  EXPECT_TRUE(changed_keys(*c, *again.config).empty());
  EXPECT_EQ(again.config->databases.at("app").hosts, c->databases.at("app").hosts);
  EXPECT_EQ(dump_config(*again.config), text);
  for (DumpMode m : {DumpMode::Effective, DumpMode::Overrides}) {
    auto o = parse_config(dump_config(*c, m), "dump.toml");
    EXPECT_TRUE(o.config) << format_errors(o.errors);
  }
}

TEST(Hosts, ReloadSeesAChangedMemberList) {
  auto a = ok(db("hosts = [\"a\", \"b\"]\n"));
  auto b = ok(db("hosts = [\"a\", \"c\"]\n", "failover_wait_timeout = \"9s\"\n"));
  ASSERT_TRUE(a && b);
  const auto changed = changed_keys(*a, *b);
  EXPECT_THAT(changed, ::testing::Contains("databases.app.hosts"));
  EXPECT_THAT(changed, ::testing::Contains("pooler.failover_wait_timeout"));
  EXPECT_TRUE(reloadable("databases.app.hosts"));
  EXPECT_TRUE(reloadable("pooler.failover_wait_timeout"));
  EXPECT_TRUE(reloadable("pooler.health_check_period"));
}

TEST(PatroniUrls, PortDefaultsTo8008AndTheDumpRoundTrips) {
  auto c = ok(db("hosts = [\"a\", \"b\"]\npatroni_urls = [\"http://a\", \"http://b:8009/\", \"http://[::1]:8010\"]\n"));
  ASSERT_TRUE(c);
  const auto& urls = c->databases.at("app").patroni_urls;
  ASSERT_EQ(urls.size(), 3u);
  EXPECT_EQ(urls[0].host, "a");
  EXPECT_EQ(urls[0].port, 8008);
  EXPECT_EQ(urls[1].port, 8009);
  EXPECT_EQ(urls[2].host, "::1");
  const std::string text = dump_config(*c);
  EXPECT_THAT(text, HasSubstr("patroni_urls = [\"http://a:8008\", \"http://b:8009\", \"http://[::1]:8010\"]\n"));
  auto again = parse_config(text, "dump.toml");
  ASSERT_TRUE(again.config) << format_errors(again.errors);
  EXPECT_EQ(again.config->databases.at("app").patroni_urls, urls);
  EXPECT_THAT(dump_config(*ok(db("hosts = [\"a\", \"b\"]\n"))), ::testing::Not(HasSubstr("patroni_urls")));
  auto d = ok(db("hosts = [\"a\", \"b\"]\npatroni_urls = [\"http://a\"]\n"));
  ASSERT_TRUE(d);
  EXPECT_THAT(changed_keys(*c, *d), ::testing::Contains("databases.app.patroni_urls"));
  EXPECT_TRUE(reloadable("databases.app.patroni_urls"));
}

// https:// URLs are verified against patroni_ca_file (the system's roots when unset); the scheme
// survives the dump, and other schemes are refused with the line.
TEST(PatroniUrls, HttpsAndItsRoots) {
  auto c = ok(db("hosts = [\"a\", \"b\"]\npatroni_urls = [\"https://a\", \"http://b:8009\"]\n"
                 "patroni_ca_file = \"/etc/patroni/ca.crt\"\n"));
  ASSERT_TRUE(c);
  const auto& app = c->databases.at("app");
  ASSERT_EQ(app.patroni_urls.size(), 2u);
  EXPECT_TRUE(app.patroni_urls[0].https);
  EXPECT_EQ(app.patroni_urls[0].port, 8008);
  EXPECT_FALSE(app.patroni_urls[1].https);
  EXPECT_EQ(app.patroni_ca_file, "/etc/patroni/ca.crt");
  const std::string text = dump_config(*c);
  EXPECT_THAT(text, HasSubstr("patroni_urls = [\"https://a:8008\", \"http://b:8009\"]\n"));
  EXPECT_THAT(text, HasSubstr("patroni_ca_file = \"/etc/patroni/ca.crt\"\n"));
  auto again = parse_config(text, "dump.toml");
  ASSERT_TRUE(again.config) << format_errors(again.errors);
  EXPECT_EQ(again.config->databases.at("app").patroni_urls, app.patroni_urls);
  auto http = ok(db("hosts = [\"a\", \"b\"]\npatroni_urls = [\"http://a\"]\n"));
  auto https = ok(db("hosts = [\"a\", \"b\"]\npatroni_urls = [\"https://a\"]\n"));
  EXPECT_THAT(changed_keys(*http, *https), ::testing::Contains("databases.app.patroni_urls"));
  auto bad = parse_config(db("hosts = [\"a\"]\npatroni_urls = [\"ftp://a\"]\n"), "t.toml");
  EXPECT_FALSE(bad.config);
  EXPECT_THAT(format_errors(bad.errors), HasSubstr("is not an http:// or https:// URL"));
  // A client certificate needs its key.
  auto cert = ok(db("hosts = [\"a\"]\npatroni_cert_file = \"/c.crt\"\npatroni_key_file = \"/c.key\"\n"));
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->databases.at("app").patroni_key_file, "/c.key");
  auto half = parse_config(db("hosts = [\"a\"]\npatroni_cert_file = \"/c.crt\"\n"), "t.toml");
  EXPECT_FALSE(half.config);
  EXPECT_THAT(format_errors(half.errors), HasSubstr("patroni_cert_file and patroni_key_file go together"));
}

// The standby members of hosts are the replicas read_write_split sends reads to; one member has none.
TEST(Hosts, ReadWriteSplitNeedsTwoMembersOrReplicas) {
  EXPECT_TRUE(ok(db("hosts = [\"a\", \"b\"]\nread_write_split = true\n")));
  auto r = parse_config(db("hosts = [\"a\"]\nread_write_split = true\n"), "t.toml");
  EXPECT_FALSE(r.config);
  EXPECT_THAT(format_errors(r.errors), HasSubstr("read_write_split = true needs at least one entry in replicas"));
}

}  // namespace
