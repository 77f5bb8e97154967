// Every costly statement explained (issue 17, 4): each of the top statement groups by total time
// ends the report with one outcome, so none of the heaviest is silently left out of the advice.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analyzer/advisor/candidates.hpp"
#include "analyzer/advisor/selection.hpp"

namespace pgopt::analyzer::advisor {

struct Explained {
  uint64_t fingerprint = 0;
  // recommendation | existing_index | not_worth | no_btree | writes_only | not_costed | no_table |
  // skipped_table (an unlogged or temporary table)
  std::string outcome;
  int recommendation = 0;  // 1-based number in the report, for "recommendation"
  std::string index;       // the existing index, for "existing_index"
  std::string detail;      // why, with numbers; for no_btree also what would help
};

struct ExplainInput {
  const std::vector<QueryModel>& queries;
  const CandidateSet& candidates;
  const SelectionResult& selection;
  const SelectionOptions& options;
  // Per recommendation in report order: the groups it lowers.
  const std::vector<std::vector<GroupCost>>& recommended_groups;
  const std::vector<std::pair<std::string, std::string>>& partitioned;  // relation, "RANGE on col"
  // Groups on an unlogged or temporary table: fingerprint -> that table; why, per table.
  const std::map<uint64_t, std::string>& skipped_groups;
  const std::map<std::string, std::string>& skipped_tables;
};

// One outcome per fingerprint in `top` (heaviest first). `evaluator` costs the best candidate of a
// group no recommendation serves, to say by how much it fell short.
std::vector<Explained> explain_groups(const std::vector<uint64_t>& top, const ExplainInput& in, Evaluator& evaluator);

}  // namespace pgopt::analyzer::advisor
