// The admin console's SET: the running config with one [pooler] key changed, validated as the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pooler/admin/control.hpp"

using namespace pgopt::pooler;
using ::testing::HasSubstr;

namespace {

std::shared_ptr<const Config> base() {
  auto r = parse_config(
      "[pooler]\nauth_type = \"trust\"\ndefault_pool_size = 10\nmin_pool_size = 2\n"
      "[databases.app]\nport = 5433\npool_size = 3\n",
      "/etc/pgopt/pgopt.toml");
  EXPECT_TRUE(r.config) << format_errors(r.errors);
  return r.config;
}

}  // namespace

TEST(AdminSet, ChangesOnlyThatKeyAndKeepsDatabases) {
  auto cfg = base();
  auto r = admin::config_with(*cfg, "default_pool_size", "30");
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->pooler.default_pool_size, 30);
  EXPECT_EQ(r.config->pooler.min_pool_size, 2);
  EXPECT_EQ(r.config->path, "/etc/pgopt/pgopt.toml");
  ASSERT_TRUE(r.config->find_database("app"));
  EXPECT_EQ(r.config->find_database("app")->port, 5433);
  EXPECT_EQ(r.config->pool_size(*r.config->find_database("app")), 3);  // its own override stays
  EXPECT_EQ(changed_keys(*cfg, *r.config), std::vector<std::string>{"pooler.default_pool_size"});
}

TEST(AdminSet, DatabasesWithoutTheirOwnValueFollowTheNewDefault) {
  auto r = parse_config("[pooler]\nauth_type = \"trust\"\n[databases.a]\n[databases.b]\npool_mode = \"session\"\n",
                        "p.toml");
  ASSERT_TRUE(r.config);
  auto set = admin::config_with(*r.config, "default_pool_size", "1");
  ASSERT_TRUE(set.config) << set.message;
  EXPECT_EQ(set.config->pool_size(*set.config->find_database("a")), 1);
  set = admin::config_with(*r.config, "pool_mode", "\"session\"");
  ASSERT_TRUE(set.config) << set.message;
  EXPECT_EQ(set.config->pool_mode(*set.config->find_database("a")), PoolMode::Session);
  set = admin::config_with(*r.config, "pool_mode", "\"transaction\"");
  ASSERT_TRUE(set.config) << set.message;
  EXPECT_EQ(set.config->pool_mode(*set.config->find_database("b")), PoolMode::Session);  // its own value
}

TEST(AdminSet, DurationsStringsAndKeysWithoutAValueYet) {
  auto cfg = base();
  auto r = admin::config_with(*cfg, "query_wait_timeout", "\"30s\"");
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->pooler.query_wait_timeout, std::chrono::seconds(30));
  // A file key that the running config leaves unset (so the dump has no line for it).
  r = admin::config_with(*cfg, "capture_file", "\"capture.jsonl\"");
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->pooler.capture_file, "/etc/pgopt/capture.jsonl");  // relative to the config file
  r = admin::config_with(*cfg, "admin_users", "[\"root\"]");
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->pooler.admin_users, std::vector<std::string>{"root"});
}

TEST(AdminSet, RefusesUnknownRestartOnlyAndInvalidValues) {
  auto cfg = base();
  auto r = admin::config_with(*cfg, "no_such_key", "1");
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.sqlstate, "42704");
  r = admin::config_with(*cfg, "listen_port", "7000");
  EXPECT_EQ(r.sqlstate, "55P02");
  EXPECT_THAT(r.message, HasSubstr("restart"));
  r = admin::config_with(*cfg, "default_pool_size", "\"many\"");
  EXPECT_EQ(r.sqlstate, "22023");
  EXPECT_THAT(r.message, HasSubstr("default_pool_size"));
  // Cross-key checks run too: min_pool_size may not exceed default_pool_size.
  r = admin::config_with(*cfg, "min_pool_size", "11");
  EXPECT_EQ(r.sqlstate, "22023");
  EXPECT_THAT(r.message, HasSubstr("exceeds"));
  // Line breaks cannot smuggle in a second key: the value is one TOML value or an error.
  r = admin::config_with(*cfg, "default_pool_size", "5\ncapture_file = \"/tmp/x\"");
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.sqlstate, "22023");
}
