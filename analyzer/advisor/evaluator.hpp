// What-if costing: the cost of one call of a query group given a set of hypothetical indexes
// (existing indexes are always present). Implementations: HypoPG over libpq, or the cost model.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
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
  // Why PostgreSQL would refuse to build `index` (an expression key whose functions, operators or
  // casts are not IMMUTABLE), or empty. Offline only lower() and upper() are known to be IMMUTABLE.
  virtual std::string unusable(const IndexSpec& index);
};

// Costs already asked for, shared by the search's parallel workers (each with its own connection).
class CostCache {
 public:
  std::optional<std::optional<double>> find(const std::string& key);
  void put(std::string key, std::optional<double> cost);
  size_t hits() const;
  size_t misses() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::optional<double>> map_;
  size_t hits_ = 0, misses_ = 0;
};

// Remembers costs per (query, indexes that can serve it: can_serve in model.hpp): the greedy search
// asks the same question many times and what-if calls dominate the run time. The inner evaluator
// gets every index on the tables the query touches, so one candidate's configuration stays the
// same across the groups it is costed for (HypoPG creates nothing in between).
class CachingEvaluator : public Evaluator {
 public:
  explicit CachingEvaluator(Evaluator& inner) : inner_(inner), cache_(own_) {}
  CachingEvaluator(Evaluator& inner, CostCache& shared) : inner_(inner), cache_(shared) {}
  std::optional<double> cost(const QueryModel& q, const std::vector<const IndexSpec*>& config) override;
  std::string method() const override { return inner_.method(); }
  std::string last_error() const override { return inner_.last_error(); }
  std::string unusable(const IndexSpec& index) override { return inner_.unusable(index); }
  size_t hits() const { return cache_.hits(); }
  size_t misses() const { return cache_.misses(); }

 private:
  Evaluator& inner_;
  CostCache own_;
  CostCache& cache_;
};

// Offline estimate from catalog statistics: sequential vs index scans, index-only scans,
// ordered scans that stop at LIMIT, nested-loop lookups on join keys.
std::unique_ptr<Evaluator> make_cost_model(const Catalog& catalog);

// HypoPG on one connection (hypothetical indexes are per backend). EXPLAINs the group's samples
// with real literals, or a generic plan of the normalized text when it has none.
std::unique_ptr<Evaluator> make_hypopg(PGconn* conn);

}  // namespace pgopt::analyzer::advisor
