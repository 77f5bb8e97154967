// `pgopt import-pgbouncer`: a pgbouncer.ini (PgBouncer 1.18's keys) translated to pgopt's TOML, with
// a `file:line: key: why` line for every key that is dropped or changes meaning.
#include "pooler/config/pgbouncer_import.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "pooler/config/config.hpp"
#include "pooler/config/toml_text.hpp"
#include "pooler/config/units.hpp"

namespace pgopt::pooler::pgbouncer {
namespace {

// How a [pgbouncer] key translates. The reasons of Dropped keys are what the user reads on stderr.
enum class Kind { Int, Seconds, Bytes, Text, Path, Special, Dropped };

struct KeySpec {
  std::string_view name;
  Kind kind;
  std::string_view why = {};  // Dropped: why; Seconds/Int: a note when the meaning differs
};

// Every key of PgBouncer 1.18's configuration reference, plus the later ones people carry over.
constexpr KeySpec kKeys[] = {
    {"listen_addr", Kind::Special},
    {"listen_port", Kind::Int},
    {"pool_mode", Kind::Special},
    {"max_client_conn", Kind::Int},
    {"default_pool_size", Kind::Int},
    {"min_pool_size", Kind::Int, "pgopt opens them once a (database, user) pool exists, after its first login"},
    {"max_db_connections", Kind::Int},
    {"max_prepared_statements", Kind::Int},
    {"auth_type", Kind::Special},
    {"auth_file", Kind::Path},
    {"max_packet_size", Kind::Bytes},
    {"server_lifetime", Kind::Seconds},
    {"server_idle_timeout", Kind::Seconds},
    {"server_connect_timeout", Kind::Seconds},
    {"server_check_delay", Kind::Seconds,
     "pgopt checks an idle connection with a non-blocking peek at its socket, no query"},
    {"client_login_timeout", Kind::Seconds},
    {"query_wait_timeout", Kind::Seconds},
    {"client_idle_timeout", Kind::Seconds},
    {"idle_transaction_timeout", Kind::Seconds},
    {"server_reset_query", Kind::Text},
    {"verbose", Kind::Special},
    {"admin_users", Kind::Special},
    {"stats_users", Kind::Special},
    {"client_tls_sslmode", Kind::Special},
    {"client_tls_key_file", Kind::Path},
    {"client_tls_cert_file", Kind::Path},
    {"client_tls_ca_file", Kind::Path},
    {"server_tls_sslmode", Kind::Special},
    {"server_tls_ca_file", Kind::Path},
    {"logfile", Kind::Dropped, "pgopt logs to stderr: the journal under systemd (journalctl -u pgopt)"},
    {"pidfile", Kind::Dropped, "pgopt does not daemonize; systemd tracks the process"},
    {"unix_socket_dir", Kind::Dropped, "pgopt listens on TCP only; clients connect to listen_addr"},
    {"unix_socket_mode", Kind::Dropped, "pgopt listens on TCP only"},
    {"unix_socket_group", Kind::Dropped, "pgopt listens on TCP only"},
    {"user", Kind::Dropped, "start pgopt as the user you want (the packaged unit runs it as pgopt)"},
    {"reserve_pool_size", Kind::Dropped, "no reserve pool: size pool_size for the peak; query_wait_timeout bounds the wait"},
    {"reserve_pool_timeout", Kind::Dropped, "no reserve pool"},
    {"max_user_connections", Kind::Dropped, "use the role's CONNECTION LIMIT on the server"},
    {"server_round_robin", Kind::Dropped, "pgopt always reuses the most recently used idle connection (LIFO)"},
    {"ignore_startup_parameters", Kind::Dropped,
     "not needed: every startup parameter is accepted and kept as a session setting of the client"},
    {"disable_pqexec", Kind::Dropped, "not supported: multi-statement simple queries are always allowed"},
    {"application_name_add_host", Kind::Dropped, "not supported"},
    {"conffile", Kind::Dropped, "not needed: the file given to --config"},
    {"service_name", Kind::Dropped, "not needed (Windows only)"},
    {"job_name", Kind::Dropped, "not needed"},
    {"stats_period", Kind::Dropped, "SHOW STATS averages are since start; scrape /metrics (metrics_port) for rates"},
    {"auth_hba_file", Kind::Dropped,
     "not supported: restrict who reaches listen_addr with a firewall; the server's pg_hba.conf still applies"},
    {"auth_user", Kind::Dropped, "not supported: every user must be in the auth file"},
    {"auth_query", Kind::Dropped, "not supported: every user must be in the auth file"},
    {"syslog", Kind::Dropped, "logs go to stderr; the unit sets SyslogIdentifier=pgopt for the journal"},
    {"syslog_ident", Kind::Dropped, "logs go to stderr; the unit sets SyslogIdentifier=pgopt"},
    {"syslog_facility", Kind::Dropped, "logs go to stderr"},
    {"log_connections", Kind::Dropped, "logins are logged at info; log_level = \"warning\" drops them"},
    {"log_disconnections", Kind::Dropped, "disconnections are logged at info; log_level = \"warning\" drops them"},
    {"log_pooler_errors", Kind::Dropped, "errors sent to clients are always logged at warning"},
    {"log_stats", Kind::Dropped, "use SHOW STATS or the Prometheus endpoint (metrics_port)"},
    {"server_reset_query_always", Kind::Dropped,
     "in transaction mode pgopt resets only servers a client left with state it cannot carry"},
    {"server_check_query", Kind::Dropped, "no query is sent: idle connections are checked by a socket peek"},
    {"server_fast_close", Kind::Dropped, "not supported"},
    {"server_login_retry", Kind::Dropped, "a failed server login fails the client that needed it at once"},
    {"autodb_idle_timeout", Kind::Dropped, "there is no * database"},
    {"dns_max_ttl", Kind::Dropped, "hosts are resolved at each connect; nothing is cached"},
    {"dns_nxdomain_ttl", Kind::Dropped, "hosts are resolved at each connect; nothing is cached"},
    {"dns_zone_check_period", Kind::Dropped, "hosts are resolved at each connect"},
    {"resolv_conf", Kind::Dropped, "the system resolver is used"},
    {"client_tls_protocols", Kind::Dropped, "TLS 1.2 or later, OpenSSL's defaults"},
    {"client_tls_ciphers", Kind::Dropped, "OpenSSL's defaults"},
    {"client_tls_ecdhcurve", Kind::Dropped, "OpenSSL's defaults"},
    {"client_tls_dheparams", Kind::Dropped, "OpenSSL's defaults"},
    {"server_tls_key_file", Kind::Dropped, "no client certificates towards servers"},
    {"server_tls_cert_file", Kind::Dropped, "no client certificates towards servers"},
    {"server_tls_protocols", Kind::Dropped, "TLS 1.2 or later, OpenSSL's defaults"},
    {"server_tls_ciphers", Kind::Dropped, "OpenSSL's defaults"},
    {"query_timeout", Kind::Dropped, "use PostgreSQL's statement_timeout"},
    {"suspend_timeout", Kind::Dropped, "no SUSPEND or online restart (see rolling restarts in docs/operations.md)"},
    {"pkt_buf", Kind::Dropped, "buffers grow as needed and shrink when a client idles"},
    {"sbuf_loopcnt", Kind::Dropped, "not needed"},
    {"listen_backlog", Kind::Dropped, "the system's maximum (SOMAXCONN) is used"},
    {"so_reuseport", Kind::Dropped, "not supported"},
    {"tcp_defer_accept", Kind::Dropped, "operating-system default"},
    {"tcp_socket_buffer", Kind::Dropped, "operating-system default"},
    {"tcp_keepalive", Kind::Dropped, "operating-system default"},
    {"tcp_keepcnt", Kind::Dropped, "operating-system default"},
    {"tcp_keepidle", Kind::Dropped, "operating-system default"},
    {"tcp_keepintvl", Kind::Dropped, "operating-system default"},
    {"tcp_user_timeout", Kind::Dropped, "operating-system default"},
    {"peer_id", Kind::Dropped, "no peers: one pgopt process serves all cores (workers)"},
    {"track_extra_parameters", Kind::Dropped, "not needed: every session setting is kept per client"},
};

const KeySpec* find_key(std::string_view name) {
  for (const auto& k : kKeys)
    if (k.name == name) return &k;
  return nullptr;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string_view item = s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<long long> to_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > 1'000'000'000'000LL) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// One line of output TOML: `key = value`, with where it came from.
struct Line {
  std::string key;
  std::string value;    // TOML text
  std::string comment;  // after #, may be empty
};

class Importer {
 public:
  Importer(const IniFile& ini, const ImportOptions& opts) : ini_(ini), opts_(opts) {}

