// TOML text to a validated Config: every key checked for name, type and range, all errors kept.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

#include "pooler/config/config.hpp"
#include "pooler/config/cache_keys.hpp"
#include "pooler/config/peers.hpp"
#include "pooler/config/suggest.hpp"
#include "pooler/config/toml_text.hpp"
#include "pooler/config/units.hpp"
#include "pooler/config/reader.hpp"
#include "pooler/config/split_keys.hpp"
#include "pooler/config/hosts.hpp"

namespace pgopt::pooler {
namespace {

using namespace config_detail;

constexpr std::array<EnumName<PoolMode>, 2> kPoolModes{
    {{"session", PoolMode::Session}, {"transaction", PoolMode::Transaction}}};
constexpr std::array<EnumName<AuthType>, 3> kAuthTypes{
    {{"trust", AuthType::Trust}, {"md5", AuthType::Md5}, {"scram-sha-256", AuthType::ScramSha256}}};
constexpr std::array<EnumName<LogLevel>, 4> kLogLevels{{{"debug", LogLevel::Debug},
                                                        {"info", LogLevel::Info},
                                                        {"warning", LogLevel::Warning},
                                                        {"error", LogLevel::Error}}};

constexpr std::array<EnumName<LoadBalance>, 3> kLoadBalances{{{"round_robin", LoadBalance::RoundRobin},
                                                             {"least_connections", LoadBalance::LeastConnections},
                                                             {"random", LoadBalance::Random}}};
constexpr std::array<EnumName<ReplicaFallback>, 2> kReplicaFallbacks{
    {{"primary", ReplicaFallback::Primary}, {"error", ReplicaFallback::Error}}};

constexpr std::array<EnumName<ClientTlsMode>, 4> kClientTlsModes{{{"disable", ClientTlsMode::Disable},
                                                                 {"allow", ClientTlsMode::Allow},
                                                                 {"prefer", ClientTlsMode::Prefer},
                                                                 {"require", ClientTlsMode::Require}}};
constexpr std::array<EnumName<ServerTlsMode>, 5> kServerTlsModes{{{"disable", ServerTlsMode::Disable},
                                                                 {"prefer", ServerTlsMode::Prefer},
                                                                 {"require", ServerTlsMode::Require},
                                                                 {"verify-ca", ServerTlsMode::VerifyCa},
                                                                 {"verify-full", ServerTlsMode::VerifyFull}}};

// Polling WAL positions faster than this would be a load of its own; slower makes read-your-writes
// fall back to the primary for longer after each commit.
constexpr Millis kMinLagPoll{5}, kMaxLagPoll{60'000};
constexpr Millis kMinHealthCheck{100}, kMaxHealthCheck{3'600'000}, kZeroDuration{0}, kMaxFailoverWait{3'600'000};
constexpr Millis kMinBanTime{1'000};
constexpr Millis kMinCaptureInterval{1'000};

constexpr uint64_t kMinPacketSize = 1024;
constexpr uint64_t kMaxPacketSize = 1024ULL * 1024 * 1024;

// One reader per key kind, instantiated per field, so the key tables below stay one line a key.
template <class T>
struct MemberOf;
template <class S, class F>
struct MemberOf<F S::*> {
  using type = S;
};
template <auto Member>
using Owner = typename MemberOf<decltype(Member)>::type;

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// Assigns through a temporary so that an optional field stays unset when the value is refused.
template <auto Member, class Read>
bool read_into(Owner<Member>& s, Read read) {
  auto& field = s.*Member;
  if constexpr (IsOptional<std::remove_reference_t<decltype(field)>>::value) {
    typename std::remove_reference_t<decltype(field)>::value_type v{};
    if (!read(v)) return false;
    field = v;
    return true;
  } else {
    return read(field);
  }
}

template <auto Member, int64_t Lo, int64_t Hi = INT_MAX>
bool int_key(Reader& r, const toml::node& n, const std::string& k, Owner<Member>& s) {
  return read_into<Member>(s, [&](int& out) { return r.read_int(n, k, Lo, Hi, out); });
}

template <auto Member, bool AllowEmpty = false>
bool string_key(Reader& r, const toml::node& n, const std::string& k, Owner<Member>& s) {
  return r.read_string(n, k, AllowEmpty, s.*Member);
}

template <auto Member>
bool duration_key(Reader& r, const toml::node& n, const std::string& k, Owner<Member>& s) {
  return r.read_duration(n, k, s.*Member);
}

template <auto Member, const auto& Names>
bool enum_key(Reader& r, const toml::node& n, const std::string& k, Owner<Member>& s) {
  return read_into<Member>(s, [&](auto& out) { return r.read_enum(n, k, Names, out); });
}

template <auto Member>
bool bool_key(Reader& r, const toml::node& n, const std::string& k, Owner<Member>& s) {
  return read_bool(r, n, k, s.*Member);
}

template <auto Member, const Millis& Lo, const Millis& Hi = kMaxDuration>
bool bounded_duration_key(Reader& r, const toml::node& n, const std::string& k, Owner<Member>& s) {
  Millis v{};
  if (!r.read_duration(n, k, v)) return false;
  if (v < Lo || v > Hi) {
    r.error(line_of(n.source()), fmt::format("{}: {} is out of range (must be between {} and {})", k,
                                             toml_quote(format_duration(v)), format_duration(Lo),
                                             format_duration(Hi)));
    return false;
  }
  s.*Member = v;
  return true;
}

template <auto Member>
bool function_list_key(Reader& r, const toml::node& n, const std::string& k, Owner<Member>& s) {
  return read_function_list(r, n, k, s.*Member);
}

bool replicas_key(Reader& r, const toml::node& n, const std::string& k, DatabaseConfig& s) {
  return read_replicas(r, n, k, s.replicas);
}

bool hosts_key(Reader& r, const toml::node& n, const std::string& k, DatabaseConfig& s) {
  return read_hosts(r, n, k, s.hosts);
}

bool patroni_urls_key(Reader& r, const toml::node& n, const std::string& k, DatabaseConfig& s) {
  return read_patroni_urls(r, n, k, s.patroni_urls);
}

bool lag_key(Reader& r, const toml::node& n, const std::string& k, DatabaseConfig& s) {
  return read_lag_limit(r, n, k, s.max_replica_lag);
}

bool packet_size_key(Reader& r, const toml::node& n, const std::string& k, PoolerSettings& s) {
  return r.read_size(n, k, kMinPacketSize, kMaxPacketSize, s.max_packet_size);
}

bool large_message_memory_key(Reader& r, const toml::node& n, const std::string& k, PoolerSettings& s) {
  return r.read_size(n, k, 1024 * 1024, 2 * kMaxPacketSize, s.large_message_memory);
}

// An array of user names: non-empty strings, each at most once (a repeat is likely a typo of another).
bool admin_users_key(Reader& r, const toml::node& n, const std::string& k, PoolerSettings& s) {
  const toml::array* a = n.as_array();
  if (a == nullptr) {
    r.wrong_type(n, k, "an array of user names such as [\"admin\"]");
    return false;
  }
  std::vector<std::string> names;
  bool ok = true;
  for (size_t i = 0; i < a->size(); ++i) {
    std::string name;
    if (!r.read_string((*a)[i], fmt::format("{}[{}]", k, i), false, name)) {
      ok = false;
      continue;
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      r.error(line_of((*a)[i].source()), fmt::format("{}[{}]: {} is listed twice", k, i, toml_quote(name)));
      ok = false;
      continue;
    }
    names.push_back(std::move(name));
  }
  if (ok) s.admin_users = std::move(names);
  return ok;
}

template <class S>
struct Key {
  std::string_view name;
  bool (*read)(Reader&, const toml::node&, const std::string&, S&);
};

using P = PoolerSettings;
// Documentation order; pooler_keys() and the unknown-key hints come from this table.
constexpr std::array<Key<P>, 49> kPoolerKeys{{
    {"listen_addr", string_key<&P::listen_addr>},
    {"listen_port", int_key<&P::listen_port, 1, 65535>},
    {"so_reuseport", bool_key<&P::so_reuseport>},
    {"peer_id", int_key<&P::peer_id, 0, 16383>},
    {"workers", int_key<&P::workers, 1, 64>},
    {"pool_mode", enum_key<&P::pool_mode, kPoolModes>},
    {"default_pool_size", int_key<&P::default_pool_size, 1>},
    {"min_pool_size", int_key<&P::min_pool_size, 0>},
    {"max_client_conn", int_key<&P::max_client_conn, 1>},
    {"max_db_connections", int_key<&P::max_db_connections, 0>},
    {"auth_type", enum_key<&P::auth_type, kAuthTypes>},
    {"auth_file", string_key<&P::auth_file>},
    {"max_packet_size", packet_size_key},
    {"max_pipeline_depth", int_key<&P::max_pipeline_depth, 1, 1000000>},
    {"large_message_memory", large_message_memory_key},
    {"query_wait_timeout", duration_key<&P::query_wait_timeout>},
    {"server_idle_timeout", duration_key<&P::server_idle_timeout>},
    {"server_lifetime", duration_key<&P::server_lifetime>},
    {"server_connect_timeout", duration_key<&P::server_connect_timeout>},
    {"server_check_delay", duration_key<&P::server_check_delay>},
    {"client_idle_timeout", duration_key<&P::client_idle_timeout>},
    {"idle_transaction_timeout", duration_key<&P::idle_transaction_timeout>},
    {"client_login_timeout", duration_key<&P::client_login_timeout>},
    {"shutdown_timeout", duration_key<&P::shutdown_timeout>},
    {"server_reset_query", string_key<&P::server_reset_query, true>},
    {"server_reset_query_always", bool_key<&P::server_reset_query_always>},
    {"max_prepared_statements", int_key<&P::max_prepared_statements, 0, 100000>},
    {"log_level", enum_key<&P::log_level, kLogLevels>},
    {"replica_ban_time", bounded_duration_key<&P::replica_ban_time, kMinBanTime>},
    {"lag_poll_interval", bounded_duration_key<&P::lag_poll_interval, kMinLagPoll, kMaxLagPoll>},
    {"replica_fallback", enum_key<&P::replica_fallback, kReplicaFallbacks>},
    {"unknown_functions_are_reads", bool_key<&P::unknown_functions_are_reads>},
    {"health_check_period", bounded_duration_key<&P::health_check_period, kMinHealthCheck, kMaxHealthCheck>},
    {"failover_wait_timeout", bounded_duration_key<&P::failover_wait_timeout, kZeroDuration, kMaxFailoverWait>},
    {"admin_users", admin_users_key},
    {"metrics_addr", string_key<&P::metrics_addr>},
    {"metrics_port", int_key<&P::metrics_port, 0, 65535>},
    {"client_tls_mode", enum_key<&P::client_tls_mode, kClientTlsModes>},
    {"client_tls_key_file", string_key<&P::client_tls_key_file>},
    {"client_tls_cert_file", string_key<&P::client_tls_cert_file>},
    {"client_tls_ca_file", string_key<&P::client_tls_ca_file>},
    {"server_tls_mode", enum_key<&P::server_tls_mode, kServerTlsModes>},
    {"server_tls_ca_file", string_key<&P::server_tls_ca_file>},
    {"capture", bool_key<&P::capture>},
    {"capture_samples", bool_key<&P::capture_samples>},
    {"capture_max_queries", int_key<&P::capture_max_queries, 1, 1000000>},
    {"capture_file", string_key<&P::capture_file>},
    {"capture_interval", bounded_duration_key<&P::capture_interval, kMinCaptureInterval>},
    {"slow_query_threshold", duration_key<&P::slow_query_threshold>},
}};

using D = DatabaseConfig;
constexpr std::array<Key<D>, 19> kDatabaseKeys{{
    {"host", string_key<&D::host>},
    {"port", int_key<&D::port, 1, 65535>},
    {"dbname", string_key<&D::dbname>},
    {"hosts", hosts_key},
    {"patroni_urls", patroni_urls_key},
    {"patroni_ca_file", string_key<&D::patroni_ca_file, true>},
    {"patroni_cert_file", string_key<&D::patroni_cert_file, true>},
    {"patroni_key_file", string_key<&D::patroni_key_file, true>},
    {"pool_size", int_key<&D::pool_size, 1>},
    {"min_pool_size", int_key<&D::min_pool_size, 0>},
    {"pool_mode", enum_key<&D::pool_mode, kPoolModes>},
    {"max_db_connections", int_key<&D::max_db_connections, 0>},
    {"replicas", replicas_key},
    {"read_write_split", bool_key<&D::read_write_split>},
    {"load_balance", enum_key<&D::load_balance, kLoadBalances>},
    {"max_replica_lag", lag_key},
    {"read_your_writes", bool_key<&D::read_your_writes>},
    {"write_functions", function_list_key<&D::write_functions>},
    {"read_only_functions", function_list_key<&D::read_only_functions>},
}};

template <class K, size_t N>
constexpr std::array<std::string_view, N> names_of(const std::array<K, N>& keys) {
  std::array<std::string_view, N> out;
  for (size_t i = 0; i < N; ++i) out[i] = keys[i].name;
  return out;
}

constexpr std::array<std::string_view, kPoolerKeys.size()> kPoolerKeyNames = names_of(kPoolerKeys);
constexpr std::array<std::string_view, kDatabaseKeys.size()> kDatabaseKeyNames =
    names_of(kDatabaseKeys);
constexpr std::array<std::string_view, 4> kTopLevelTables{"pooler", "databases", "peers", "cache"};

bool contains(std::span<const std::string_view> keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// The hint after "unknown key ..." in [pooler], or empty.
std::string pooler_key_hint(std::string_view key) {
  if (auto near = closest_match(key, kPoolerKeyNames)) {
    return fmt::format("; did you mean \"{}\"?", *near);
  }
  // "port" for "listen_port": a unique known key ending in "_<key>".
  std::optional<std::string_view> suffix_match;
  int matches = 0;
  for (std::string_view k : kPoolerKeyNames) {
    if (k.size() > key.size() + 1 && k.ends_with(key) && k[k.size() - key.size() - 1] == '_') {
      suffix_match = k;
      ++matches;
    }
  }
  if (matches == 1) return fmt::format("; did you mean \"{}\"?", *suffix_match);
  if (contains(kDatabaseKeyNames, key)) {
    const std::string with_default = fmt::format("default_{}", key);
    if (contains(kPoolerKeyNames, with_default)) {
      return fmt::format(
          "; \"{}\" is a per-database key (in [databases.NAME]); the [pooler] "
          "default is \"{}\"",
          key, with_default);
    }
    return fmt::format("; \"{}\" is a per-database key, it belongs in a [databases.NAME] table",
                       key);
  }
  return {};
}

std::string database_key_hint(std::string_view key) {
  if (auto near = closest_match(key, kDatabaseKeyNames)) {
    return fmt::format("; did you mean \"{}\"?", *near);
  }
  if (key.starts_with("default_") && contains(kDatabaseKeyNames, key.substr(8))) {
    return fmt::format("; did you mean \"{}\"?", key.substr(8));
  }
  if (contains(kPoolerKeyNames, key)) {
    return fmt::format("; \"{}\" is a [pooler] setting", key);
  }
  return {};
}

std::string top_level_hint(std::string_view key, bool is_table) {
  if (auto near = closest_match(key, kTopLevelTables)) {
    return fmt::format("; did you mean [{}]?", *near);
  }
  if (!is_table && contains(kPoolerKeyNames, key)) return "; it belongs in [pooler]";
  if (!is_table && contains(kDatabaseKeyNames, key)) {
    return "; it belongs in a [databases.NAME] table";
  }
  return "; the known tables are [pooler], [databases.NAME], [peers] and [cache]";
}

class ConfigParser {
 public:
  explicit ConfigParser(const std::string& path) : path_(path), reader_(path) {}

  ConfigResult run(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, std::string_view(path_));
    } catch (const toml::parse_error& e) {
      // toml++ says "Error while parsing X: ..."; fold that into our own prefix.
      std::string_view what = e.description();
      constexpr std::string_view kTomlPrefix = "Error while ";
      const std::string message =
          what.starts_with(kTomlPrefix)
              ? fmt::format("syntax error while {}", what.substr(kTomlPrefix.size()))
              : fmt::format("syntax error: {}", what);
      reader_.error(line_of(e.source()), message);
      return finish();
    }
    for (auto&& [key, node] : root) {
      const std::string name(key.str());
      if (name == "pooler") {
        read_pooler(node);
      } else if (name == "databases") {
        read_databases(node);
      } else if (name == "peers") {
        peers_ok_ = read_peers(reader_, node, config_.peers, peers_line_);
      } else if (name == "cache") {
        read_cache(reader_, node, config_.cache);  // reports its own errors
      } else if (node.is_table() || node.is_array_of_tables()) {
        const bool array = node.is_array_of_tables();
        reader_.error(line_of(key.source()),
                      fmt::format("unknown table {}{}{}{}", array ? "[[" : "[", toml_key(name),
                                  array ? "]]" : "]", top_level_hint(name, true)));
      } else {
        reader_.error(line_of(key.source()),
                      fmt::format("unknown top-level key {}{}", toml_quote(name),
                                  top_level_hint(name, false)));
      }
    }
    check_pooler();
    check_databases();
    check_cache_databases(reader_, config_.cache, config_.databases);  // the rules that were read
    if (peers_ok_ && !bad("peer_id")) {
      auto at = pooler_lines_.find("peer_id");
      check_peers(reader_, config_.pooler, at != pooler_lines_.end() ? at->second : pooler_line_, peers_line_,
                  config_.peers);
    }
    return finish();
  }

 private:
  void read_pooler(const toml::node& node) {
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      reader_.wrong_type(node, "pooler", "a table ([pooler])");
      pooler_ok_ = false;
      return;
    }
    pooler_line_ = line_of(t->source());
    for (auto&& [key, value] : *t) {
      const std::string_view name = key.str();
      auto it = std::find_if(kPoolerKeys.begin(), kPoolerKeys.end(),
                             [&](const Key<P>& k) { return k.name == name; });
      if (it == kPoolerKeys.end()) {
        reader_.error(line_of(key.source()), fmt::format("unknown key {} in [pooler]{}",
                                                         toml_quote(name), pooler_key_hint(name)));
        continue;
      }
      const std::string qualified = fmt::format("pooler.{}", name);
      if (it->read(reader_, value, qualified, config_.pooler)) {
        pooler_lines_[it->name] = line_of(value.source());
      } else {
        bad_pooler_keys_.insert(it->name);
      }
    }
  }

  void read_databases(const toml::node& node) {
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      reader_.wrong_type(node, "databases", "a table of [databases.NAME] tables");
      databases_seen_ = true;
      return;
    }
    databases_line_ = line_of(t->source());
    for (auto&& [key, value] : *t) {
      databases_seen_ = true;
      read_database(std::string(key.str()), key.source(), value);
    }
  }

  void read_database(const std::string& name, const toml::source_region& where,
                     const toml::node& node) {
    const std::string qualified = fmt::format("databases.{}", toml_key(name));
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      reader_.wrong_type(node, qualified, "a table ([" + qualified + "])");
      return;
    }
    DatabaseConfig db;
    db.name = name;
    db.line = line_of(t->source());
    if (db.line == 0) db.line = line_of(where);
    bool ok = true;
    if (name.empty()) {
      reader_.error(db.line, "[databases.\"\"]: a database name must not be empty");
      ok = false;
    }
    DatabaseLines lines;
    for (auto&& [key, value] : *t) {
      const std::string_view k = key.str();
      auto it = std::find_if(kDatabaseKeys.begin(), kDatabaseKeys.end(),
                             [&](const Key<D>& dk) { return dk.name == k; });
      if (it == kDatabaseKeys.end()) {
        reader_.error(line_of(key.source()), fmt::format("unknown key {} in [{}]{}", toml_quote(k),
                                                         qualified, database_key_hint(k)));
        ok = false;
        continue;
      }
      if (it->read(reader_, value, fmt::format("{}.{}", qualified, k), db)) {
        lines[it->name] = line_of(value.source());
      } else {
        ok = false;
      }
    }
    if (db.dbname.empty()) db.dbname = name;
    for (std::string* file : {&db.patroni_ca_file, &db.patroni_cert_file, &db.patroni_key_file})
      if (!file->empty() && std::filesystem::path(*file).is_relative())  // as [pooler] files
        *file = (std::filesystem::path(path_).parent_path() / *file).lexically_normal().string();
    if (db.patroni_cert_file.empty() != db.patroni_key_file.empty()) {
      reader_.error(lines.count("patroni_cert_file") ? lines.at("patroni_cert_file") : lines.at("patroni_key_file"),
                    fmt::format("{}: patroni_cert_file and patroni_key_file go together", qualified));
      ok = false;
    }
    if (ok) ok = check_hosts(reader_, qualified, db, lines);
    if (ok) ok = check_split(reader_, qualified, db, lines);
    // Only fully valid databases take part in the cross-key checks, so one mistake is one error.
    if (ok) databases_.push_back({std::move(db), std::move(lines)});
  }

