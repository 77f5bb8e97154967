// `pgopt analyze --capture FILE`: the workload capture written by `pgopt pool` (docs/capture_format.md)
// read back as a Workload, and combined with logs and pg_stat_statements.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/input.hpp"

namespace pgopt::analyzer {

// The header line (line 1) of a capture file.
struct CaptureHeader {
  std::string pgopt, started_at, written_at;
  uint64_t statements = 0, fingerprints = 0, dropped_calls = 0;
};

struct CaptureRead {
  InputResult result;  // errors are "FILE:LINE: what"; a file with any error gives no workload
  CaptureHeader header;
  uint64_t entries = 0;        // entry lines read
  uint64_t other_entries = 0;  // left out: for another database than `dbname`
};

// Reads one capture file. `dbname`: keep only the entries whose "dbname" (the database's name on
// the server) is this one; nullopt keeps every entry. Entries of one fingerprint add up.
CaptureRead read_capture(const std::string& path, const std::optional<std::string>& dbname,
                         const InputOptions& options);
// The same from memory (tests); `name` stands for the file in notes and errors.
CaptureRead read_capture_buffer(std::string_view data, const std::string& name,
                                const std::optional<std::string>& dbname, const InputOptions& options);

// Reads several capture files into one workload. Files of different pooler runs (different
// "started_at": several poolers in front of one database) add up; of files from the same run,
// only the one written last counts, since each holds totals since the run started.
InputResult read_captures(const std::vector<std::string>& paths, const std::optional<std::string>& dbname,
                          const InputOptions& options);

// Adds a capture workload into one read from logs and/or pg_stat_statements. The pooler relays
// the very executions the server logs and pg_stat_statements counts, so a fingerprint known to
// both is combined, not added: calls, times and single durations come from the source that saw
// more calls, literal samples from both, rows from pg_stat_statements or else the capture.
// Fingerprints in only one of them are kept as they are.
void merge_capture(Workload& into, const Workload& capture, const InputOptions& options);

}  // namespace pgopt::analyzer
