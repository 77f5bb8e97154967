// Internal to pooler/config: the `hosts` key of [databases.NAME] (the members of a multi-host database).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/config/reader.hpp"

namespace pgopt::pooler::config_detail {

// An array of "host:port" or "host" strings ("[::1]:5432" for IPv6); [] is the same as no hosts. A member without a port gets
// port 0 here; check_hosts() gives it the database's port.
bool read_hosts(Reader& r, const toml::node& n, const std::string& key, std::vector<HostConfig>& out);

// After a whole database table: default ports, duplicates, `hosts` together with `host`. Then
// host/port become the first member, so code that knows one host still finds one. `lines` maps each
// key read to its line. Returns false after any error.
bool check_hosts(Reader& r, const std::string& qualified, DatabaseConfig& db,
                 const std::map<std::string_view, int, std::less<>>& lines);

// An array of "http://host:port" strings (port 8008 when left out; a trailing "/" is allowed, no
// other path); https is refused, as pgopt speaks plain HTTP to Patroni. check_hosts() requires
// `hosts` beside it (its members are matched to Patroni's by host:port).
bool read_patroni_urls(Reader& r, const toml::node& n, const std::string& key, std::vector<PatroniUrl>& out);

// TOML text of a patroni_urls list, for dump_config.
std::string patroni_urls_text(const std::vector<PatroniUrl>& urls);

// TOML text of a hosts list, for dump_config and changed_keys.
std::string hosts_text(const std::vector<HostConfig>& hosts);

}  // namespace pgopt::pooler::config_detail
