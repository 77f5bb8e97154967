// `pgopt analyze`: options parsing and the pipeline's top level.
#include "analyzer/cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

namespace pgopt::analyzer {
namespace {
int g_exit = 0;
}

void register_cli(CLI::App& app) {
  auto* cmd = app.add_subcommand("analyze", "Recommend indexes and partitioning from PostgreSQL logs");
  cmd->allow_extras();
  cmd->callback([] {
    std::fprintf(stderr, "pgopt analyze: not built yet\n");
    g_exit = 2;
  });
}

int cli_exit_code() { return g_exit; }

}  // namespace pgopt::analyzer
