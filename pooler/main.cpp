// Entry of the `pgopt` executable: wires the subcommands each part registers, nothing else.
#include <CLI/CLI.hpp>

#include "analyzer/cli.hpp"
#include "pooler/cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"pgopt: PostgreSQL connection pooler and workload analyzer"};
  app.set_version_flag("-V,--version", std::string("pgopt ") + PGOPT_VERSION);
  app.require_subcommand(1);
  pgopt::pooler::register_cli(app);
  pgopt::analyzer::register_cli(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error (an unknown option, a missing
    // subcommand or --config) is a usage error: 2, as the docs promise, not CLI11's own codes.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return pgopt::pooler::cli_exit_code() | pgopt::analyzer::cli_exit_code();
}
