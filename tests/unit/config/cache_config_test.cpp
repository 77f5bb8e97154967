// [cache] and [[cache.rules]]: values land in CacheConfig, every bad value is an error at its own
// line, the docs table lists the parser's keys, dump round-trips, and a change needs a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pooler/config/cache_keys.hpp"
#include "pooler/config/config.hpp"

using namespace pgopt::pooler;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

namespace {

const std::string kHead = "[pooler]\nauth_type = \"trust\"\n[databases.app]\n";  // lines 1-3

ConfigResult parse(const std::string& cache) { return parse_config(kHead + cache, "c.toml"); }

// The single error of a config whose [cache] part is `cache`, as "line: message".
std::string only_error(const std::string& cache) {
  auto r = parse(cache);
  EXPECT_FALSE(r.config) << cache;
  if (r.errors.size() != 1) {
    ADD_FAILURE() << "expected one error for:\n" << cache << "\ngot:\n" << format_errors(r.errors);
    return {};
  }
  return std::to_string(r.errors[0].line) + ": " + r.errors[0].message;
}

TEST(CacheConfig, OffByDefaultWithDefaults) {
  auto r = parse("");
  ASSERT_TRUE(r.config) << format_errors(r.errors);
  const CacheConfig& c = r.config->cache;
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.max_memory, 64u << 20);
  EXPECT_EQ(c.max_entry_size, 1u << 20);
  EXPECT_TRUE(c.rules.empty());
  EXPECT_EQ(c.line, 0);
  EXPECT_EQ(c.invalidation, CacheInvalidation::Writes);
  EXPECT_EQ(c.publication, "pgopt_cache");
  EXPECT_EQ(c.slot_name, "");
}

TEST(CacheConfig, LogicalInvalidationKeys) {
  auto r = parse("[cache]\nenabled = true\ninvalidation = \"logical\"\npublication = \"Shop Pub\"\n"
                 "slot_name = \"pgopt_shop_1\"\n");
  ASSERT_TRUE(r.config) << format_errors(r.errors);
  EXPECT_EQ(r.config->cache.invalidation, CacheInvalidation::Logical);
  EXPECT_EQ(r.config->cache.publication, "Shop Pub");
  EXPECT_EQ(r.config->cache.slot_name, "pgopt_shop_1");
  EXPECT_EQ(only_error("[cache]\ninvalidation = \"logicl\"\n"),
            "5: cache.invalidation: \"logicl\" is not one of \"writes\", \"logical\"; did you mean \"logical\"?");
  EXPECT_EQ(only_error("[cache]\nslot_name = \"Bad-Slot\"\n"),
            "5: cache.slot_name: \"Bad-Slot\" is not a replication slot name (1 to 63 lower-case letters, digits or "
            "underscores)");
  EXPECT_THAT(only_error("[cache]\npublication = \"\"\n"), HasSubstr("5: cache.publication: must not be empty"));
  EXPECT_THAT(only_error("[cache]\npublication = \"" + std::string(64, 'p') + "\"\n"),
              HasSubstr("5: cache.publication: \"ppp"));
}

TEST(CacheConfig, ValuesLandInTheRightFields) {
  auto r = parse(R"([cache]
enabled = true
max_memory = "2GB"
max_entry_size = 65536
stable_functions = ["app.plan_limits", "tax"]

[[cache.rules]]
name = "catalog"
tables = ["products", "app.prices"]
ttl = "30s"

[[cache.rules]]
fingerprints = ["0123456789abcdef"]
database = "app"
user = "web"
ttl = 2.5
)");
  ASSERT_TRUE(r.config) << format_errors(r.errors);
  const CacheConfig& c = r.config->cache;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.max_memory, 2ull << 30);
  EXPECT_EQ(c.max_entry_size, 65536u);
  EXPECT_EQ(c.stable_functions, (std::vector<std::string>{"app.plan_limits", "tax"}));
  EXPECT_EQ(c.line, 4);
  ASSERT_EQ(c.rules.size(), 2u);
  EXPECT_EQ(c.rules[0].name, "catalog");
  EXPECT_EQ(c.rules[0].tables, (std::vector<std::string>{"products", "app.prices"}));
  EXPECT_EQ(c.rules[0].ttl, 30s);
  EXPECT_EQ(c.rules[0].line, 10);
  EXPECT_EQ(c.rules[1].name, "rule2");  // its position, 1-based
  EXPECT_EQ(c.rules[1].fingerprints, std::vector<std::string>{"0123456789abcdef"});
  EXPECT_EQ(c.rules[1].database, "app");
  EXPECT_EQ(c.rules[1].user, "web");
  EXPECT_EQ(c.rules[1].ttl, 2500ms);
}

