// The advisor's pipeline: workload + catalog -> query models -> candidates -> what-if costs ->
// workload-wide selection -> drops, partitioning, unserved queries. Produces the Advice that the
// report writers render.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/advisor/candidates.hpp"
#include "analyzer/advisor/drops.hpp"
#include "analyzer/advisor/explain.hpp"
#include "analyzer/advisor/partitioning.hpp"
#include "analyzer/advisor/selection.hpp"
#include "analyzer/advisor/verify_decision.hpp"
#include "analyzer/workload.hpp"

namespace pgopt::analyzer::advisor {

struct AdvisorOptions {
  SelectionOptions selection;
  bool show_samples = false;
  size_t top_groups = 10;
  size_t explain_top = 20;  // statement groups by total time that each get an outcome
  std::function<void(const std::string& stage, size_t done, size_t total)> progress;
  // More evaluators like the one advise() is given (each its own HypoPG connection): the search
  // costs independent moves on all of them at once.
  std::vector<Evaluator*> parallel;
};

struct GroupSummary {
  uint64_t fingerprint = 0;
  std::string normalized;
  uint64_t calls = 0;
  double total_ms = 0, mean_ms = 0, p95_ms = 0, max_ms = 0;
  std::vector<std::string> samples;  // only with show_samples
};

struct Recommendation {
  IndexSpec index;
  std::string name;
  std::string ddl;
  double size_bytes = 0;
  double benefit = 0;       // planner cost units saved per workload (net of write overhead)
  double benefit_pct = 0;   // of the workload cost before
  double write_overhead = 0;
  std::vector<std::string> reasons;
  std::vector<GroupCost> groups;
  std::string kind;         // btree | partial | covering
  std::optional<Measured> measured;  // with --verify: built and timed on the staging database
  // A BRIN chosen over a one-column B-tree on the same column, or the reverse: the other one, with
  // its estimated size, which --verify measures too (the planner's BRIN costs are pessimistic).
  std::optional<IndexSpec> alternative;
  double alternative_bytes = 0, alternative_benefit = 0;  // estimated, costed alone
  std::vector<std::string> alternative_reasons;
  std::vector<GroupCost> alternative_groups;             // per call, the alternative alone
};

struct UnservedQuery {
  GroupSummary group;
  std::string relation, column, why, suggestion;
  IndexSpec gin;  // the GIN index --verify measures for it (no columns: none)
};

// One of the costliest statement groups and what became of it.
struct CostlyGroup {
  GroupSummary group;
  Explained outcome;
};

struct Advice {
  int schema_version = 1;
  std::string evaluation;   // hypopg | cost_model | heuristic
  std::string catalog_source;
  // Summary of the workload.
  std::optional<std::string> first_timestamp, last_timestamp;
  uint64_t statements = 0, groups = 0, parse_failures = 0, unparsable_lines = 0;
  uint64_t analysed_groups = 0, utility_groups = 0;
  uint64_t tableless_groups = 0;    // on no table of the catalog (SELECT 1, system catalogs, unknown tables)
  uint64_t utility_statements = 0;  // calls of utility groups (left out of top_groups)
  double utility_ms = 0;
  std::vector<std::string> sources;
  std::vector<GroupSummary> top_groups;
  // Results.
  double cost_before = 0, cost_after = 0;
  std::vector<Recommendation> recommendations;
  std::vector<DropSuggestion> drops;
  std::vector<PartitionAdvice> partitioning;
  std::vector<UnservedQuery> unserved;
  std::vector<CostlyGroup> explained;  // the top explain_top groups by total time, heaviest first
  // With --verify: where, and the recommendations its measurements dropped (with the reason).
  std::string verified_on;
  std::vector<Recommendation> verify_dropped;
  std::vector<std::string> notes;  // caveats the reader must know (missing stats, unknown tables ...)
  // evaluations: costings the search asked for (cache hits too); whatif_calls: those really run.
  size_t candidates = 0, evaluations = 0, whatif_calls = 0;
  std::map<uint64_t, std::string> normalized;  // fingerprint -> normalized text, for reports
};

// `evaluator` decides what-if costs (HypoPG or the cost model); the catalog must outlive the call.
Advice advise(const Workload& workload, const Catalog& catalog, Evaluator& evaluator, const AdvisorOptions& options);

}  // namespace pgopt::analyzer::advisor