  ImportResult run() {
    for (const auto& e : ini_.errors) out_.errors.push_back(e);
    collect_pgbouncer_section();
    for (const auto& e : ini_.entries) {
      if (e.section == "pgbouncer") continue;
      if (e.section == "databases") {
        database(e);
      } else if (e.section == "users") {
        note(e, e.key, "per-user settings (pool_mode, max_user_connections) are not supported; this user gets "
                       "the database's settings");
      } else {
        note(e, e.key, fmt::format("section [{}] is not supported; dropped", e.section));
      }
    }
    pooler_keys();
    if (databases_.empty())
      out_.errors.push_back(fmt::format("{}: [databases]: no database pgopt can serve; add [databases.NAME] tables "
                                        "(pgopt needs at least one)", main_file()));
    render();
    summarize();
    return std::move(out_);
  }

 private:
  const IniFile& ini_;
  const ImportOptions& opts_;
  ImportResult out_;
  std::map<std::string, const IniEntry*> set_;  // [pgbouncer] key -> its last assignment
  std::vector<Line> pooler_;
  std::vector<std::pair<std::string, std::vector<Line>>> databases_;

  std::string main_file() const { return ini_.files.empty() ? std::string("pgbouncer.ini") : ini_.files.front(); }
  void note(const IniEntry& e, std::string_view key, const std::string& why) {
    out_.diagnostics.push_back(fmt::format("{}:{}: {}: {}", e.file, e.line, key, why));
  }
  // For a setting the file does not have: the [pgbouncer] section's file, no line.
  void note_default(std::string_view key, const std::string& why) {
    out_.diagnostics.push_back(fmt::format("{}: {}: {}", main_file(), key, why));
  }
  static std::string origin(const IniEntry& e) {
    return fmt::format("{} = {}  ({}:{})", e.key, e.value, std::filesystem::path(e.file).filename().string(), e.line);
  }
  void put(const std::string& key, std::string value, std::string comment = {}) {
    pooler_.push_back(Line{key, std::move(value), std::move(comment)});
  }