// One test per error: each names the key and sits at the offending line (the [cache] header is
// line 4; a rule's own errors sit at its [[cache.rules]] header).
TEST(CacheConfig, EnabledMustBeABoolean) {
  EXPECT_THAT(only_error("[cache]\nenabled = \"yes\"\n"), HasSubstr("5: cache.enabled: expected a boolean"));
}

TEST(CacheConfig, UnknownKeysAreErrorsWithASuggestion) {
  EXPECT_EQ(only_error("[cache]\nmax_memroy = \"1GB\"\n"),
            "5: unknown key \"max_memroy\" in [cache]; did you mean \"max_memory\"?");
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\ntables = [\"t\"]\nttl = \"1s\"\ntl = 1\n"),
            "8: unknown key \"tl\" in [[cache.rules]]; did you mean \"ttl\"?");
}

TEST(CacheConfig, CacheMustBeATable) {
  auto r = parse_config("cache = 1\n" + kHead, "c.toml");
  ASSERT_EQ(r.errors.size(), 1u) << format_errors(r.errors);
  EXPECT_EQ(r.errors[0].to_string(), "c.toml:1: cache: expected a table ([cache]), got an integer");
}

TEST(CacheConfig, MaxMemoryRange) {
  EXPECT_EQ(only_error("[cache]\nmax_memory = \"512kB\"\n"),
            "5: cache.max_memory: 512kB is out of range (must be between 1MB and 1TB)");
  EXPECT_THAT(only_error("[cache]\nmax_memory = \"lots\"\n"), HasSubstr("5: cache.max_memory: "));
  EXPECT_THAT(only_error("[cache]\nmax_memory = -1\n"), HasSubstr("5: cache.max_memory: -1 is negative"));
}

TEST(CacheConfig, MaxEntrySizeRangeAndNotAboveMaxMemory) {
  EXPECT_EQ(only_error("[cache]\nmax_entry_size = 10\n"),
            "5: cache.max_entry_size: 10B is out of range (must be between 1kB and 1GB)");
  EXPECT_EQ(only_error("[cache]\nmax_memory = \"4MB\"\nmax_entry_size = \"8MB\"\n"),
            "6: cache.max_entry_size: 8MB is more than cache.max_memory (4MB)");
}

TEST(CacheConfig, StableFunctionsAreFunctionNames) {
  EXPECT_THAT(only_error("[cache]\nstable_functions = [\"app.f\", \"not a name\"]\n"),
              HasSubstr("5: cache.stable_functions[1]: \"not a name\" is not a function name"));
}

TEST(CacheConfig, RulesMustBeAnArrayOfTables) {
  EXPECT_THAT(only_error("[cache]\nrules = \"all\"\n"),
              HasSubstr("5: cache.rules: expected an array of tables ([[cache.rules]])"));
}

TEST(CacheConfig, RuleTtlIsRequiredAndPositive) {
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\ntables = [\"t\"]\n"),
            "5: cache.rules[0]: ttl is required (how long an entry may be served, e.g. ttl = \"5s\")");
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\ntables = [\"t\"]\nttl = 0\n"),
            "7: cache.rules[0].ttl: 0s is out of range (must be between 1ms and 7d)");
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\ntables = [\"t\"]\nttl = \"8d\"\n"),
            "7: cache.rules[0].ttl: 8d is out of range (must be between 1ms and 7d)");
  EXPECT_THAT(only_error("[cache]\n[[cache.rules]]\ntables = [\"t\"]\nttl = \"5 parsecs\"\n"),
              HasSubstr("7: cache.rules[0].ttl: \"5 parsecs\" has an unknown unit"));
}

TEST(CacheConfig, RuleNeedsACriterion) {
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\nname = \"everything\"\nttl = \"1s\"\n"),
            "5: cache.rules[0]: a rule needs at least one of fingerprints, tables, database, user");
}

TEST(CacheConfig, RuleFingerprintsAreSixteenLowerHexDigits) {
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\nfingerprints = [\"0123456789ABCDEF\"]\nttl = \"1s\"\n"),
            "6: cache.rules[0].fingerprints[0]: \"0123456789ABCDEF\" is not a fingerprint (16 lower-case hex digits, "
            "as SHOW QUERIES prints them)");
  EXPECT_THAT(only_error("[cache]\n[[cache.rules]]\nfingerprints = [42]\nttl = \"1s\"\n"),
              HasSubstr("6: cache.rules[0].fingerprints[0]: expected a string, got an integer"));
}

TEST(CacheConfig, RuleTablesAreNames) {
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\ntables = [\"a.\"]\nttl = \"1s\"\n"),
            "6: cache.rules[0].tables[0]: \"a.\" is not a table name (\"name\" or \"schema.name\")");
  EXPECT_THAT(only_error("[cache]\n[[cache.rules]]\ntables = \"t\"\nttl = \"1s\"\n"),
              HasSubstr("6: cache.rules[0].tables: expected an array of strings, each a table name"));
}

