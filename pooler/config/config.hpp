// The pooler's configuration: TOML (toml++) to an immutable, validated Config.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgopt::pooler {

using Millis = std::chrono::milliseconds;

enum class PoolMode { Session, Transaction };
enum class AuthType { Trust, Md5, ScramSha256 };
enum class LogLevel { Debug, Info, Warning, Error };

std::string_view to_string(PoolMode m);
std::string_view to_string(AuthType a);
std::string_view to_string(LogLevel l);

struct DatabaseConfig {
  std::string name;            // what clients put in their startup packet
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string dbname;          // server-side name; defaults to `name`
  std::optional<int> pool_size;       // overrides pooler.default_pool_size
  std::optional<int> min_pool_size;   // overrides pooler.min_pool_size
  std::optional<PoolMode> pool_mode;  // overrides pooler.pool_mode
  std::optional<int> max_db_connections;  // overrides pooler.max_db_connections
  int line = 0;  // where the table starts, for messages
};

struct PoolerSettings {
  std::string listen_addr = "127.0.0.1";
  int listen_port = 6432;
  int workers = 2;
  PoolMode pool_mode = PoolMode::Transaction;
  int default_pool_size = 20;
  int min_pool_size = 0;
  int max_client_conn = 10000;
  int max_db_connections = 0;  // 0 = no limit across users of a database
  AuthType auth_type = AuthType::ScramSha256;
  std::string auth_file;  // resolved against the config file's directory
  uint32_t max_packet_size = 64 * 1024 * 1024;  // bytes; a bigger message is refused (08P01)
  Millis query_wait_timeout{120'000};
  Millis server_idle_timeout{600'000};
  Millis server_lifetime{3'600'000};
  Millis server_connect_timeout{15'000};
  Millis client_idle_timeout{0};       // 0 = never
  Millis idle_transaction_timeout{0};  // 0 = never
  Millis client_login_timeout{60'000};
  Millis shutdown_timeout{30'000};
  std::string server_reset_query = "DISCARD ALL";  // session mode, on release
  LogLevel log_level = LogLevel::Info;
};

struct Config {
  std::string path;  // the file it came from
  PoolerSettings pooler;
  std::map<std::string, DatabaseConfig> databases;

  // Effective per-database values, falling back to the [pooler] defaults.
  int pool_size(const DatabaseConfig& db) const;
  int min_pool_size(const DatabaseConfig& db) const;
  PoolMode pool_mode(const DatabaseConfig& db) const;
  int max_db_connections(const DatabaseConfig& db) const;
  const DatabaseConfig* find_database(std::string_view name) const;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 0 when the error is about the file as a whole
  std::string message;
  std::string to_string() const;  // "file:line: message"
};

// Every error found, not just the first; `config` is null when there are any.
struct ConfigResult {
  std::shared_ptr<const Config> config;
  std::vector<ConfigError> errors;
};

ConfigResult parse_config(std::string_view text, const std::string& path);
ConfigResult load_config(const std::string& path);

// Keys that a running pooler can change on reload without a restart (docs/configuration.md).
bool reloadable(std::string_view key);

}  // namespace pgopt::pooler