  void collect_pgbouncer_section() {
    for (const auto& e : ini_.entries) {
      if (e.section != "pgbouncer") continue;
      std::string key = lower(e.key);
      if (!find_key(key)) {
        note(e, e.key, "not a PgBouncer 1.18 setting pgopt knows; dropped");
        continue;
      }
      auto [it, inserted] = set_.emplace(key, &e);
      if (!inserted) {
        note(*it->second, key, fmt::format("set again on line {}; the last value counts, as in PgBouncer", e.line));
        it->second = &e;
      }
    }
  }

  void pooler_keys() {
    listen_addr();
    for (const auto& k : kKeys) {
      auto it = set_.find(std::string(k.name));
      if (it == set_.end()) continue;
      const IniEntry& e = *it->second;
      switch (k.kind) {
        case Kind::Int: integer(k, e); break;
        case Kind::Seconds: seconds(k, e); break;
        case Kind::Bytes: bytes(e); break;
        case Kind::Text: put(std::string(k.name), toml_quote(e.value), origin(e)); break;
        case Kind::Path: path(k, e); break;
        case Kind::Dropped: note(e, k.name, std::string(k.why)); break;
        case Kind::Special: special(k, e); break;
      }
    }
    defaults_that_differ();
  }

  void integer(const KeySpec& k, const IniEntry& e) {
    auto v = to_int(e.value);
    if (!v) return note(e, k.name, fmt::format("`{}` is not a whole number; dropped", e.value));
    put(std::string(k.name), std::to_string(*v), origin(e));
    if (!k.why.empty()) note(e, k.name, std::string(k.why));
  }