TEST(CacheConfig, RuleNamesAreUniqueAndNotEmpty) {
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\nname = \"a\"\nuser = \"u\"\nttl = 1\n"
                       "[[cache.rules]]\nname = \"a\"\nuser = \"v\"\nttl = 1\n"),
            "9: cache.rules[1].name: \"a\" is already the name of another rule");
  EXPECT_THAT(only_error("[cache]\n[[cache.rules]]\nname = \"\"\nuser = \"u\"\nttl = 1\n"),
              HasSubstr("6: cache.rules[0].name: must not be empty"));
}

TEST(CacheConfig, RuleDatabaseMustExist) {
  EXPECT_EQ(only_error("[cache]\n[[cache.rules]]\ndatabase = \"nope\"\nttl = 1\n"),
            "5: cache.rules[0].database: there is no [databases.nope]");
}

TEST(CacheConfig, AValidRuleNamingAnUnknownDatabaseIsReportedBesideOtherErrors) {
  auto r = parse("[cache]\nmax_memory = 1\n[[cache.rules]]\ndatabase = \"shop\"\nttl = 1\n");
  std::vector<std::string> errors;
  for (const auto& e : r.errors) errors.push_back(std::to_string(e.line) + ": " + e.message);
  EXPECT_EQ(errors, (std::vector<std::string>{"5: cache.max_memory: 1B is out of range (must be between 1MB and 1TB)",
                                              "6: cache.rules[0].database: there is no [databases.shop]"}));
}

TEST(CacheConfig, EveryErrorIsReportedAtOnce) {
  auto r = parse("[cache]\nenabled = 1\nmax_memory = \"1kB\"\n[[cache.rules]]\nttl = 0\n[[cache.rules]]\nuser = 1\nttl = 1\n");
  std::vector<int> lines;
  for (const auto& e : r.errors) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<int>{5, 6, 8, 10}));
}

TEST(CacheConfig, UnknownTopLevelTableSuggestsCache) {
  auto r = parse("[cahce]\nenabled = true\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("did you mean [cache]?"));
}

TEST(CacheConfig, DumpRoundTripsAndAChangeNeedsARestart) {
  auto first = parse("[cache]\nenabled = true\ninvalidation = \"logical\"\nslot_name = \"s1\"\npublication = \"p\"\n"
                     "max_memory = \"128MB\"\nstable_functions = [\"f\"]\n"
                     "[[cache.rules]]\nname = \"r\"\ntables = [\"a\", \"s.b\"]\nfingerprints = [\"00000000000000ff\"]\n"
                     "database = \"app\"\nuser = \"u\"\nttl = \"90s\"\n");
  ASSERT_TRUE(first.config) << format_errors(first.errors);
  const std::string text = dump_config(*first.config);
  auto second = parse_config(text, "dump.toml");
  ASSERT_TRUE(second.config) << format_errors(second.errors) << text;
  EXPECT_TRUE(second.config->cache == first.config->cache) << text;
  EXPECT_EQ(dump_config(*second.config), text);
  auto off = parse("");
  EXPECT_EQ(changed_keys(*off.config, *first.config), std::vector<std::string>{"cache"});
  EXPECT_FALSE(reloadable("cache"));
  EXPECT_EQ(dump_config(*off.config).find("[cache]"), std::string::npos);  // defaults are not printed
}

// docs/configuration.md's [cache] tables list exactly the parser's keys, in order.
std::vector<std::string> first_column_after(const std::string& doc, const std::string& marker) {
  std::vector<std::string> keys;
  size_t at = doc.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  std::istringstream in(doc.substr(at));
  std::string line;
  bool table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| key |", 0) == 0) {
      table = true;
      continue;
    }
    if (!table || line.rfind("|--", 0) == 0) continue;
    if (line.rfind("| `", 0) != 0) break;
    keys.push_back(line.substr(3, line.find('`', 3) - 3));
  }
  return keys;
}

TEST(CacheConfig, DocsListEveryKey) {
  std::ifstream in(std::string(PGOPT_SOURCE_DIR) + "/docs/configuration.md", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  const std::string doc = s.str();
  auto cache_keys = config_detail::cache_keys();
  auto rule_keys = config_detail::cache_rule_keys();
  EXPECT_EQ(first_column_after(doc, "## `[cache]`"), std::vector<std::string>(cache_keys.begin(), cache_keys.end()));
  EXPECT_EQ(first_column_after(doc, "Each `[[cache.rules]]` entry"),
            std::vector<std::string>(rule_keys.begin(), rule_keys.end()));
}

}  // namespace
