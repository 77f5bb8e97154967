// The workload as the analyzer sees it: statements grouped by fingerprint, with timing and samples.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::analyzer {

// Leads every statement pgopt analyze itself sends to a database (catalog reads, HypoPG, EXPLAIN,
// pg_stat_statements), so a later run that reads those statements back from the server's log or
// from pg_stat_statements can leave them out of the workload.
inline constexpr std::string_view kOwnStatementTag = "/* pgopt analyze */ ";
inline bool own_statement(std::string_view text) { return text.substr(0, kOwnStatementTag.size()) == kOwnStatementTag; }
inline std::string own_tagged(std::string_view sql) { return std::string(kOwnStatementTag) + std::string(sql); }

inline constexpr size_t kMaxGroupUsers = 8;

// Adds `user` to a sorted, bounded list of roles.
void add_user(std::vector<std::string>& users, std::string_view user);

struct QueryGroup {
  uint64_t fingerprint = 0;
  std::string normalized;            // constants as $1, $2 ... (never a literal from the log)
  uint64_t calls = 0;
  double total_ms = 0;               // sum of durations where the log had them
  uint64_t timed_calls = 0;          // calls that carried a duration
  double max_ms = 0;
  std::vector<double> duration_reservoir;  // bounded uniform sample of durations, for p95
  std::vector<std::string> samples;  // bounded uniform sample of real statements with literals
  uint64_t sample_seen = 0;          // how many candidates the samples reservoir has seen
  // The random keys of the kept durations and samples (parallel to the vectors above, ascending):
  // a log is sampled by keeping the smallest keys, and a key depends only on where its entry was
  // logged, so --jobs N keeps the same elements as one job (analyzer/input/reservoir.hpp). Empty
  // for groups not read from a log.
  std::vector<uint64_t> duration_keys, sample_keys;
  // false when the group came only from pg_stat_statements: its text is already $n-normalized and
  // `samples` is empty (no real literals to EXPLAIN with); true once a log contributed.
  bool has_literal_samples = true;
  bool from_pg_stat_statements = false;
  uint64_t rows = 0;                 // rows retrieved or affected (pg_stat_statements only)
  // Answered by pgopt's result cache (capture files only): not in calls or durations, since no
  // index changes what a cache hit costs.
  uint64_t cache_hits = 0;
  // The roles that ran it, as the log names them (sorted, at most kMaxGroupUsers): an unqualified
  // table name resolves through the search_path of the role that ran the statement, which may
  // differ from the analyzer's own.
  std::vector<std::string> users;
  // The search_path the logged session had set itself (SET search_path / set_config before it),
  // in the server's syntax; empty: the role's own. Such statements form a group of their own (the
  // fingerprint mixes in the setting): the same text may read other tables there.
  std::string search_path;
  std::vector<int64_t> queryids;     // pg_stat_statements queryids folded into this group
  double mean_ms() const { return timed_calls ? total_ms / double(timed_calls) : 0; }
  // Nearest-rank 95th percentile of duration_reservoir; mean_ms() when no single durations are
  // known (pg_stat_statements gives totals only).
  double p95_ms() const;
};

struct Workload {
  std::map<uint64_t, QueryGroup> groups;  // by fingerprint
  uint64_t statements = 0;
  uint64_t parse_failures = 0;    // statements libpg_query could not parse
  uint64_t unparsable_lines = 0;  // log lines that matched no known format
  std::optional<std::string> first_timestamp, last_timestamp;
  std::vector<std::string> sources;  // files read
  std::vector<std::string> notes;    // what was detected per source (format, log_line_prefix) and
                                     // anything lost on the way (truncated last line ...)
  uint64_t bytes = 0;                // log text read (after decompression)
  uint64_t entries = 0;              // log entries (a line with its continuation lines / a record)
  uint64_t other_database_entries = 0;  // entries of databases other than InputOptions::database
};

}  // namespace pgopt::analyzer
