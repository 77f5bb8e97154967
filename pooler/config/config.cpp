// Config's small pieces: enum names, effective per-database values, error text, reading the file.
#include "pooler/config/config.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace pgopt::pooler {

std::string_view to_string(PoolMode m) {
  switch (m) {
    case PoolMode::Session: return "session";
    case PoolMode::Transaction: return "transaction";
  }
  return "?";
}

std::string_view to_string(AuthType a) {
  switch (a) {
    case AuthType::Trust: return "trust";
    case AuthType::Md5: return "md5";
    case AuthType::ScramSha256: return "scram-sha-256";
  }
  return "?";
}

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
  }
  return "?";
}

std::string_view to_string(LoadBalance b) {
  switch (b) {
    case LoadBalance::RoundRobin: return "round_robin";
    case LoadBalance::LeastConnections: return "least_connections";
    case LoadBalance::Random: return "random";
  }
  return "?";
}

std::string_view to_string(ReplicaFallback f) {
  switch (f) {
    case ReplicaFallback::Primary: return "primary";
    case ReplicaFallback::Error: return "error";
  }
  return "?";
}

std::string_view to_string(ClientTlsMode m) {
  switch (m) {
    case ClientTlsMode::Disable: return "disable";
    case ClientTlsMode::Allow: return "allow";
    case ClientTlsMode::Prefer: return "prefer";
    case ClientTlsMode::Require: return "require";
  }
  return "?";
}

std::string_view to_string(ServerTlsMode m) {
  switch (m) {
    case ServerTlsMode::Disable: return "disable";
    case ServerTlsMode::Prefer: return "prefer";
    case ServerTlsMode::Require: return "require";
    case ServerTlsMode::VerifyCa: return "verify-ca";
    case ServerTlsMode::VerifyFull: return "verify-full";
  }
  return "?";
}

int Config::pool_size(const DatabaseConfig& db) const {
  return db.pool_size.value_or(pooler.default_pool_size);
}

int Config::min_pool_size(const DatabaseConfig& db) const {
  return db.min_pool_size.value_or(pooler.min_pool_size);
}

PoolMode Config::pool_mode(const DatabaseConfig& db) const {
  return db.pool_mode.value_or(pooler.pool_mode);
}

int Config::max_db_connections(const DatabaseConfig& db) const {
  return db.max_db_connections.value_or(pooler.max_db_connections);
}

const DatabaseConfig* Config::find_database(std::string_view name) const {
  // Case-sensitive on purpose: PostgreSQL database names are.
  auto it = databases.find(name);
  return it == databases.end() ? nullptr : &it->second;
}

const PeerConfig* Config::find_peer(int id) const {
  auto it = peers.find(id);
  return it == peers.end() ? nullptr : &it->second;
}

const PeerConfig* Config::own_peer() const { return pooler.peer_id > 0 ? find_peer(pooler.peer_id) : nullptr; }

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
  }
  out += ": ";
  out += message;
  return out;
}

std::string format_errors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) {
    out += e.to_string();
    out += '\n';
  }
  return out;
}

ConfigResult load_config(const std::string& path) {
  auto fail = [&path](int err) {
    ConfigResult r;
    r.errors.push_back({path, 0, std::string("cannot read config file: ") + std::strerror(err)});
    return r;
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return fail(errno);
  std::string text;
  char buf[16384];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f.get());
    text.append(buf, n);
    if (n < sizeof buf) break;
  }
  // fopen succeeds on a directory; the read is what fails (EISDIR).
  if (std::ferror(f.get())) return fail(errno);
  return parse_config(text, path);
}

}  // namespace pgopt::pooler
