// `pgopt analyze --verify` (issue 17, 2): what a staging run measured for one recommendation and
// whether the recommendation stays. Socket-free: the runner (verify.cpp) fills the numbers, this
// file reads EXPLAIN output and decides, so the rules are unit-tested without a server.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/advisor/catalog.hpp"
#include "analyzer/advisor/model.hpp"

namespace pgopt::analyzer::advisor {

struct Advice;

// One EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) result.
struct ExplainRun {
  bool ok = false;
  double ms = 0;                       // "Execution Time"
  double shared_hit = 0, shared_read = 0;  // the top plan node's (inclusive) buffers
  std::set<std::string> indexes;       // every "Index Name" in the plan
};
ExplainRun parse_explain_json(const std::string& json);

// One statement group a recommendation serves: best-of-runs times of its sampled statements,
// averaged per call, without and with the index.
struct GroupMeasure {
  uint64_t fingerprint = 0;
  double calls = 0;                 // weight in the workload
  size_t statements = 0;            // samples measured both ways
  size_t used = 0;                  // of those, plans that read the built index
  double before_ms = 0, after_ms = 0;
  double before_buffers = 0, after_buffers = 0;  // shared hit + read
  bool before_timed_out = false;    // before_ms is then the timeout: a lower bound
  bool after_timed_out = false;
};

struct Measured {
  std::string verdict;  // keep | drop | unmeasured (kept, as estimated)
  std::string reason;
  bool built = false;
  std::string error;        // why it was not built or measured
  double real_bytes = 0;    // pg_relation_size of every index built for it
  double build_ms = 0;
  std::vector<GroupMeasure> groups;
  // Per call, weighted by the groups' calls, over the groups measured.
  double before_ms = 0, after_ms = 0;
  size_t statements = 0, used = 0;
};

struct VerifyRules {
  // A recommendation whose measured time of the statements it serves falls by less than this
  // share is dropped: a gain inside run-to-run noise does not pay for an index's writes and space.
  double min_saving_pct = 10;
};

// Sets the totals and verdict of `m` from its groups.
void decide(Measured& m, const VerifyRules& rules = {});

// Attaches each measurement to its recommendation (same order), moves the dropped ones to
// adv.verify_dropped and renumbers the costliest groups' "recommendation #k" outcomes.
void apply_verification(Advice& adv, std::vector<Measured> measured);

// A B-tree whose BRIN alternative was measured about as fast (after_ms within `slack` of the
// B-tree's) gives way to it: same statements served at a fraction of the size. Otherwise the
// alternative's numbers are added to the reasons. `alternatives[i]` belongs to recommendation i
// (unset: none measured). Call before apply_verification.
void apply_alternatives(Advice& adv, const std::vector<std::optional<Measured>>& alternatives, const Catalog& catalog,
                        double slack = 1.25);

// The GIN indexes the unserved statement groups would need (IndexSpec::key -> the index and the
// groups it serves, with their calls), as --verify tries them.
struct GinTrial {
  IndexSpec index;
  std::vector<std::pair<uint64_t, double>> groups;  // fingerprint, calls
  Measured measured;
};
std::vector<GinTrial> gin_trials(const Advice& adv);

// A GIN index kept by its measurement becomes a recommendation (kind "gin", DDL as for any other,
// named after existing indexes and recommendations); its groups leave the unserved list and their
// costliest-group outcome points at it. One not kept stays advice, its measurement added to why.
void apply_gin_verification(Advice& adv, std::vector<GinTrial> trials, const Catalog& catalog);

}  // namespace pgopt::analyzer::advisor