  void check_pooler() {
    PoolerSettings& s = config_.pooler;
    const auto pooler_line = [&](std::string_view key) {
      auto it = pooler_lines_.find(key);
      return it != pooler_lines_.end() ? it->second : pooler_line_;
    };
    if (!bad("min_pool_size") && !bad("default_pool_size") &&
        s.min_pool_size > s.default_pool_size) {
      reader_.error(pooler_line("min_pool_size"),
                    fmt::format("pooler.min_pool_size: {} exceeds default_pool_size {}",
                                s.min_pool_size, s.default_pool_size));
    }

    // File names are relative to the config file, so a config works from any working directory.
    for (auto [key, field] : {std::pair{"auth_file", &s.auth_file},
                              {"client_tls_key_file", &s.client_tls_key_file},
                              {"client_tls_cert_file", &s.client_tls_cert_file},
                              {"client_tls_ca_file", &s.client_tls_ca_file},
                              {"server_tls_ca_file", &s.server_tls_ca_file},
                              {"capture_file", &s.capture_file}}) {
      if (bad(key) || field->empty()) continue;
      std::filesystem::path file(*field);
      if (file.is_relative()) {
        file = (std::filesystem::path(path_).parent_path() / file).lexically_normal();
      }
      *field = file.string();
    }
    if (!bad("client_tls_mode") && s.client_tls_mode != ClientTlsMode::Disable &&
        (s.client_tls_key_file.empty() || s.client_tls_cert_file.empty())) {
      reader_.error(pooler_line("client_tls_mode"),
                    fmt::format("pooler.client_tls_mode = \"{}\" needs client_tls_key_file and "
                                "client_tls_cert_file",
                                to_string(s.client_tls_mode)));
    }
    if (!bad("server_tls_mode") && s.server_tls_ca_file.empty() &&
        (s.server_tls_mode == ServerTlsMode::VerifyCa || s.server_tls_mode == ServerTlsMode::VerifyFull)) {
      reader_.error(pooler_line("server_tls_mode"),
                    fmt::format("pooler.server_tls_mode = \"{}\" needs server_tls_ca_file (the CA "
                                "that signed the servers' certificates)",
                                to_string(s.server_tls_mode)));
    }
    if (pooler_ok_ && !bad("auth_type") && !bad("auth_file") && s.auth_file.empty() &&
        s.auth_type != AuthType::Trust) {
      if (pooler_lines_.contains("auth_type")) {
        reader_.error(pooler_line("auth_type"),
                      fmt::format("pooler.auth_type = \"{}\" needs pooler.auth_file (the users "
                                  "and their secrets)",
                                  to_string(s.auth_type)));
      } else {
        reader_.error(pooler_line_,
                      fmt::format("pooler.auth_file is not set, but auth_type defaults to \"{}\", "
                                  "which needs it; set auth_file, or auth_type = \"trust\" to let "
                                  "every client in without a password",
                                  to_string(s.auth_type)));
      }
    }
  }

