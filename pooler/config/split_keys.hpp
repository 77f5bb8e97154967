// Internal to pooler/config: the read/write splitting keys of [databases.NAME] (replicas, lag limit,
// function lists) and their cross-key checks.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/config/reader.hpp"

namespace pgopt::pooler::config_detail {

bool read_bool(Reader& r, const toml::node& n, const std::string& key, bool& out);

// An array of { host, port, weight } tables (inline or [[databases.NAME.replicas]]). A replica
// without a port gets port 0 here; check_split() gives it the database's port.
bool read_replicas(Reader& r, const toml::node& n, const std::string& key, std::vector<ReplicaConfig>& out);

// A duration with a unit ("1s", "500ms") or a size with a unit ("16MB"); a bare number would be
// ambiguous and is refused.
bool read_lag_limit(Reader& r, const toml::node& n, const std::string& key, LagLimit& out);

// An array of function names, "fn" or "schema.fn", each a plain identifier per part.
bool read_function_list(Reader& r, const toml::node& n, const std::string& key, std::vector<std::string>& out);

// After a whole database table: default replica ports, then duplicates, a replica that is the
// primary itself, read_write_split without replicas, a function in both lists. `qualified` is
// "databases.NAME"; `lines` maps each key read to its line. Returns false after any error.
bool check_split(Reader& r, const std::string& qualified, DatabaseConfig& db,
                 const std::map<std::string_view, int, std::less<>>& lines);

// TOML text of the split keys' values, for dump_config and changed_keys.
std::string replicas_text(const std::vector<ReplicaConfig>& replicas);
std::string lag_limit_text(const LagLimit& lag);
std::string string_list_text(const std::vector<std::string>& names);

}  // namespace pgopt::pooler::config_detail
