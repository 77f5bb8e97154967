// --format sql: only the DDL to review and apply; drops and partitioning as comments.
#include <cstdio>

#include "analyzer/report/report.hpp"

namespace pgopt::analyzer::report {
namespace {

std::string comment_lines(const std::string& text, const std::string& prefix = "-- ") {
  std::string out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out += prefix + text.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  return out;
}

}  // namespace

std::string render_sql(const advisor::Advice& a) {
  std::string out = "-- pgopt analyze: recommended indexes (costs: " + a.evaluation +
                    "). Review before applying; CONCURRENTLY cannot run inside a transaction block.\n";
  if (a.recommendations.empty()) out += "-- No index is worth its cost for this workload.\n";
  int n = 0;
  for (const auto& r : a.recommendations) {
    char line[256];
    std::snprintf(line, sizeof line, "\n-- %d. %s %s: %.1f%% of the workload cost, about %s\n", ++n,
                  r.index.relation().c_str(), r.kind.c_str(), r.benefit_pct, human_bytes(r.size_bytes).c_str());
    out += line;
    out += r.ddl + "\n";
  }
  if (!a.drops.empty()) {
    out += "\n-- Existing indexes to review for removal (commented out on purpose):\n";
    for (const auto& d : a.drops) out += "-- " + d.ddl + "  -- " + d.kind + ": " + d.reason + "\n";
  }
  for (const auto& p : a.partitioning) {
    out += "\n-- Partitioning sketch for " + p.relation + " (" + p.strategy + " on " + p.column + ", " + p.interval + "):\n";
    out += comment_lines(p.ddl);
  }
  return out;
}

}  // namespace pgopt::analyzer::report