  void check_databases() {
    if (!databases_seen_) {
      reader_.error(databases_line_,
                    "no [databases] defined: clients would have nothing to connect to");
    }
    const PoolerSettings& s = config_.pooler;
    for (auto& [db, lines] : databases_) {
      const std::string qualified = fmt::format("databases.{}", toml_key(db.name));
      const bool own_min = db.min_pool_size.has_value(), own_size = db.pool_size.has_value();
      // Without an override the [pooler] check already covered it; an inherited value that was
      // itself invalid has had its error.
      const bool inputs_valid =
          (own_min || !bad("min_pool_size")) && (own_size || !bad("default_pool_size"));
      if ((own_min || own_size) && inputs_valid) {
        const int min = db.min_pool_size.value_or(s.min_pool_size);
        const int size = db.pool_size.value_or(s.default_pool_size);
        if (min > size) {
          if (own_min) {
            reader_.error(lines["min_pool_size"],
                          fmt::format("{}.min_pool_size: {} exceeds pool_size {}{}", qualified, min,
                                      size, own_size ? "" : " (pooler.default_pool_size)"));
          } else {
            reader_.error(lines["pool_size"],
                          fmt::format("{}.pool_size: {} is less than min_pool_size {} "
                                      "(pooler.min_pool_size)",
                                      qualified, size, min));
          }
          continue;
        }
      }
      config_.databases.emplace(db.name, std::move(db));
    }
  }

