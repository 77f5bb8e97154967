// Reading a workload: PostgreSQL logs (any format, compressed or not) and pg_stat_statements.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/workload.hpp"

namespace pgopt::analyzer {

struct InputOptions {
  std::string log_format = "auto";  // auto | stderr | csvlog | jsonlog
  std::string log_line_prefix;      // empty: detect
  int jobs = 1;
  bool progress = false;            // progress bar on stderr (only when it is a terminal)
  size_t samples_per_group = 16;    // literal samples kept per fingerprint
  uint64_t seed = 1;                // reservoir sampling is deterministic for a given seed
};

struct InputResult {
  Workload workload;
  std::vector<std::string> errors;  // fatal problems (missing file, bad connection); lines that do
                                    // not parse are counted in the workload instead
};

// `inputs` are files, globs, or "-" for stdin; .gz and .zst are decompressed while streaming.
InputResult read_logs(const std::vector<std::string>& inputs, const InputOptions& options);
InputResult read_pg_stat_statements(const std::string& conninfo, const InputOptions& options);
// Adds `from` into `into` (used to combine logs with pg_stat_statements and per-job partials).
void merge(Workload& into, const Workload& from, const InputOptions& options);

}  // namespace pgopt::analyzer
