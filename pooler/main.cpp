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
    return app.exit(e);
  }
  return pgopt::pooler::cli_exit_code() | pgopt::analyzer::cli_exit_code();
}
