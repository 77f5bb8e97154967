// Reading a workload: PostgreSQL logs (any format, compressed or not) and pg_stat_statements.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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
  size_t duration_samples = 1024;   // durations kept per fingerprint for p95
  // Keep only log entries of this database (entries whose log line does not name one are kept);
  // empty: every database.
  std::string database;
};

struct InputResult {
  Workload workload;
  std::vector<std::string> errors;  // fatal problems (missing file, bad connection); lines that do
                                    // not parse are counted in the workload instead
};

// `inputs` are files, globs, or "-" for stdin; .gz and .zst are decompressed while streaming.
InputResult read_logs(const std::vector<std::string>& inputs, const InputOptions& options);
// A plain file of SQL statements (one per `;`, e.g. a query set a team wants advice on); each is
// one call with its literals as the sample. analyzer/input/sql_file.cpp.
InputResult read_sql_file(const std::string& path, const InputOptions& options);
InputResult read_pg_stat_statements(const std::string& conninfo, const InputOptions& options);
// Reads one log held in memory (the fuzzer's entry point; also handy for tests). `name` is used in
// notes and errors. Compressed data (gzip/zstd magic) is decompressed; options.jobs splits it.
InputResult read_log_buffer(std::string_view data, const InputOptions& options,
                            const std::string& name = "<memory>");
// Adds `from` into `into` (used to combine logs with pg_stat_statements and per-job partials).
// Groups of the same kind add up (reservoirs are merged so they stay uniform samples). A log group
// meeting a pg_stat_statements-only group (same fingerprint) is combined instead, since both saw
// the same calls: counts and times from the source with more calls, samples and single durations
// from the log, rows and queryids from pg_stat_statements.
void merge(Workload& into, const Workload& from, const InputOptions& options);

}  // namespace pgopt::analyzer
