// What-if costing: the cost of one call of a query group given a set of hypothetical indexes
// (existing indexes are always present). Implementations: HypoPG over libpq, or the cost model.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/advisor/model.hpp"

namespace pgopt::analyzer::advisor {

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Planner cost units per call; nullopt when the query cannot be costed (EXPLAIN failed ...).
  virtual std::optional<double> cost(const QueryModel& q, const std::vector<const IndexSpec*>& config) = 0;
  // "hypopg", "cost_model" (statistics) or "heuristic" (schema only).
  virtual std::string method() const = 0;
  // Last error for the report (e.g. why a group could not be explained); empty if none.
  virtual std::string last_error() const { return {}; }
};

// Remembers costs per (query, indexes on the tables it touches): the greedy search asks the same
// question many times and what-if calls dominate the run time.
class CachingEvaluator : public Evaluator {
 public:
  explicit CachingEvaluator(Evaluator& inner) : inner_(inner) {}
  std::optional<double> cost(const QueryModel& q, const std::vector<const IndexSpec*>& config) override;
  std::string method() const override { return inner_.method(); }
  std::string last_error() const override { return inner_.last_error(); }
  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  Evaluator& inner_;
  std::map<std::string, std::optional<double>> cache_;
  size_t hits_ = 0, misses_ = 0;
};

// Offline estimate from catalog statistics: sequential vs index scans, index-only scans,
// ordered scans that stop at LIMIT, nested-loop lookups on join keys.
std::unique_ptr<Evaluator> make_cost_model(const Catalog& catalog);

// HypoPG on one connection (hypothetical indexes are per backend). EXPLAINs the group's samples
// with real literals, or a generic plan of the normalized text when it has none.
std::unique_ptr<Evaluator> make_hypopg(PGconn* conn);

}  // namespace pgopt::analyzer::advisor
