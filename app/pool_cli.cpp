// The pooler's subcommands: `pgopt pool --config FILE`, `pgopt check-config FILE` and
// `pgopt import-pgbouncer INI [--userlist FILE]`.
#include "app/pool_cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include "pooler/auth/userlist.hpp"
#include "pooler/config/pgbouncer_import.hpp"
#include "pooler/daemon.hpp"

namespace pgopt::app {
namespace {

using namespace pgopt::pooler;  // the part whose command line this is
int g_exit = 0;
std::string g_pool_config;
DaemonOptions g_pool_options;
std::string g_check_config;
std::string g_import_ini;
std::string g_import_userlist;

void print_errors(const std::vector<std::string>& errors) {
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
}
// The auth file the translation names: what pgopt's reader refuses, and md5 hashes SCRAM cannot use.
bool check_auth_file(const std::string& path, const std::string& toml) {
  if (!std::ifstream(path)) {
    std::fprintf(stderr, "%s: auth_file: cannot be read here; check-config reads it, so run that where it can\n",
                 path.c_str());
    return true;
  }
  auto users = auth::load_userlist(path);
  print_errors(users.errors);
  if (!users.list) return false;
  auto cfg = parse_config(toml, "pgopt.toml");
  if (cfg.config && cfg.config->pooler.auth_type == AuthType::ScramSha256) {
    for (const auto& [name, e] : users.list->users)
      if (e.kind == auth::SecretKind::Md5)
        std::fprintf(stderr, "%s: %s: an md5 hash cannot answer scram-sha-256: this user cannot log in until the "
                     "file has a SCRAM verifier or the password\n", path.c_str(), name.c_str());
  }
  return true;
}

void import_pgbouncer() {
  auto r = pgbouncer::import_file(g_import_ini, pgbouncer::ImportOptions{g_import_userlist});
  print_errors(r.diagnostics);
  bool ok = r.errors.empty();
  if (!r.auth_file.empty()) ok = check_auth_file(r.auth_file, r.toml) && ok;
  std::fputs(r.toml.c_str(), stdout);
  std::fprintf(stderr, "\nBehaviour that differs from PgBouncer:\n");
  for (const auto& s : r.summary) std::fprintf(stderr, "- %s\n", s.c_str());
  if (!ok) {
    std::fprintf(stderr, "\nThe output is not usable as it is:\n");
    print_errors(r.errors);
    g_exit = 1;
  }
}
}  // namespace

void register_pool_cli(CLI::App& app) {
  auto* pool = app.add_subcommand("pool", "Run the connection pooler");
  pool->add_option("-c,--config", g_pool_config, "Configuration file (TOML)")->required();
  pool->add_option("--handover-socket", g_pool_options.handover_socket,
                   "Unix socket where a new pgopt process may take over the listeners and idle clients");
  pool->add_option("--takeover", g_pool_options.takeover,
                   "Take over the listeners and idle clients of the pgopt process offering this Unix socket");
  pool->callback([] {
    auto loaded = load_all(g_pool_config);
    if (!loaded.config) {
      print_errors(loaded.errors);
      g_exit = 1;
      return;
    }
    Daemon daemon(std::move(loaded), g_pool_options);
    g_exit = daemon.run();
  });

  auto* check = app.add_subcommand("check-config", "Validate a configuration file and its auth file");
  check->add_option("file", g_check_config, "Configuration file (TOML)")->required();
  check->callback([] {
    auto loaded = load_all(g_check_config);
    if (!loaded.config) {
      print_errors(loaded.errors);
      g_exit = 1;
      return;
    }
    std::printf("%s: ok (%zu database(s), %zu user(s) in the auth file)\n", g_check_config.c_str(),
                loaded.config->databases.size(), loaded.users->users.size());
  });

  auto* import = app.add_subcommand("import-pgbouncer",
                                    "Translate a pgbouncer.ini to pgopt's TOML on stdout; what changes goes to stderr");
  import->add_option("ini", g_import_ini, "PgBouncer's configuration file (its %include files are read too)")
      ->required();
  import->add_option("--userlist", g_import_userlist, "The auth file to use instead of the ini's auth_file");
  import->callback(import_pgbouncer);
}

int pool_cli_exit_code() { return g_exit; }

}  // namespace pgopt::app
