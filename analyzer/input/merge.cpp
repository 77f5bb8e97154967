// merge(): adds one Workload into another (per-job partials, several logs, logs + pg_stat_statements).
#include <algorithm>

#include "analyzer/input.hpp"
#include "analyzer/input/reservoir.hpp"

namespace pgopt::analyzer {
namespace {

bool pss_only(const QueryGroup& g) { return g.from_pg_stat_statements && !g.has_literal_samples; }
bool log_only(const QueryGroup& g) { return !g.from_pg_stat_statements; }

void add_queryids(QueryGroup& into, const QueryGroup& from) {
  for (int64_t q : from.queryids)
    if (std::find(into.queryids.begin(), into.queryids.end(), q) == into.queryids.end()) into.queryids.push_back(q);
}

// The same statements seen by two sources of the same kind: everything adds up.
void add_group(QueryGroup& a, const QueryGroup& b, const InputOptions& o) {
  input::bottom_k_merge(a.duration_reservoir, a.duration_keys, b.duration_reservoir, b.duration_keys,
                        o.duration_samples, input::mix64(o.seed ^ a.fingerprint ^ 0xd0));
  input::bottom_k_merge(a.samples, a.sample_keys, b.samples, b.sample_keys, o.samples_per_group,
                        input::mix64(o.seed ^ a.fingerprint ^ 0x5a));
  a.calls += b.calls;
  a.total_ms += b.total_ms;
  a.timed_calls += b.timed_calls;
  a.max_ms = std::max(a.max_ms, b.max_ms);
  a.sample_seen += b.sample_seen;
  a.rows += b.rows;
  a.has_literal_samples = a.has_literal_samples || b.has_literal_samples;
  a.from_pg_stat_statements = a.from_pg_stat_statements || b.from_pg_stat_statements;
  if (a.normalized.empty()) a.normalized = b.normalized;
  for (const auto& u : b.users) add_user(a.users, u);
  add_queryids(a, b);
}

// A log and pg_stat_statements describe overlapping periods, so adding would count calls twice:
// counts and times come from whichever saw more calls (pg_stat_statements usually: it sees calls
// below log_min_duration_statement too), literal samples and single durations from the log.
void combine_log_and_pss(QueryGroup& a, const QueryGroup& b) {
  const QueryGroup& log = log_only(a) ? a : b;
  const QueryGroup& pss = log_only(a) ? b : a;
  QueryGroup out = log;
  if (pss.calls > log.calls) {
    out.calls = pss.calls;
    out.total_ms = pss.total_ms;
    out.timed_calls = pss.timed_calls;
    out.max_ms = std::max(log.max_ms, pss.max_ms);
  }
  out.rows = pss.rows;
  for (const auto& u : pss.users) add_user(out.users, u);
  out.from_pg_stat_statements = true;
  out.has_literal_samples = true;
  add_queryids(out, pss);
  a = std::move(out);
}

}  // namespace

void merge(Workload& into, const Workload& from, const InputOptions& options) {
  for (const auto& [fp, g] : from.groups) {
    auto [it, fresh] = into.groups.try_emplace(fp, g);
    if (fresh) continue;
    QueryGroup& a = it->second;
    if ((pss_only(a) && log_only(g)) || (log_only(a) && pss_only(g))) combine_log_and_pss(a, g);
    else add_group(a, g, options);
  }
  into.statements += from.statements;
  into.parse_failures += from.parse_failures;
  into.unparsable_lines += from.unparsable_lines;
  into.bytes += from.bytes;
  into.entries += from.entries;
  into.other_database_entries += from.other_database_entries;
  if (from.first_timestamp && (!into.first_timestamp || *from.first_timestamp < *into.first_timestamp))
    into.first_timestamp = from.first_timestamp;
  if (from.last_timestamp && (!into.last_timestamp || *from.last_timestamp > *into.last_timestamp))
    into.last_timestamp = from.last_timestamp;
  into.sources.insert(into.sources.end(), from.sources.begin(), from.sources.end());
  into.notes.insert(into.notes.end(), from.notes.begin(), from.notes.end());
}

}  // namespace pgopt::analyzer
