// Internal to pooler/config: the [cache] table and its [[cache.rules]] (the result cache, issue 21,
// docs/result-cache.md), their checks and TOML text.
#pragma once

#include <map>
#include <string>

#include "pooler/config/reader.hpp"

namespace pgopt::pooler::config_detail {

// The keys [cache] and each [[cache.rules]] entry accept, in documentation order.
std::span<const std::string_view> cache_keys();
std::span<const std::string_view> cache_rule_keys();

// Reads [cache] into `out`, reporting each bad value at its line; returns false after any error.
// Checks within the table too: max_entry_size <= max_memory, rule names unique, every rule with a
// ttl and at least one criterion.
bool read_cache(Reader& r, const toml::node& node, CacheConfig& out);

// A rule's `database` must name a [databases.NAME] table.
bool check_cache_databases(Reader& r, const CacheConfig& cache, const std::map<std::string, DatabaseConfig, std::less<>>& dbs);

// The [cache] table and its rules as TOML, for dump_config; empty when `cache` is all defaults.
std::string cache_text(const CacheConfig& cache);

}  // namespace pgopt::pooler::config_detail
