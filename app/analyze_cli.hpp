// The analyzer's subcommand: `pgopt analyze`.
#pragma once

namespace CLI {
class App;
}

namespace pgopt::app {
void register_analyze_cli(CLI::App& app);
int analyze_cli_exit_code();  // set by the subcommand that ran
}  // namespace pgopt::app
