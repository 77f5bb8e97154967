// The pooler's configuration: TOML (toml++) to an immutable, validated Config.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::pooler {

using Millis = std::chrono::milliseconds;

enum class PoolMode { Session, Transaction };
enum class AuthType { Trust, Md5, ScramSha256 };
enum class LogLevel { Debug, Info, Warning, Error };
// How reads pick among a database's healthy replicas (read/write splitting).
enum class LoadBalance { RoundRobin, LeastConnections, Random };
// What a read does when no replica is healthy: run on the primary, or fail.
enum class ReplicaFallback { Primary, Error };
// TLS between clients and the pooler (PgBouncer's client_tls_sslmode without the verify modes:
// client certificates are checked against client_tls_ca_file when it is set).
enum class ClientTlsMode { Disable, Allow, Prefer, Require };
// TLS between the pooler and servers, as libpq's sslmode.
enum class ServerTlsMode { Disable, Prefer, Require, VerifyCa, VerifyFull };

std::string_view to_string(PoolMode m);
std::string_view to_string(AuthType a);
std::string_view to_string(LogLevel l);
std::string_view to_string(LoadBalance b);
std::string_view to_string(ReplicaFallback f);
std::string_view to_string(ClientTlsMode m);
std::string_view to_string(ServerTlsMode m);

// One streaming replica of a database's primary.
struct ReplicaConfig {
  std::string host;
  int port = 5432;  // defaults to the database's own port
  int weight = 1;   // share of reads relative to the other replicas; 0 = none (drained)
  int line = 0;
  bool operator==(const ReplicaConfig& o) const {
    return host == o.host && port == o.port && weight == o.weight;
  }
};

// One member of a multi-host database (`hosts`), whose role pgopt discovers (issue 18).
struct HostConfig {
  std::string host;
  int port = 5432;  // defaults to the database's own port
  int line = 0;
  bool operator==(const HostConfig& o) const { return host == o.host && port == o.port; }
};

// One Patroni REST API (`patroni_urls`, issue 18): "http://host:port" or "https://host:port", where
// GET /cluster names the leader and members of a multi-host database.
struct PatroniUrl {
  std::string host;
  int port = 8008;  // Patroni's default restapi port
  bool https = false;  // verified against patroni_ca_file (or the system's roots) and the host name
  int line = 0;
  bool operator==(const PatroniUrl& o) const { return host == o.host && port == o.port && https == o.https; }
};

// max_replica_lag: how far a replica may trail the primary and still get reads, either in time or
// in WAL bytes. Zero (either kind) means no limit.
struct LagLimit {
  enum class Kind { Time, Bytes };
  Kind kind = Kind::Time;
  std::chrono::milliseconds time{1000};  // Kind::Time
  uint64_t bytes = 0;                     // Kind::Bytes
  static LagLimit of_time(std::chrono::milliseconds t) { return {Kind::Time, t, 0}; }
  static LagLimit of_bytes(uint64_t b) { return {Kind::Bytes, std::chrono::milliseconds{0}, b}; }
  bool unlimited() const { return kind == Kind::Time ? time.count() == 0 : bytes == 0; }
  bool operator==(const LagLimit& o) const {
    return kind == o.kind && (kind == Kind::Time ? time == o.time : bytes == o.bytes);
  }
};

struct DatabaseConfig {
  std::string name;            // what clients put in their startup packet
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string dbname;          // server-side name; defaults to `name`
  // Members whose primary pgopt follows (empty: just host/port). When set, host/port are the first.
  std::vector<HostConfig> hosts;
  // Optional second source for the primary of `hosts`: Patroni's view, which must agree with what
  // the members say of themselves, or writes are held (failover.hpp).
  std::vector<PatroniUrl> patroni_urls;
  std::string patroni_ca_file;  // roots for https:// patroni_urls; empty: the system's
  // A client certificate for a Patroni API with verify_client: required (both or neither).
  std::string patroni_cert_file, patroni_key_file;
  std::optional<int> pool_size;       // overrides pooler.default_pool_size
  std::optional<int> min_pool_size;   // overrides pooler.min_pool_size
  std::optional<PoolMode> pool_mode;  // overrides pooler.pool_mode
  std::optional<int> max_db_connections;  // overrides pooler.max_db_connections
  // Read/write splitting (transaction mode only; docs/configuration.md).
  std::vector<ReplicaConfig> replicas;
  bool read_write_split = false;  // needs at least one replica
  LoadBalance load_balance = LoadBalance::LeastConnections;
  LagLimit max_replica_lag;  // 1s
  bool read_your_writes = true;
  // Function names, "fn" or "schema.fn" (sql::ClassifierOptions). No name is in both lists.
  std::vector<std::string> write_functions;
  std::vector<std::string> read_only_functions;
  int line = 0;  // where the table starts, for messages
};

