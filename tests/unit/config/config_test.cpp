// parse_config/load_config behaviour beyond the golden files: the example config, values, paths,
// effective per-database settings, reload classification and diffing, dump round trips.
#include "pooler/config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace pgopt::pooler;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

const std::string kExample = std::string(PGOPT_SOURCE_DIR) + "/config/pgopt.toml";

// Every field of PoolerSettings, written out by hand: if a field is added to the struct and not
// here, this list, pooler_keys() and the example disagree and the tests below fail.
const std::vector<std::string_view> kAllPoolerKeys = {"listen_addr",
                                                      "listen_port",
                                                      "so_reuseport",
                                                      "peer_id",
                                                      "workers",
                                                      "pool_mode",
                                                      "default_pool_size",
                                                      "min_pool_size",
                                                      "max_client_conn",
                                                      "max_db_connections",
                                                      "auth_type",
                                                      "auth_file",
                                                      "max_packet_size",
                                                      "max_pipeline_depth",
                                                      "large_message_memory",
                                                      "query_wait_timeout",
                                                      "server_idle_timeout",
                                                      "server_lifetime",
                                                      "server_connect_timeout",
                          "server_check_delay",
                                                      "client_idle_timeout",
                                                      "idle_transaction_timeout",
                                                      "client_login_timeout",
                                                      "shutdown_timeout",
                                                      "server_reset_query",
                                                      "server_reset_query_always",
                                                      "max_prepared_statements",
                                                      "log_level",
                                                      "replica_ban_time",
                                                      "lag_poll_interval",
                                                      "replica_fallback",
                                                      "unknown_functions_are_reads",
                                                      "health_check_period",
                                                      "failover_wait_timeout",
                                                      "admin_users",
                                                      "metrics_addr",
                                                      "metrics_port",
                                                      "client_tls_mode",
                                                      "client_tls_key_file",
                                                      "client_tls_cert_file",
                                                      "client_tls_ca_file",
                                                      "server_tls_mode",
                                                      "server_tls_ca_file",
                                                      "capture",
                                                      "capture_samples",
                                                      "capture_max_queries",
                                                      "capture_file",
                                                      "capture_interval",
                                                      "slow_query_threshold"};
// Files that have no default (unset means "none"): the example shows them commented out.
const std::set<std::string_view> kUnsetByDefault = {"client_tls_key_file", "client_tls_cert_file",
                                                    "client_tls_ca_file", "server_tls_ca_file", "capture_file"};
const std::vector<std::string_view> kAllDatabaseKeys = {
    "host",           "port",          "dbname",           "hosts",            "patroni_urls",     "patroni_ca_file",  "patroni_cert_file", "patroni_key_file",
    "pool_size",      "min_pool_size",
    "pool_mode",      "max_db_connections", "replicas",    "read_write_split", "load_balance",
    "max_replica_lag", "read_your_writes", "write_functions", "read_only_functions"};

std::string read_file(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A config that is valid on its own, plus `extra` lines in [pooler].
std::string with_pooler(const std::string& extra) {
  return "[pooler]\nauth_type = \"trust\"\n" + extra + "\n[databases.app]\n";
}

std::shared_ptr<const Config> parse_ok(const std::string& text,
                                       const std::string& path = "t.toml") {
  auto r = parse_config(text, path);
  EXPECT_TRUE(r.errors.empty()) << format_errors(r.errors);
  EXPECT_TRUE(r.config != nullptr);
  return r.config;
}

TEST(Example, ParsesWithoutErrors) {
  auto r = load_config(kExample);
  ASSERT_TRUE(r.errors.empty()) << format_errors(r.errors);
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->path, kExample);
  EXPECT_EQ(r.config->databases.size(), 3u);
}

TEST(Example, SetsEveryPoolerKeyExplicitly) {
  EXPECT_EQ(std::vector<std::string_view>(pooler_keys().begin(), pooler_keys().end()),
            kAllPoolerKeys);
  // Looked up in the TOML tree, so a key that only appears in a comment does not count.
  toml::table t = toml::parse_file(kExample);
  const toml::table* pooler = t["pooler"].as_table();
  ASSERT_NE(pooler, nullptr);
  const std::string text = read_file(kExample);
  for (std::string_view key : kAllPoolerKeys) {
    if (kUnsetByDefault.contains(key))
      EXPECT_THAT(text, HasSubstr("\n# " + std::string(key) + " = ")) << key;
    else
      EXPECT_TRUE(pooler->contains(key)) << key;
  }
  EXPECT_EQ(pooler->size(), kAllPoolerKeys.size() - kUnsetByDefault.size());
}