  bool bad(std::string_view key) const { return bad_pooler_keys_.contains(key); }

  ConfigResult finish() {
    ConfigResult result;
    result.errors = reader_.take_errors();
    if (result.errors.empty()) {
      config_.path = path_;
      result.config = std::make_shared<const Config>(std::move(config_));
    }
    return result;
  }

  using DatabaseLines = std::map<std::string_view, int, std::less<>>;
  struct PendingDatabase {
    DatabaseConfig db;
    DatabaseLines lines;
  };

  std::string path_;
  Reader reader_;
  Config config_;
  bool pooler_ok_ = true;        // [pooler] was a table (or absent)
  bool databases_seen_ = false;  // at least one entry under [databases], valid or not
  bool peers_ok_ = true;         // [peers] absent, or every entry valid
  int peers_line_ = 0;
  int pooler_line_ = 0;
  int databases_line_ = 0;
  std::map<std::string_view, int, std::less<>> pooler_lines_;  // key -> line, valid keys only
  std::set<std::string_view, std::less<>> bad_pooler_keys_;
  std::vector<PendingDatabase> databases_;
};

}  // namespace

ConfigResult parse_config(std::string_view text, const std::string& path) {
  return ConfigParser(path).run(text);
}

std::span<const std::string_view> pooler_keys() { return kPoolerKeyNames; }
std::span<const std::string_view> database_keys() { return kDatabaseKeyNames; }

}  // namespace pgopt::pooler
