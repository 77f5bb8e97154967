// Turns log events into QueryGroups: per-session statement/duration pairing, shapes, reservoirs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "analyzer/input.hpp"
#include "analyzer/input/fingerprint_cache.hpp"
#include "analyzer/input/log_prefix.hpp"
#include "analyzer/input/reservoir.hpp"
#include "analyzer/workload.hpp"

namespace pgopt::analyzer::input {

struct LogEvent {
  std::string_view timestamp;
  uint64_t session = 0;        // 0: unknown (all such events form one session)
  Severity severity = Severity::log;
  std::string_view message;
  std::string_view detail;     // the entry's DETAIL (bind parameters), if any
  std::string_view user;       // the session's role and database ("" when the log does not say)
  std::string_view database;
  bool tabbed = false;         // stderr: each newline inside message/detail is followed by a TAB
  uint64_t offset = 0;         // stream position of the entry's first byte (keys its samples)
};

// What one unit (a file or a byte range of one) leaves for its neighbours, so that units read in
// parallel add up to one sequential pass: a statement logged by log_statement near the end of a
// range gets its "duration: X ms" (log_duration) from the start of the next one.
struct OrphanDuration {
  uint64_t session;
  double ms;
  uint64_t offset;  // where the duration was logged
};

struct SessionCarry {
  std::vector<OrphanDuration> orphan_durations;               // lone durations seen before this unit
                                                              // saw any statement of that session
  std::vector<std::pair<uint64_t, uint64_t>> pending;         // session -> fingerprint still waiting
                                                              // for its duration at the unit's end
  std::unordered_set<uint64_t> touched;                       // sessions with activity in this unit
  bool touched_complete = true;                               // false: `touched` hit its bound
};

// The duration and literal samples of one job, across all the units it reads (one per worker
// thread, like FingerprintCache: no locking). Bottom-k samples of disjoint parts of a log merge into
// the sample of the whole, so they need not follow the units' ordered merge: a unit only feeds its
// job's heaps, and the heaps (whose thresholds by then skip most candidates) go into the workload
// once, at the end.
class SampleStore {
 public:
  struct Group {
    BottomK<double> durations;
    BottomK<std::string> samples;
  };
  Group& group(uint64_t fingerprint) { return groups_[fingerprint]; }  // references stay valid
  // Merges every sample into the group of the same fingerprint in `w` (groups `w` lacks are skipped)
  // and empties the store.
  void move_into(Workload& w, const InputOptions& options);

 private:
  std::unordered_map<uint64_t, Group> groups_;
};

class WorkloadBuilder {
 public:
  // `source`: the input's number in reading order (part of every sample key).
  WorkloadBuilder(FingerprintCache& cache, SampleStore& store, const InputOptions& options, uint64_t source);

  void on_event(const LogEvent& e);
  void on_unparsable(uint64_t lines) { w_.unparsable_lines += lines; }
  void add_bytes(uint64_t n) { w_.bytes += n; }
  Workload finish(SessionCarry& carry);

 private:
  void statement(const LogEvent& e, std::string_view text, bool execute, const double* ms);
  void lone_duration(uint64_t session, double ms, uint64_t offset);
  void touch(uint64_t session);
  // A group being built; its samples go to the job's store.
  struct Building {
    QueryGroup g;
    SampleStore::Group* sampled = nullptr;
  };
  Building* group_for(std::string_view text, bool tabbed, const std::string* search_path);
  void track_search_path(uint64_t session, std::string_view text);
  void add_duration(Building& b, double ms, uint64_t offset);

  FingerprintCache& cache_;
  SampleStore& store_;
  const InputOptions& options_;
  uint64_t source_;
  Workload w_;
  std::unordered_map<uint64_t, Building> groups_;
  std::unordered_map<uint64_t, uint64_t> pending_;  // session -> fingerprint awaiting a duration
  // session -> the search_path it SET itself (QueryGroup::search_path). Within one unit: with
  // --jobs N on one file, a later byte range does not see a SET issued in an earlier one.
  std::unordered_map<uint64_t, std::string> session_path_;
  SessionCarry carry_;
  std::string shape_, scratch_;
  std::vector<std::string_view> params_;
  std::string first_ts_, last_ts_;
};

// Adds one duration, logged at `offset` of input `source`, to a group that has already been merged
// (carry reconciliation).
void add_duration(QueryGroup& g, double ms, uint64_t source, uint64_t offset, const InputOptions& options);

}  // namespace pgopt::analyzer::input
