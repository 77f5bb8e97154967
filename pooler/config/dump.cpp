// Config values back to TOML text: one setting at a time, or the whole effective configuration.
#include <fmt/format.h>

#include "pooler/config/cache_keys.hpp"
#include "pooler/config/config.hpp"
#include "pooler/config/hosts.hpp"
#include "pooler/config/split_keys.hpp"
#include "pooler/config/toml_text.hpp"
#include "pooler/config/units.hpp"

namespace pgopt::pooler {
namespace {

std::string quoted(std::string_view s) { return toml_quote(s); }
std::string duration(Millis d) { return toml_quote(format_duration(d)); }

// A database key whose value comes from its [pooler] default.
bool inherited(const DatabaseConfig& db, std::string_view key) {
  if (key == "pool_size") return !db.pool_size;
  if (key == "min_pool_size") return !db.min_pool_size;
  if (key == "pool_mode") return !db.pool_mode;
  if (key == "max_db_connections") return !db.max_db_connections;
  return false;
}

// hosts replaces host and port (their values are its first member); without it, it is left out.
bool superseded(const DatabaseConfig& db, std::string_view key) {
  if (key == "hosts") return db.hosts.empty();
  if (key == "patroni_urls") return db.patroni_urls.empty();
  if (key == "patroni_ca_file") return db.patroni_ca_file.empty();
  if (key == "patroni_cert_file") return db.patroni_cert_file.empty();
  if (key == "patroni_key_file") return db.patroni_key_file.empty();
  return !db.hosts.empty() && (key == "host" || key == "port");
}

}  // namespace

std::string peer_address_text(const PeerConfig& p) {
  const bool v6 = p.host.find(':') != std::string::npos;
  return toml_quote(v6 ? fmt::format("[{}]:{}", p.host, p.port) : fmt::format("{}:{}", p.host, p.port));
}

std::string pooler_value(const PoolerSettings& s, std::string_view key) {
  if (key == "listen_addr") return quoted(s.listen_addr);
  if (key == "listen_port") return std::to_string(s.listen_port);
  if (key == "so_reuseport") return s.so_reuseport ? "true" : "false";
  if (key == "peer_id") return std::to_string(s.peer_id);
  if (key == "workers") return std::to_string(s.workers);
  if (key == "pool_mode") return quoted(to_string(s.pool_mode));
  if (key == "default_pool_size") return std::to_string(s.default_pool_size);
  if (key == "min_pool_size") return std::to_string(s.min_pool_size);
  if (key == "max_client_conn") return std::to_string(s.max_client_conn);
  if (key == "max_db_connections") return std::to_string(s.max_db_connections);
  if (key == "auth_type") return quoted(to_string(s.auth_type));
  if (key == "auth_file") return quoted(s.auth_file);
  if (key == "max_packet_size") return quoted(format_size(s.max_packet_size));
  if (key == "max_pipeline_depth") return std::to_string(s.max_pipeline_depth);
  if (key == "large_message_memory") return quoted(format_size(s.large_message_memory));
  if (key == "query_wait_timeout") return duration(s.query_wait_timeout);
  if (key == "server_idle_timeout") return duration(s.server_idle_timeout);
  if (key == "server_lifetime") return duration(s.server_lifetime);
  if (key == "server_connect_timeout") return duration(s.server_connect_timeout);
  if (key == "server_check_delay") return duration(s.server_check_delay);
  if (key == "client_idle_timeout") return duration(s.client_idle_timeout);
  if (key == "idle_transaction_timeout") return duration(s.idle_transaction_timeout);
  if (key == "client_login_timeout") return duration(s.client_login_timeout);
  if (key == "shutdown_timeout") return duration(s.shutdown_timeout);
  if (key == "server_reset_query") return quoted(s.server_reset_query);
  if (key == "server_reset_query_always") return s.server_reset_query_always ? "true" : "false";
  if (key == "max_prepared_statements") return std::to_string(s.max_prepared_statements);
  if (key == "log_level") return quoted(to_string(s.log_level));
  if (key == "replica_ban_time") return duration(s.replica_ban_time);
  if (key == "lag_poll_interval") return duration(s.lag_poll_interval);
  if (key == "replica_fallback") return quoted(to_string(s.replica_fallback));
  if (key == "health_check_period") return duration(s.health_check_period);
  if (key == "failover_wait_timeout") return duration(s.failover_wait_timeout);
  if (key == "unknown_functions_are_reads") return s.unknown_functions_are_reads ? "true" : "false";
  if (key == "admin_users") return config_detail::string_list_text(s.admin_users);
  if (key == "metrics_addr") return quoted(s.metrics_addr);
  if (key == "metrics_port") return std::to_string(s.metrics_port);
  if (key == "client_tls_mode") return quoted(to_string(s.client_tls_mode));
  if (key == "client_tls_key_file") return quoted(s.client_tls_key_file);
  if (key == "client_tls_cert_file") return quoted(s.client_tls_cert_file);
  if (key == "client_tls_ca_file") return quoted(s.client_tls_ca_file);
  if (key == "server_tls_mode") return quoted(to_string(s.server_tls_mode));
  if (key == "server_tls_ca_file") return quoted(s.server_tls_ca_file);
  if (key == "capture") return s.capture ? "true" : "false";
  if (key == "capture_samples") return s.capture_samples ? "true" : "false";
  if (key == "capture_max_queries") return std::to_string(s.capture_max_queries);
  if (key == "capture_file") return quoted(s.capture_file);
  if (key == "capture_interval") return duration(s.capture_interval);
  if (key == "slow_query_threshold") return duration(s.slow_query_threshold);
  return {};
}

std::string database_value(const Config& c, const DatabaseConfig& db, std::string_view key) {
  if (key == "host") return quoted(db.host);
  if (key == "port") return std::to_string(db.port);
  if (key == "dbname") return quoted(db.dbname);
  if (key == "hosts") return config_detail::hosts_text(db.hosts);
  if (key == "patroni_urls") return config_detail::patroni_urls_text(db.patroni_urls);
  if (key == "patroni_ca_file") return quoted(db.patroni_ca_file);
  if (key == "patroni_cert_file") return quoted(db.patroni_cert_file);
  if (key == "patroni_key_file") return quoted(db.patroni_key_file);
  if (key == "pool_size") return std::to_string(c.pool_size(db));
  if (key == "min_pool_size") return std::to_string(c.min_pool_size(db));
  if (key == "pool_mode") return quoted(to_string(c.pool_mode(db)));
  if (key == "max_db_connections") return std::to_string(c.max_db_connections(db));
  if (key == "replicas") return config_detail::replicas_text(db.replicas);
  if (key == "read_write_split") return db.read_write_split ? "true" : "false";
  if (key == "load_balance") return quoted(to_string(db.load_balance));
  if (key == "max_replica_lag") return config_detail::lag_limit_text(db.max_replica_lag);
  if (key == "read_your_writes") return db.read_your_writes ? "true" : "false";
  if (key == "write_functions") return config_detail::string_list_text(db.write_functions);
  if (key == "read_only_functions") return config_detail::string_list_text(db.read_only_functions);
  return {};
}

std::string dump_config(const Config& config, DumpMode mode) {
  std::string out = "[pooler]\n";
  for (std::string_view key : pooler_keys()) {
    // An unset file name is absence, not "": parse_config refuses an empty one.
    if (key.ends_with("_file") && pooler_value(config.pooler, key) == "\"\"") continue;
    out += fmt::format("{} = {}\n", key, pooler_value(config.pooler, key));
  }
  for (const auto& [name, db] : config.databases) {
    out += fmt::format("\n[databases.{}]\n", toml_key(name));
    for (std::string_view key : database_keys()) {
      if ((mode == DumpMode::Overrides && inherited(db, key)) || superseded(db, key)) continue;
      out += fmt::format("{} = {}\n", key, database_value(config, db, key));
    }
  }
  if (!config.peers.empty()) {
    out += "\n[peers]\n";
    for (const auto& [id, peer] : config.peers) out += fmt::format("{} = {}\n", id, peer_address_text(peer));
  }
  out += config_detail::cache_text(config.cache);
  return out;
}

}  // namespace pgopt::pooler
