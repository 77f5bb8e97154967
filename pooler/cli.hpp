// The pooler's subcommands: `pgopt pool` and `pgopt check-config`.
#pragma once

namespace CLI {
class App;
}

namespace pgopt::pooler {
void register_cli(CLI::App& app);
int cli_exit_code();  // set by the subcommand that ran
}  // namespace pgopt::pooler
