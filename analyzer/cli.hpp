// The analyzer's subcommand: `pgopt analyze`.
#pragma once

namespace CLI {
class App;
}

namespace pgopt::analyzer {
void register_cli(CLI::App& app);
int cli_exit_code();  // set by the subcommand that ran
}  // namespace pgopt::analyzer
