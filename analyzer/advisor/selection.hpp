// Workload-wide index selection: Extend-style greedy (add an index or widen a chosen one by the best
// benefit per byte, re-costing after every pick) under a size budget and an index count limit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "analyzer/advisor/candidates.hpp"
#include "analyzer/advisor/evaluator.hpp"

namespace pgopt::analyzer::advisor {

struct SelectionOptions {
  double budget_bytes = 0;         // 0: unlimited
  // A safety bound: the --min-improvement rule normally stops the search first.
  size_t max_indexes = 20;
  // Stop when the best move saves less than this share of the current workload cost (Extend's
  // published default, Kossmann et al. 2020).
  double min_improvement_pct = 0.3;
  // Index consolidation: of two picks on one table with the same leading key, the one the workload
  // loses least without must save this share of the workload cost to stay (0: off). See
  // Search::consolidate().
  double consolidate_pct = 1.0;
};

// One evaluator per parallel worker (each its own HypoPG backend); the first also does the serial
// parts. The search wraps them in one shared cost cache.
using Evaluators = std::vector<Evaluator*>;

// Planner cost units one index entry costs to write (descend a cached tree, dirty a leaf, WAL):
// about one sequentially read page.
inline constexpr double kIndexEntryWriteCost = 1.0;

// Extra write cost per workload of adding `c` given the indexes already there (`chosen` + existing):
// every INSERTed row gets an entry; an UPDATE of an indexed column loses HOT and then writes an
// entry in every index of the table.
double write_overhead(const Candidate& c, const std::vector<QueryModel>& queries,
                      const std::vector<const Candidate*>& chosen);

struct GroupCost {
  uint64_t fingerprint = 0;
  double calls = 0;
  double before = 0;  // per call, existing indexes only
  double after = 0;   // per call, with every recommendation
};

struct Selected {
  const Candidate* candidate = nullptr;
  double benefit = 0;         // cost units per workload the workload loses without it (leave-one-out)
  double write_overhead = 0;  // included in benefit
  std::vector<GroupCost> groups;  // groups whose cost it lowers
  bool widened = false;       // replaced a narrower pick during the search
  // The most useful candidate that extends this one (more key columns, e.g. the ORDER BY columns
  // after the equality ones, or INCLUDE columns) and was not taken, with what swapping it in would
  // add to the benefit (<= 0: nothing, the planner finds no cheaper plan) and cost in bytes.
  const Candidate* wider = nullptr;
  double wider_gain = 0;
  double wider_extra_bytes = 0;
  // Picks consolidation folded into this one (it serves their groups): each with what the workload
  // would have saved had it been built as well (its leave-one-out gain when dropped).
  struct Absorbed {
    const Candidate* candidate = nullptr;
    double gain = 0;
  };
  std::vector<Absorbed> absorbed;
};

struct SelectionResult {
  std::vector<Selected> selected;   // by benefit, highest first
  double cost_before = 0;           // workload cost, existing indexes
  double cost_after = 0;
  std::map<uint64_t, GroupCost> group_costs;  // every costed group
  std::vector<uint64_t> uncosted;             // groups the evaluator could not cost
  size_t evaluations = 0;      // costings asked for (cache hits included)
  size_t whatif_calls = 0;     // costings the evaluator really did (cache misses)
};

// `stage` names what is being done ("costing statements", "choosing index 3"); done/total its share.
using Progress = std::function<void(const std::string& stage, size_t done, size_t total)>;

// Lazy greedy: a move's gain is bounded by what the groups it can serve cost now (can_serve), so
// only moves whose bound beats the best exact gain are costed, and a costed move keeps its gain
// until a pick changes one of its groups' indexes. Picks the same indexes as costing every move
// every round, with a small fraction of the what-if calls; batches of moves are costed in parallel
// over `evaluators`.
SelectionResult select_indexes(const std::vector<QueryModel>& queries, const std::vector<Candidate>& candidates,
                               const Evaluators& evaluators, const SelectionOptions& options,
                               const Progress& progress = {});
inline SelectionResult select_indexes(const std::vector<QueryModel>& queries, const std::vector<Candidate>& candidates,
                                      Evaluator& evaluator, const SelectionOptions& options) {
  return select_indexes(queries, candidates, Evaluators{&evaluator}, options);
}

}  // namespace pgopt::analyzer::advisor