// One process of a fleet, from [peers]: the address unique to it, where the other processes
// forward the cancel requests it issued (pooler/fleet/, docs/fleet.md).
struct PeerConfig {
  int id = 0;  // 1..16383
  std::string host;
  int port = 0;
  int line = 0;
  bool operator==(const PeerConfig& o) const { return id == o.id && host == o.host && port == o.port; }
};

struct PoolerSettings {
  std::string listen_addr = "127.0.0.1";
  int listen_port = 6432;
  // Several processes on one address and port (SO_REUSEPORT): the kernel spreads the connections.
  bool so_reuseport = false;
  // This process's id in [peers] (0: not part of a fleet); stamped into every cancel key it issues.
  int peer_id = 0;
  int workers = 2;
  PoolMode pool_mode = PoolMode::Transaction;
  int default_pool_size = 20;
  int min_pool_size = 0;
  int max_client_conn = 10000;
  int max_db_connections = 0;  // 0 = no limit across users of a database
  AuthType auth_type = AuthType::ScramSha256;
  std::string auth_file;  // resolved against the config file's directory
  uint32_t max_packet_size = 64 * 1024 * 1024;  // bytes; a bigger message is refused (08P01)
  // Queries and Syncs a client may have sent whose ReadyForQuery has not come back; at the limit
  // the pooler reads nothing more from that client until replies have gone out. What a pooler
  // keeps per request in flight is what a client that pipelines and never reads would grow.
  int max_pipeline_depth = 1000;
  // What all clients together may have buffered in messages over 1 MB (each is held whole while it
  // is relayed); a message that does not fit is refused with 53200 and its client disconnected.
  uint32_t large_message_memory = 512u * 1024 * 1024;
  Millis query_wait_timeout{120'000};
  Millis server_idle_timeout{600'000};
  Millis server_lifetime{3'600'000};
  Millis server_connect_timeout{15'000};
  Millis server_check_delay{10};  // pooled servers idle longer are checked for a closed socket
  Millis client_idle_timeout{0};       // 0 = never
  Millis idle_transaction_timeout{0};  // 0 = never
  Millis client_login_timeout{60'000};
  Millis shutdown_timeout{30'000};
  std::string server_reset_query = "DISCARD ALL";  // session mode, on release
  // Transaction mode too, after every transaction (PgBouncer's key): for sites that want no
  // session state to survive a transaction whatever the pooler can tell.
  bool server_reset_query_always = false;
  // Server-side prepared statements kept per server connection in transaction mode (LRU); 0 turns
  // tracking off, and a client's named statement then pins nothing: the server is reset after it.
  int max_prepared_statements = 200;
  LogLevel log_level = LogLevel::Info;
  // Read/write splitting, for every database that enables it.
  Millis replica_ban_time{30'000};   // a replica that failed is left out this long, then rechecked
  Millis lag_poll_interval{50};      // how often WAL positions are read from primary and replicas
  ReplicaFallback replica_fallback = ReplicaFallback::Primary;
  bool unknown_functions_are_reads = false;
  // Failover of multi-host databases (`hosts`): how often each member's role is checked while one is
  // the primary, and how long a new transaction waits for a primary when there is none.
  Millis health_check_period{1'000};
  Millis failover_wait_timeout{5'000};  // user functions not listed in either list only read
  // Users who may connect to the admin console (database "pgopt"); empty: nobody.
  std::vector<std::string> admin_users;
  // Prometheus text endpoint (/metrics) and health check (/healthz); port 0 = off.
  std::string metrics_addr = "127.0.0.1";
  int metrics_port = 0;
  // TLS. File names are resolved against the config file's directory. Certificates and keys are
  // read again on reload.
  ClientTlsMode client_tls_mode = ClientTlsMode::Disable;
  std::string client_tls_key_file, client_tls_cert_file, client_tls_ca_file;
  ServerTlsMode server_tls_mode = ServerTlsMode::Prefer;
  std::string server_tls_ca_file;
  // Workload capture: per-fingerprint statistics of relayed statements (SHOW QUERIES, capture_file
  // for `pgopt analyze --capture`). capture_max_queries bounds the fingerprints kept.
  bool capture = true;
  bool capture_samples = true;  // keep a few literal samples per fingerprint (never logged or shown)
  int capture_max_queries = 5000;
  std::string capture_file;     // empty: not written
  Millis capture_interval{60'000};
  Millis slow_query_threshold{0};  // 0 = off; slower statements are logged, normalized
};

// One [[cache.rules]] entry of the result cache (issue 21, docs/result-cache.md). A cacheable
// statement uses the first rule, in file order, whose every given criterion matches; a rule gives at
// least one.
struct CacheRule {
  std::string name;  // for counters and SHOW CACHE; "rule<N>" (1-based) when not given
  std::vector<std::string> fingerprints;  // sql::fingerprint_hex() values, 16 lower-case hex digits
  // Every table the statement reads is one of these ("name" or "schema.name", as the statement
  // writes it), so opting in `products` does not cache a join with `orders`.
  std::vector<std::string> tables;
  std::string database;  // the client's database name; empty: any
  std::string user;      // the client's user name; empty: any
  Millis ttl{0};         // > 0
  int line = 0;
  bool operator==(const CacheRule& o) const {
    return name == o.name && fingerprints == o.fingerprints && tables == o.tables && database == o.database &&
           user == o.user && ttl == o.ttl;
  }
};

// How the result cache learns of writes: only those through this pooler, or also every committed
// change PostgreSQL decodes for a publication (pooler/change_stream.cpp, docs/result-cache.md).
enum class CacheInvalidation { Writes, Logical };

// [cache]: the result cache, off unless `enabled = true` (a contract other tools rely on).
struct CacheConfig {
  bool enabled = false;
  CacheInvalidation invalidation = CacheInvalidation::Writes;
  std::string publication = "pgopt_cache";  // logical: the publication the stream decodes
  // logical: a permanent slot of this name (created when missing); empty: a temporary slot per
  // connection, which PostgreSQL drops when the connection ends (no WAL held by a dead pooler).
  std::string slot_name;
  uint64_t max_memory = 64ull * 1024 * 1024;  // every entry's bytes together, keys included
  uint64_t max_entry_size = 1024 * 1024;      // a bigger reply is relayed, not kept
  // User functions the operator vouches for (sql::CacheabilityOptions::stable_functions).
  std::vector<std::string> stable_functions;
  std::vector<CacheRule> rules;
  int line = 0;  // where [cache] starts; 0 when absent
  bool operator==(const CacheConfig& o) const {
    return enabled == o.enabled && invalidation == o.invalidation && publication == o.publication &&
           slot_name == o.slot_name && max_memory == o.max_memory && max_entry_size == o.max_entry_size &&
           stable_functions == o.stable_functions && rules == o.rules;
  }
};

struct Config {
  std::string path;  // the file it came from
  PoolerSettings pooler;
  std::map<std::string, DatabaseConfig, std::less<>> databases;  // std::less<>: found by string_view without a copy (once per transaction)
  std::map<int, PeerConfig> peers;  // [peers], by id; empty when not in a fleet
  CacheConfig cache;                // [cache] and [[cache.rules]]

  // This process's own [peers] entry, or null.
  const PeerConfig* own_peer() const;
  const PeerConfig* find_peer(int id) const;

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

// Each error's to_string(), one a line, each ending in '\n'.
std::string format_errors(const std::vector<ConfigError>& errors);

// Errors come sorted by line; those about the file as a whole (line 0) come last. `path` is only
// used in messages and to resolve auth_file; nothing is read from disk.
ConfigResult parse_config(std::string_view text, const std::string& path);
// An unreadable file is one error with line 0 and strerror's text.
ConfigResult load_config(const std::string& path);

// The keys [pooler] and [databases.NAME] accept, in documentation order.
std::span<const std::string_view> pooler_keys();
std::span<const std::string_view> database_keys();

// Keys that a running pooler can change on reload without a restart (docs/configuration.md).
// Takes a bare key ("listen_port", "host") or a qualified one as changed_keys() returns it
// ("pooler.listen_port", "databases.app.host", "databases.app"); unknown keys are not reloadable.
bool reloadable(std::string_view key);

// Qualified names of every setting that differs between two configs, in a stable order:
// "pooler.<key>", "databases.<name>.<key>" (effective values compared, so an override equal to the
// default is no change), and "databases.<name>" for a database added or removed. A reload can
// apply the reloadable() ones and report the rest as needing a restart.
std::vector<std::string> changed_keys(const Config& before, const Config& after);

// A setting's effective value as TOML text: 6432, "transaction", "2min", "64MB". Empty for an
// unknown key. For listings such as an admin SHOW CONFIG, and what changed_keys() compares.
std::string pooler_value(const PoolerSettings& settings, std::string_view key);
// A [peers] entry's value as TOML text: "10.0.0.1:6432", "[::1]:6432".
std::string peer_address_text(const PeerConfig& peer);
std::string database_value(const Config& config, const DatabaseConfig& db, std::string_view key);

// The effective configuration as TOML: every [pooler] key, and every database with its overrides
// resolved; parse_config() accepts it back (auth_file is printed as resolved).
// Overrides: database keys that inherit a [pooler] default are left out, so that the text parsed
// back still follows the default when it changes (the admin console's SET).
enum class DumpMode { Effective, Overrides };
std::string dump_config(const Config& config, DumpMode mode = DumpMode::Effective);

}  // namespace pgopt::pooler
