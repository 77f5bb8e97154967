// The pooler's subcommands: `pgopt pool` and `pgopt check-config`.
#pragma once

namespace CLI {
class App;
}

namespace pgopt::app {
void register_pool_cli(CLI::App& app);
int pool_cli_exit_code();  // set by the subcommand that ran
}  // namespace pgopt::app
