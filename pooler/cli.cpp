// placeholder: being written
#include "pooler/cli.hpp"
#include <CLI/CLI.hpp>
namespace pgopt::pooler {
void register_cli(CLI::App&) {}
int cli_exit_code() { return 0; }
}