TEST(Example, SetsEveryDatabaseKeySomewhere) {
  EXPECT_EQ(std::vector<std::string_view>(database_keys().begin(), database_keys().end()),
            kAllDatabaseKeys);
  toml::table t = toml::parse_file(kExample);
  std::set<std::string> seen;
  for (auto&& [name, db] : *t["databases"].as_table()) {
    for (auto&& [key, value] : *db.as_table()) seen.insert(std::string(key.str()));
  }
  for (std::string_view key : kAllDatabaseKeys) EXPECT_TRUE(seen.contains(std::string(key))) << key;
}

// The example documents the defaults: each [pooler] value must be what the code uses anyway.
TEST(Example, ShowsTheDefaults) {
  auto r = load_config(kExample);
  ASSERT_TRUE(r.config);
  const PoolerSettings defaults;
  for (std::string_view key : kAllPoolerKeys) {
    if (key == "auth_file") continue;  // no default: the example points at config/users.txt
    EXPECT_EQ(pooler_value(r.config->pooler, key), pooler_value(defaults, key)) << key;
  }
  EXPECT_EQ(r.config->pooler.auth_file, std::string(PGOPT_SOURCE_DIR) + "/config/users.txt");
}

TEST(Docs, DescribeEveryKey) {
  const std::string doc = read_file(std::string(PGOPT_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_FALSE(doc.empty());
  for (std::string_view key : kAllPoolerKeys) {
    EXPECT_THAT(doc, HasSubstr("`" + std::string(key) + "`")) << key;
  }
  for (std::string_view key : kAllDatabaseKeys) {
    EXPECT_THAT(doc, HasSubstr("`" + std::string(key) + "`")) << key;
  }
}

// The error example in the docs is real output: the bad_docs_example golden file's.
TEST(Docs, ErrorExampleIsRealOutput) {
  const std::string doc = read_file(std::string(PGOPT_SOURCE_DIR) + "/docs/configuration.md");
  const std::string fixture = std::string(PGOPT_FIXTURES) + "/config/bad_docs_example.toml";
  std::string expected = format_errors(parse_config(read_file(fixture), "pgopt.toml").errors);
  ASSERT_FALSE(expected.empty());
  EXPECT_THAT(doc, HasSubstr("```\n" + expected + "```\n"));
}

TEST(Parse, ValuesLandInTheRightFields) {
  auto c = parse_ok(R"(
[pooler]
listen_addr = "0.0.0.0"
listen_port = 7000
workers = 8
pool_mode = "session"
default_pool_size = 15
min_pool_size = 3
max_client_conn = 500
max_db_connections = 60
auth_type = "md5"
auth_file = "/etc/pgopt/users.txt"
max_packet_size = "8kB"
query_wait_timeout = 1
server_idle_timeout = 2.5
server_lifetime = "3min"
server_connect_timeout = "4s"
client_idle_timeout = "5h"
idle_transaction_timeout = "6ms"
client_login_timeout = "7d"
shutdown_timeout = 8
server_reset_query = "RESET ALL"
log_level = "warning"

[databases.app]
)");
  ASSERT_TRUE(c);
  const PoolerSettings& s = c->pooler;
  EXPECT_EQ(s.listen_addr, "0.0.0.0");
  EXPECT_EQ(s.listen_port, 7000);
  EXPECT_EQ(s.workers, 8);
  EXPECT_EQ(s.pool_mode, PoolMode::Session);
  EXPECT_EQ(s.default_pool_size, 15);
  EXPECT_EQ(s.min_pool_size, 3);
  EXPECT_EQ(s.max_client_conn, 500);
  EXPECT_EQ(s.max_db_connections, 60);
  EXPECT_EQ(s.auth_type, AuthType::Md5);
  EXPECT_EQ(s.auth_file, "/etc/pgopt/users.txt");
  EXPECT_EQ(s.max_packet_size, 8192u);
  EXPECT_EQ(s.query_wait_timeout, Millis(1'000));
  EXPECT_EQ(s.server_idle_timeout, Millis(2'500));
  EXPECT_EQ(s.server_lifetime, Millis(180'000));
  EXPECT_EQ(s.server_connect_timeout, Millis(4'000));
  EXPECT_EQ(s.client_idle_timeout, Millis(18'000'000));
  EXPECT_EQ(s.idle_transaction_timeout, Millis(6));
  EXPECT_EQ(s.client_login_timeout, Millis(604'800'000));
  EXPECT_EQ(s.shutdown_timeout, Millis(8'000));
  EXPECT_EQ(s.server_reset_query, "RESET ALL");
  EXPECT_EQ(s.log_level, LogLevel::Warning);
}

TEST(Parse, EnumSpellings) {
  EXPECT_EQ(parse_ok(with_pooler("pool_mode = \"transaction\""))->pooler.pool_mode,
            PoolMode::Transaction);
  auto scram =
      parse_ok("[pooler]\nauth_type = \"scram-sha-256\"\nauth_file = \"u\"\n[databases.a]\n");
  ASSERT_TRUE(scram);
  EXPECT_EQ(scram->pooler.auth_type, AuthType::ScramSha256);
  for (auto [text, level] : {std::pair{"debug", LogLevel::Debug}, std::pair{"info", LogLevel::Info},
                             std::pair{"error", LogLevel::Error}}) {
    auto c = parse_ok(with_pooler(std::string("log_level = \"") + text + "\""));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->pooler.log_level, level);
    EXPECT_EQ(to_string(level), text);
  }
  EXPECT_EQ(to_string(AuthType::ScramSha256), "scram-sha-256");
  EXPECT_EQ(to_string(PoolMode::Session), "session");
}

TEST(Parse, LimitsAreInclusive) {
  for (const char* ok : {"listen_port = 1", "listen_port = 65535", "workers = 1", "workers = 64",
                         "max_packet_size = 1024", "max_packet_size = \"1GB\"",
                         "max_client_conn = 1", "default_pool_size = 1", "min_pool_size = 1",
                         "query_wait_timeout = 0", "query_wait_timeout = \"365d\""}) {
    EXPECT_TRUE(parse_config(with_pooler(ok), "t.toml").errors.empty()) << ok;
  }
  for (const char* bad : {"listen_port = 65536", "workers = 0", "max_packet_size = 1023",
                          "max_packet_size = 1073741825", "max_packet_size = -1",
                          "query_wait_timeout = 31536001", "default_pool_size = 2147483648"}) {
    auto r = parse_config(with_pooler(bad), "t.toml");
    EXPECT_EQ(r.errors.size(), 1u) << bad;
    EXPECT_FALSE(r.config) << bad;
  }
}

TEST(Parse, DatabaseDefaultsAndOverrides) {
  auto c = parse_ok(R"(
[pooler]
auth_type = "trust"
default_pool_size = 12
min_pool_size = 1
pool_mode = "transaction"
max_db_connections = 30

[databases.app]

[databases.Reports]
host = "replica"
port = 5433
dbname = "reporting"
pool_size = 4
min_pool_size = 0
pool_mode = "session"
max_db_connections = 0
)");
  ASSERT_TRUE(c);
  const DatabaseConfig* app = c->find_database("app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->name, "app");
  EXPECT_EQ(app->dbname, "app");
  EXPECT_EQ(app->host, "127.0.0.1");
  EXPECT_EQ(app->port, 5432);
  EXPECT_EQ(app->line, 9);
  EXPECT_FALSE(app->pool_size);
  EXPECT_EQ(c->pool_size(*app), 12);
  EXPECT_EQ(c->min_pool_size(*app), 1);
  EXPECT_EQ(c->pool_mode(*app), PoolMode::Transaction);
  EXPECT_EQ(c->max_db_connections(*app), 30);

  const DatabaseConfig* rep = c->find_database("Reports");
  ASSERT_NE(rep, nullptr);
  EXPECT_EQ(rep->line, 11);
  EXPECT_EQ(rep->host, "replica");
  EXPECT_EQ(rep->port, 5433);
  EXPECT_EQ(rep->dbname, "reporting");
  EXPECT_EQ(c->pool_size(*rep), 4);
  EXPECT_EQ(c->min_pool_size(*rep), 0);  // an explicit 0 overrides the [pooler] 1
  EXPECT_EQ(c->pool_mode(*rep), PoolMode::Session);
  EXPECT_EQ(c->max_db_connections(*rep), 0);

  // Database names are case-sensitive, like PostgreSQL's.
  EXPECT_EQ(c->find_database("reports"), nullptr);
  EXPECT_EQ(c->find_database("APP"), nullptr);
  EXPECT_EQ(c->find_database(""), nullptr);
}

TEST(Parse, NamesDifferingOnlyInCaseAreDistinct) {
  auto c = parse_ok(
      "[pooler]\nauth_type = \"trust\"\n[databases.app]\nport = 1\n"
      "[databases.APP]\nport = 2\n");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->databases.size(), 2u);
  EXPECT_EQ(c->find_database("app")->port, 1);
  EXPECT_EQ(c->find_database("APP")->port, 2);
}

TEST(Parse, AuthFileIsRelativeToTheConfigFile) {
  const std::string text = "[pooler]\nauth_file = \"users.txt\"\n[databases.app]\n";
  EXPECT_EQ(parse_ok(text, "/etc/pgopt/pgopt.toml")->pooler.auth_file, "/etc/pgopt/users.txt");
  EXPECT_EQ(parse_ok(text, "conf/pgopt.toml")->pooler.auth_file, "conf/users.txt");
  EXPECT_EQ(parse_ok(text, "pgopt.toml")->pooler.auth_file, "users.txt");
  const std::string up = "[pooler]\nauth_file = \"../secret/u.txt\"\n[databases.app]\n";
  EXPECT_EQ(parse_ok(up, "/etc/pgopt/pgopt.toml")->pooler.auth_file, "/etc/secret/u.txt");
  const std::string abs = "[pooler]\nauth_file = \"/var/lib/u.txt\"\n[databases.app]\n";
  EXPECT_EQ(parse_ok(abs, "/etc/pgopt/pgopt.toml")->pooler.auth_file, "/var/lib/u.txt");
}

TEST(Parse, TrustNeedsNoAuthFileButOthersDo) {
  EXPECT_TRUE(parse_ok(with_pooler(""))->pooler.auth_file.empty());
  for (const char* type : {"md5", "scram-sha-256"}) {
    auto r = parse_config(std::string("[pooler]\nauth_type = \"") + type + "\"\n[databases.a]\n",
                          "t.toml");
    ASSERT_EQ(r.errors.size(), 1u) << type;
    EXPECT_EQ(r.errors[0].line, 2);
    EXPECT_THAT(r.errors[0].message, HasSubstr("needs pooler.auth_file"));
  }
}

TEST(Parse, CollectsEveryErrorAtOnce) {
  auto r = parse_config(R"([pooler]
listen_port = 0
workers = "two"
pool_mode = "statement"
bogus = 1
[databases.app]
port = -1
hots = "x"
)",
                        "multi.toml");
  EXPECT_FALSE(r.config);
  std::vector<int> lines;
  for (const auto& e : r.errors) {
    EXPECT_EQ(e.file, "multi.toml");
    lines.push_back(e.line);
  }
  // Sorted by line, though toml++ hands keys over alphabetically; the default scram-sha-256
  // without auth_file is reported at the [pooler] header.
  EXPECT_THAT(lines, ElementsAre(1, 2, 3, 4, 5, 7, 8));
}

TEST(Parse, WholeFileErrorsComeLast) {
  auto r = parse_config("[pooler]\nauth_type = \"trust\"\nworkers = 0\n", "t.toml");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[1].line, 0);
  EXPECT_EQ(r.errors[1].to_string(),
            "t.toml: no [databases] defined: clients would have nothing to connect to");
}

TEST(Parse, MessagesQuoteWhatTheyEcho) {
  auto r = parse_config("[pooler]\nauth_type = \"trust\"\n\"bad\\nkey\" = 1\n"
                        "log_level = \"lo\\\"ud\"\n[databases.\"a b\"]\nport = 0\n",
                        "q.toml");
  EXPECT_EQ(format_errors(r.errors),
            "q.toml:3: unknown key \"bad\\u000Akey\" in [pooler]\n"
            "q.toml:4: pooler.log_level: \"lo\\\"ud\" is not one of \"debug\", \"info\", "
            "\"warning\", \"error\"\n"
            "q.toml:6: databases.\"a b\".port: 0 is out of range (must be between 1 and 65535)\n");
}

TEST(Parse, GarbageNeverThrows) {
  for (std::string text : {std::string("\0\0\0", 3), std::string("\xff\xfe[pooler]"),
                           std::string("[[[["), std::string("a = \"unterminated"),
                           std::string(10000, '['), std::string("x = ") + std::string(5000, '[')}) {
    ConfigResult r;
    EXPECT_NO_THROW(r = parse_config(text, "g.toml"));
    EXPECT_FALSE(r.errors.empty());
    EXPECT_FALSE(r.config);
  }
}

TEST(ConfigErrorText, FileLineMessage) {
  EXPECT_EQ((ConfigError{"a.toml", 3, "bad"}).to_string(), "a.toml:3: bad");
  EXPECT_EQ((ConfigError{"a.toml", 0, "bad"}).to_string(), "a.toml: bad");
  EXPECT_EQ(format_errors({{"a", 1, "x"}, {"a", 0, "y"}}), "a:1: x\na: y\n");
  EXPECT_EQ(format_errors({}), "");
}

TEST(Load, MissingFileIsOneWholeFileError) {
  auto r = load_config("/nonexistent/pgopt.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.errors[0].to_string(),
            "/nonexistent/pgopt.toml: cannot read config file: No such file or directory");
}

TEST(Load, DirectoryIsOneWholeFileError) {
  auto r = load_config(PGOPT_FIXTURES);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 0);
  EXPECT_THAT(r.errors[0].message, HasSubstr("Is a directory"));
}

TEST(Load, ErrorsNameTheFileAsGiven) {
  const std::string path = std::string(PGOPT_FIXTURES) + "/config/bad_enums.toml";
  auto r = load_config(path);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].file, path);
  EXPECT_EQ(r.errors[0].line, 2);
}

TEST(Reload, Classification) {
  for (const char* key : {"listen_addr", "listen_port", "workers", "max_packet_size",
                          "pooler.listen_port", "pooler.workers"}) {
    EXPECT_FALSE(reloadable(key)) << key;
  }
  for (const char* key : {"pool_mode",
                          "default_pool_size",
                          "min_pool_size",
                          "max_client_conn",
                          "max_db_connections",
                          "auth_type",
                          "auth_file",
                          "query_wait_timeout",
                          "server_idle_timeout",
                          "server_lifetime",
                          "server_connect_timeout",
                          "server_check_delay",
                          "client_idle_timeout",
                          "idle_transaction_timeout",
                          "client_login_timeout",
                          "shutdown_timeout",
                          "server_reset_query",
                          "max_prepared_statements",
                          "log_level",
                          "replica_ban_time",
                          "lag_poll_interval",
                          "replica_fallback",
                          "unknown_functions_are_reads",
                          "health_check_period",
                          "failover_wait_timeout",
                          "hosts",
                          "patroni_urls",
                          "replicas",
                          "read_write_split",
                          "databases.app.max_replica_lag",
                          "host",
                          "port",
                          "dbname",
                          "pool_size",
                          "pooler.log_level",
                          "databases.app",
                          "databases.app.host",
                          "databases.x.y.port"}) {
    EXPECT_TRUE(reloadable(key)) << key;
  }
  for (const char* key : {"", "bogus", "pooler.bogus", "pooler.", "databases.", "pooler"}) {
    EXPECT_FALSE(reloadable(key)) << key;
  }
  // Every key has a classification that matches the documented restart-only list.
  for (std::string_view key : pooler_keys()) {
    const bool restart = key == "listen_addr" || key == "listen_port" || key == "so_reuseport" ||
                         key == "peer_id" || key == "workers" ||
                         key == "max_packet_size" || key == "metrics_addr" || key == "metrics_port";
    EXPECT_EQ(reloadable(key), !restart) << key;
  }
}

TEST(Reload, ChangedKeys) {
  auto before = parse_ok(R"(
[pooler]
auth_type = "trust"
listen_port = 6432
default_pool_size = 20
[databases.app]
[databases.gone]
[databases.same]
pool_size = 20
)");
  auto after = parse_ok(R"(
[pooler]
auth_type = "trust"
listen_port = 6433
default_pool_size = 20
log_level = "debug"
[databases.app]
host = "elsewhere"
pool_size = 5
[databases.new]
[databases.same]
)");
  ASSERT_TRUE(before && after);
  // databases.same: pool_size 20 explicit before, inherited 20 after: effective value unchanged.
  EXPECT_THAT(changed_keys(*before, *after),
              ElementsAre("pooler.listen_port", "pooler.log_level", "databases.app.host",
                          "databases.app.pool_size", "databases.gone", "databases.new"));
  EXPECT_TRUE(changed_keys(*before, *before).empty());
  std::vector<std::string> blocked;
  for (const auto& k : changed_keys(*before, *after)) {
    if (!reloadable(k)) blocked.push_back(k);
  }
  EXPECT_THAT(blocked, ElementsAre("pooler.listen_port"));
}

TEST(Reload, PeersOfOthersReloadOwnEntryNeedsARestart) {
  const std::string head = "[pooler]\nauth_type = \"trust\"\npeer_id = 1\n[databases.app]\n[peers]\n";
  auto a = parse_ok(head + "1 = \"127.0.0.1:6501\"\n2 = \"127.0.0.1:6502\"\n");
  auto b = parse_ok(head + "1 = \"127.0.0.1:6501\"\n2 = \"127.0.0.1:7502\"\n3 = \"127.0.0.1:6503\"\n");
  auto c = parse_ok(head + "1 = \"127.0.0.1:7501\"\n2 = \"127.0.0.1:6502\"\n");
  ASSERT_TRUE(a && b && c);
  EXPECT_THAT(changed_keys(*a, *b), ElementsAre("peers.2", "peers.3"));
  EXPECT_TRUE(reloadable("peers.2"));
  EXPECT_THAT(changed_keys(*a, *c), ElementsAre("peers.own"));
  EXPECT_FALSE(reloadable("peers.own"));
  EXPECT_EQ(b->find_peer(3)->port, 6503);
  EXPECT_EQ(a->own_peer()->port, 6501);
  EXPECT_EQ(a->find_peer(3), nullptr);
}

TEST(Reload, InheritedChangeShowsOnEveryDatabase) {
  auto a = parse_ok(with_pooler("default_pool_size = 10"));
  auto b = parse_ok(with_pooler("default_pool_size = 11"));
  EXPECT_THAT(changed_keys(*a, *b),
              ElementsAre("pooler.default_pool_size", "databases.app.pool_size"));
}

TEST(Dump, RoundTripsToTheSameConfig) {
  for (const std::string& path :
       {kExample, std::string(PGOPT_FIXTURES) + "/config/good_overrides.toml"}) {
    auto first = load_config(path);
    ASSERT_TRUE(first.config) << format_errors(first.errors);
    const std::string text = dump_config(*first.config);
    // Both paths are absolute, so the already resolved auth_file stays put when parsed again.
    auto second = parse_config(text, "dump.toml");
    ASSERT_TRUE(second.config) << format_errors(second.errors) << text;
    EXPECT_TRUE(changed_keys(*first.config, *second.config).empty()) << text;
    EXPECT_EQ(dump_config(*second.config), text);
  }
}

TEST(Dump, QuotesAwkwardNames) {
  auto c = parse_ok(
      "[pooler]\nauth_type = \"trust\"\nserver_reset_query = \"SET x = '\\\\'\"\n"
      "[databases.\"a b\\\"c\"]\n");
  ASSERT_TRUE(c);
  const std::string text = dump_config(*c);
  EXPECT_THAT(text, HasSubstr("[databases.\"a b\\\"c\"]\n"));
  EXPECT_THAT(text, HasSubstr("server_reset_query = \"SET x = '\\\\'\"\n"));
  auto again = parse_config(text, "d.toml");
  ASSERT_TRUE(again.config) << format_errors(again.errors);
  EXPECT_NE(again.config->find_database("a b\"c"), nullptr);
  EXPECT_EQ(again.config->pooler.server_reset_query, "SET x = '\\'");
}

}  // namespace
