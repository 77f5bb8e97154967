// The pooler's subcommands: `pgopt pool --config FILE` and `pgopt check-config FILE`.
#include "pooler/cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "pooler/daemon.hpp"

namespace pgopt::pooler {
namespace {
int g_exit = 0;
std::string g_pool_config;
std::string g_check_config;

void print_errors(const std::vector<std::string>& errors) {
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
}
}  // namespace

void register_cli(CLI::App& app) {
  auto* pool = app.add_subcommand("pool", "Run the connection pooler");
  pool->add_option("-c,--config", g_pool_config, "Configuration file (TOML)")->required();
  pool->callback([] {
    auto loaded = load_all(g_pool_config);
    if (!loaded.config) {
      print_errors(loaded.errors);
      g_exit = 1;
      return;
    }
    Daemon daemon(std::move(loaded));
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
}

int cli_exit_code() { return g_exit; }

}  // namespace pgopt::pooler