  void seconds(const KeySpec& k, const IniEntry& e) {
    char* end = nullptr;
    double s = std::strtod(e.value.c_str(), &end);
    if (e.value.empty() || *end != '\0' || !(s >= 0))
      return note(e, k.name, fmt::format("`{}` is not a number of seconds; dropped", e.value));
    auto ms = duration_from_seconds(std::round(s * 1000) / 1000);
    if (!ms.value) return note(e, k.name, fmt::format("`{}`: {}; dropped", e.value, ms.error));
    put(std::string(k.name), toml_quote(format_duration(*ms.value)), origin(e));
    if (!k.why.empty()) note(e, k.name, std::string(k.why));
  }

  void bytes(const IniEntry& e) {
    auto v = to_int(e.value);
    if (!v) return note(e, "max_packet_size", fmt::format("`{}` is not a number of bytes; dropped", e.value));
    long long b = std::clamp(*v, 1024LL, 1024LL * 1024 * 1024);
    if (b != *v)
      note(e, "max_packet_size", fmt::format("{} is outside pgopt's range 1kB-1GB; {} instead", *v, format_size(uint64_t(b))));
    put("max_packet_size", toml_quote(format_size(uint64_t(b))), origin(e));
  }

  void path(const KeySpec& k, const IniEntry& e) {
    if (k.name == "auth_file" && !opts_.userlist.empty()) {
      note(e, k.name, fmt::format("replaced by --userlist {}", opts_.userlist));
      return;  // written by defaults_that_differ()
    }
    std::filesystem::path p(e.value);
    if (p.is_relative()) {
      // pgopt takes relative paths from its config file's directory, which is unknown here.
      p = std::filesystem::absolute(std::filesystem::path(e.file).parent_path() / p).lexically_normal();
      note(e, k.name, fmt::format("relative path written as {} (pgopt reads relative paths from its config file's "
                                  "directory)", p.string()));
    }
    if (k.name == "auth_file") out_.auth_file = p.string();
    put(std::string(k.name), toml_quote(p.string()), origin(e));
  }

