// Entry of the `pgopt` executable: wires the subcommands each part registers, nothing else.
#include <CLI/CLI.hpp>

#include "app/analyze_cli.hpp"
#include "app/pool_cli.hpp"

#ifdef PGOPT_JEMALLOC
// Read by jemalloc at startup (MALLOC_CONF in the environment still overrides it): a background
// thread returns freed pages after they have been unused for a while (dirty_decay_ms, 10 s), so
// memory freed by clients that went idle is given back even when nothing else allocates.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true";
}
#endif

int main(int argc, char** argv) {
  CLI::App app{"pgopt: PostgreSQL connection pooler and workload analyzer"};
  app.set_version_flag("-V,--version", std::string("pgopt ") + PGOPT_VERSION);
  app.require_subcommand(1);
  pgopt::app::register_pool_cli(app);
  pgopt::app::register_analyze_cli(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error (an unknown option, a missing
    // subcommand or --config) is a usage error: 2, as the docs promise, not CLI11's own codes.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return pgopt::app::pool_cli_exit_code() | pgopt::app::analyze_cli_exit_code();
}
