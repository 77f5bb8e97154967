// Existing indexes worth reviewing for removal: exact duplicates, indexes that are a prefix of
// another, unused ones (idx_scan = 0 since the statistics were reset), and ones a recommendation
// supersedes.
#pragma once

#include <string>
#include <vector>

#include "analyzer/advisor/catalog.hpp"
#include "analyzer/advisor/model.hpp"

namespace pgopt::analyzer::advisor {

struct DropSuggestion {
  std::string relation;
  std::string index;       // schema-qualified index name
  std::string definition;
  std::string kind;        // duplicate | prefix | unused | superseded
  std::string reason;
  std::string ddl;         // DROP INDEX CONCURRENTLY ...;
  double size_bytes = 0;
};

// Usage counters younger than this say little (a weekly job may not have run yet): unused indexes
// are only suggested once the statistics cover at least this many days.
inline constexpr double kUnusedMinDays = 7;

// "since 2024-05-01 00:00:00+00" (+ " (server start, never reset)"): the window usage counters cover.
std::string stats_window(const Catalog& catalog);

std::vector<DropSuggestion> find_drops(const Catalog& catalog, const std::vector<IndexSpec>& recommended);

}  // namespace pgopt::analyzer::advisor