  void special(const KeySpec& k, const IniEntry& e);
  void listen_addr();
  void defaults_that_differ();
  void database(const IniEntry& e);
  bool database_param(const IniEntry& e, const ConnParam& p, std::vector<Line>& lines);
  void render();
  void summarize();
};

std::optional<std::string_view> pool_mode_of(std::string_view v) {
  if (v == "session") return "session";
  if (v == "transaction" || v == "statement") return "transaction";
  return std::nullopt;
}

void Importer::special(const KeySpec& k, const IniEntry& e) {
  std::string v = lower(e.value);
  if (k.name == "listen_addr") return;  // listen_addr()
  if (k.name == "pool_mode") {
    auto m = pool_mode_of(v);
    if (!m) return note(e, k.name, fmt::format("`{}` is not a pool mode; dropped", e.value));
    if (v == "statement")
      note(e, k.name, "statement pooling is not supported; transaction pooling instead (multi-statement "
                      "transactions are then allowed)");
    return put("pool_mode", toml_quote(*m), origin(e));
  }
  if (k.name == "auth_type") {
    if (v == "trust" || v == "md5" || v == "scram-sha-256") return put("auth_type", toml_quote(v), origin(e));
    if (v == "any") {
      note(e, k.name, "`any` is trust in pgopt, and clients log in to the server as themselves (no forced user)");
      return put("auth_type", toml_quote("trust"), origin(e));
    }
    if (v == "plain") {
      note(e, k.name, "plain (clear-text password) is not supported; md5 instead, which every client speaks");
      return put("auth_type", toml_quote("md5"), origin(e));
    }
    note(e, k.name, fmt::format("`{}` is not supported (trust, md5 and scram-sha-256 are); scram-sha-256 instead, "
                                "with the auth file", e.value));
    return put("auth_type", toml_quote("scram-sha-256"), origin(e));
  }
  if (k.name == "verbose") {
    auto n = to_int(v);
    if (!n) return note(e, k.name, fmt::format("`{}` is not a number; dropped", e.value));
    note(e, k.name, "renamed log_level");
    return put("log_level", toml_quote(*n > 0 ? "debug" : "info"), origin(e));
  }
  if (k.name == "admin_users") {
    std::string arr;
    for (const auto& u : split_list(e.value)) arr += (arr.empty() ? "" : ", ") + toml_quote(u);
    note(e, k.name, "the admin console is the database `pgopt` (psql -U USER pgopt), not `pgbouncer`");
    return put("admin_users", "[" + arr + "]", origin(e));
  }
  if (k.name == "stats_users")
    return note(e, k.name, "no read-only console users; put them in admin_users if they need SHOW (they could "
                           "then also RELOAD, PAUSE and KILL), or scrape /metrics");
  if (k.name == "client_tls_sslmode") {
    if (v == "disable" || v == "allow" || v == "prefer" || v == "require") {
      note(e, k.name, "renamed client_tls_mode");
      return put("client_tls_mode", toml_quote(v), origin(e));
    }
    if (v == "verify-ca" || v == "verify-full") {
      note(e, k.name, "renamed client_tls_mode; `" + v + "` becomes require: client certificates are checked "
                      "against client_tls_ca_file when sent, not demanded");
      return put("client_tls_mode", toml_quote("require"), origin(e));
    }
    return note(e, k.name, fmt::format("`{}` is not a TLS mode; dropped", e.value));
  }
  if (k.name == "server_tls_sslmode") {
    if (v == "allow") {
      note(e, k.name, "renamed server_tls_mode; `allow` becomes prefer (TLS when the server offers it)");
      return put("server_tls_mode", toml_quote("prefer"), origin(e));
    }
    if (v == "disable" || v == "prefer" || v == "require" || v == "verify-ca" || v == "verify-full") {
      note(e, k.name, "renamed server_tls_mode");
      return put("server_tls_mode", toml_quote(v), origin(e));
    }
    return note(e, k.name, fmt::format("`{}` is not a TLS mode; dropped", e.value));
  }
}

void Importer::listen_addr() {
  auto it = set_.find("listen_addr");
  if (it == set_.end() || it->second->value.empty()) {
    note_default("listen_addr", "not set: PgBouncer then listens on its Unix socket only; pgopt listens on TCP, "
                                "on 127.0.0.1");
    return put("listen_addr", toml_quote("127.0.0.1"), "PgBouncer: Unix socket only");
  }
  const IniEntry& e = *it->second;
  auto addrs = split_list(e.value);
  std::string a = addrs.empty() ? std::string("127.0.0.1") : addrs.front();
  if (addrs.size() > 1)
    note(e, "listen_addr", fmt::format("pgopt listens on one address; {} kept, the others dropped", a));
  if (a == "*") {
    note(e, "listen_addr", "`*` is 0.0.0.0 (every IPv4 address); use \"::\" for IPv6 as well");
    a = "0.0.0.0";
  } else if (a == "localhost") {
    note(e, "listen_addr", "pgopt needs an IP address: localhost is 127.0.0.1");
    a = "127.0.0.1";
  } else if (!is_ip(a)) {
    note(e, "listen_addr", fmt::format("pgopt needs an IP address, not the host name {}; 127.0.0.1 instead", a));
    a = "127.0.0.1";
  }
  put("listen_addr", toml_quote(a), origin(e));
}

// PgBouncer's defaults where pgopt's differ, written out so the behaviour stays PgBouncer's.
void Importer::defaults_that_differ() {
  struct Default {
    std::string_view key, value, why;
  };
  static constexpr Default kDefaults[] = {
      {"pool_mode", "\"session\"", "not set: PgBouncer's default, session, written out (pgopt's is transaction)"},
      {"max_client_conn", "100", "not set: PgBouncer's default, 100, written out (pgopt's is 10000)"},
      {"auth_type", "\"md5\"", "not set: PgBouncer 1.18's default, md5, written out (pgopt's is scram-sha-256)"},
  };
  auto has = [&](std::string_view key) {
    return std::any_of(pooler_.begin(), pooler_.end(), [&](const Line& l) { return l.key == key; });
  };
  for (const auto& d : kDefaults) {
    if (has(d.key)) continue;
    note_default(d.key, std::string(d.why));
    put(std::string(d.key), std::string(d.value), "PgBouncer's default");
  }
  // Where pgopt's default is the better one, it stays, and the difference is said.
  if (!has("max_packet_size"))
    note_default("max_packet_size", "not set: PgBouncer accepts messages up to 2GB, pgopt up to 64MB by default "
                                    "(at most 1GB)");
  if (!has("server_check_delay"))
    note_default("server_check_delay", "not set: PgBouncer checks connections idle 30 s with a query; pgopt "
                                       "peeks at the socket of those idle 10 ms");
  if (!opts_.userlist.empty()) {
    auto p = std::filesystem::absolute(opts_.userlist).lexically_normal().string();
    out_.auth_file = p;
    put("auth_file", toml_quote(p), "--userlist");
  }
  // PgBouncer 1.18 has no prepared-statement support; pgopt's default (200) makes them work.
  if (!has("max_prepared_statements"))
    put("max_prepared_statements", "200", "PgBouncer 1.18 has none: named prepared statements now work");
}

void Importer::database(const IniEntry& e) {
  if (e.key == "*") {
    return note(e, "*", "the fallback database is not supported: list every database clients use; others get "
                        "3D000");
  }
  if (e.key == "pgopt")
    note(e, e.key, "the admin console's name in pgopt: clients asking for it reach the console, not this database");
  std::string err;
  auto params = parse_conn_string(e.value, err);
  if (!err.empty()) return note(e, e.key, fmt::format("{}; database dropped", err));
  std::vector<Line> lines;
  bool has_host = false;
  for (const auto& p : params) {
    if (!database_param(e, p, lines)) continue;
    has_host |= p.key == "host";
  }
  if (!has_host)
    note(e, e.key, "no host: PgBouncer then connects over the Unix socket; pgopt connects to 127.0.0.1 over TCP");
  databases_.emplace_back(e.key, std::move(lines));
}

// One key=value of a database's string; false when it is not written out.
bool Importer::database_param(const IniEntry& e, const ConnParam& p, std::vector<Line>& lines) {
  const std::string where = fmt::format("{}.{}", e.key, p.key);
  auto add = [&](std::string key, std::string value) { lines.push_back(Line{std::move(key), std::move(value), {}}); };
  if (p.key == "dbname") {
    add("dbname", toml_quote(p.value));
  } else if (p.key == "host") {
    auto hosts = split_list(p.value);
    std::string h = hosts.empty() ? std::string("127.0.0.1") : hosts.front();
    if (hosts.size() > 1)
      note(e, where, fmt::format("one host per database in pgopt; {} kept (use replicas for standbys)", h));
    if (h.starts_with("/")) {
      note(e, where, fmt::format("a Unix socket directory; pgopt connects over TCP: 127.0.0.1 instead of {}", h));
      h = "127.0.0.1";
    }
    add("host", toml_quote(h));
  } else if (p.key == "port" || p.key == "pool_size" || p.key == "min_pool_size" || p.key == "max_db_connections") {
    auto v = to_int(p.value);
    if (!v) {
      note(e, where, fmt::format("`{}` is not a whole number; dropped", p.value));
      return false;
    }
    add(p.key, std::to_string(*v));
  } else if (p.key == "pool_mode") {
    auto m = pool_mode_of(lower(p.value));
    if (!m) {
      note(e, where, fmt::format("`{}` is not a pool mode; dropped", p.value));
      return false;
    }
    if (lower(p.value) == "statement") note(e, where, "statement pooling is not supported; transaction instead");
    add("pool_mode", toml_quote(*m));
  } else {
    static const std::map<std::string, std::string, std::less<>> kWhy = {
        {"user", "pgopt logs in as each client's own user with the auth file's secret; no forced user"},
        {"password", "pgopt logs in with the auth file's secret of the client's user"},
        {"auth_user", "not supported: every user must be in the auth file"},
        {"reserve_pool", "no reserve pool"},
        {"connect_query", "not supported: use ALTER ROLE/DATABASE ... SET on the server"},
        {"client_encoding", "clients' own startup parameters are passed; or ALTER DATABASE ... SET"},
        {"datestyle", "clients' own startup parameters are passed; or ALTER DATABASE ... SET"},
        {"timezone", "clients' own startup parameters are passed; or ALTER DATABASE ... SET"},
        {"application_name", "clients' own application_name is passed"},
        {"max_db_client_connections", "not supported: max_client_conn counts all clients"},
    };
    auto it = kWhy.find(p.key);
    note(e, where, it == kWhy.end() ? std::string("not a database setting pgopt knows; dropped") : it->second + "; dropped");
    return false;
  }
  return true;
}

void Importer::render() {
  std::string& t = out_.toml;
  t += fmt::format("# pgopt configuration translated from {} by `pgopt import-pgbouncer`.\n", main_file());
  t += "# Every key is explained in docs/configuration.md; check this file with `pgopt check-config`.\n";
  t += "# The comment after a value says where it came from.\n\n[pooler]\n";
  for (const auto& l : pooler_)
    t += l.comment.empty() ? fmt::format("{} = {}\n", l.key, l.value)
                           : fmt::format("{} = {}  # {}\n", l.key, l.value, l.comment);
  for (const auto& [name, lines] : databases_) {
    t += fmt::format("\n[databases.{}]\n", toml_key(name));
    for (const auto& l : lines) t += fmt::format("{} = {}\n", l.key, l.value);
  }
  if (databases_.empty())
    t += "\n# [databases.app]\n# host = \"127.0.0.1\"\n# port = 5432\n";
}

void Importer::summarize() {
  auto& s = out_.summary;
  bool transaction = std::any_of(pooler_.begin(), pooler_.end(), [](const Line& l) {
    return l.key == "pool_mode" && l.value == "\"transaction\"";
  });
  for (const auto& [name, lines] : databases_)
    for (const auto& l : lines) transaction |= l.key == "pool_mode" && l.value == "\"transaction\"";
  if (transaction) {
    s.push_back("transaction pooling keeps every SET, RESET and set_config(..., false) of a client and replays it on "
                "its next server; PgBouncer 1.18 tracks only client_encoding, DateStyle, TimeZone, "
                "standard_conforming_strings and application_name and leaves other settings on the server for "
                "the next client");
    s.push_back("a client that leaves session state pgopt cannot carry (SET ROLE, LISTEN, advisory locks, temporary "
                "tables, SQL PREPARE) gets its server reset with DISCARD ALL before anyone else uses it");
    s.push_back("named prepared statements work in transaction mode (max_prepared_statements = 200); PgBouncer "
                "1.18 has no such support");
  }
  s.push_back("SIGTERM drains (running transactions get up to shutdown_timeout, 30 s); PgBouncer's SIGTERM stops "
              "at once. SIGUSR1/SIGUSR2 do nothing: use PAUSE and RESUME on the admin console");
  s.push_back("the admin console is the database `pgopt`, for admin_users only; logs go to stderr; there is no "
              "Unix socket");
}

}  // namespace

ImportResult import_ini(const IniFile& ini, const ImportOptions& opts) {
  ImportResult r = Importer(ini, opts).run();
  // What pgopt itself would refuse in the translation (an auth_type that needs an auth file the ini
  // does not name, say) is an error too, whatever else went wrong.
  auto check = parse_config(r.toml, "<import-pgbouncer output>");
  for (const auto& e : check.errors) r.errors.push_back(e.to_string());
  return r;
}

ImportResult import_file(const std::string& ini_path, const ImportOptions& opts) {
  return import_ini(read_ini(ini_path), opts);
}

}  // namespace pgopt::pooler::pgbouncer
