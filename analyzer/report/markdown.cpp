// The Markdown report: summary, ranked recommendations with DDL and reasons, drops, partitioning,
// queries no index helps. Only normalized SQL appears unless samples were asked for.
#include <cstdio>
#include <string>

#include "analyzer/report/report.hpp"
#include "sql/parser.hpp"

namespace pgopt::analyzer::report {
namespace {

std::string num(double v, const char* f = "%.1f") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// Inline code in a table cell: no pipes or newlines, backticks avoided.
std::string cell_sql(std::string s, size_t max = 160) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' && space) continue;
    space = c == ' ';
    out += c == '|' ? '/' : (c == '`' ? '\'' : c);
  }
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return "`" + out + "`";
}

std::string query_of(const advisor::Advice& a, uint64_t fp) {
  auto it = a.normalized.find(fp);
  return it == a.normalized.end() ? "" : it->second;
}

const char* evaluation_label(const std::string& e) {
  if (e == "hypopg") return "HypoPG what-if EXPLAIN on the live database (planner cost units)";
  if (e == "cost_model") return "pgopt's cost model from the database's statistics (planner cost units, estimated)";
  return "heuristic ranking from the schema only: no statistics, default selectivities; treat the numbers as a ranking, not a measurement";
}

}  // namespace

std::string render_markdown(const advisor::Advice& a) {
  std::string o = "# pgopt analyze report\n\n";
  o += "Costs: " + std::string(evaluation_label(a.evaluation)) + ". Catalog: " + a.catalog_source + ".\n\n";

  o += "## Summary\n\n";
  o += "| | |\n|---|---|\n";
  o += "| Log span | " + a.first_timestamp.value_or("?") + " to " + a.last_timestamp.value_or("?") + " |\n";
  o += "| Statements | " + std::to_string(a.statements) + " |\n";
  o += "| Distinct statement groups | " + std::to_string(a.groups) + " (" + std::to_string(a.analysed_groups) +
       " analysed, " + std::to_string(a.utility_groups) + " utility) |\n";
  o += "| Parse failures | " + std::to_string(a.parse_failures) + " statements, " + std::to_string(a.unparsable_lines) +
       " unrecognised log lines |\n";
  if (a.cost_before > 0)
    o += "| Workload cost | " + num(a.cost_before, "%.0f") + " -> " + num(a.cost_after, "%.0f") + " (" +
         num(100.0 * (a.cost_before - a.cost_after) / a.cost_before) + "% less) |\n";
  o += "| Candidates evaluated | " + std::to_string(a.candidates) + " (" + std::to_string(a.evaluations) +
       " what-if costings) |\n\n";

  if (!a.top_groups.empty()) {
    o += "### Top statement groups by total time\n\n| # | Query | Calls | Total ms | Mean ms |\n|---|---|---|---|---|\n";
    int i = 0;
    for (const auto& g : a.top_groups)
      o += "| " + std::to_string(++i) + " | " + cell_sql(g.normalized) + " | " + std::to_string(g.calls) + " | " +
           num(g.total_ms) + " | " + num(g.mean_ms, "%.3f") + " |\n";
    o += "\n";
  }
  for (const auto& n : a.notes) o += "> Note: " + n + "\n";
  if (!a.notes.empty()) o += "\n";

  o += "## Recommended indexes\n\n";
  if (a.recommendations.empty()) o += "No index is worth its cost for this workload.\n\n";
  int n = 0;
  for (const auto& r : a.recommendations) {
    o += "### " + std::to_string(++n) + ". " + r.index.relation() + " " + r.index.describe() + "\n\n";
    o += "```sql\n" + r.ddl + "\n```\n\n";
    o += "- Benefit: " + num(r.benefit, "%.0f") + " cost units over the workload (" + num(r.benefit_pct) +
         "% of its cost), net of " + num(r.write_overhead, "%.0f") + " for index maintenance\n";
    o += "- Estimated size: " + human_bytes(r.size_bytes) + " (" + r.kind + ")\n";
    o += "- Why these columns:\n";
    for (const auto& why : r.reasons) o += "  - " + why + "\n";
    if (!r.groups.empty()) {
      o += "\n| Query | Calls | Cost before | Cost after |\n|---|---|---|---|\n";
      for (const auto& g : r.groups)
        o += "| " + cell_sql(query_of(a, g.fingerprint)) + " | " + num(g.calls, "%.0f") + " | " + num(g.before, "%.2f") +
             " | " + num(g.after, "%.2f") + " |\n";
    }
    o += "\n";
  }

  if (!a.drops.empty()) {
    o += "## Existing indexes to review for removal\n\n| Index | Kind | Size | Reason |\n|---|---|---|---|\n";
    for (const auto& d : a.drops)
      o += "| " + d.index + " | " + d.kind + " | " + human_bytes(d.size_bytes) + " | " + d.reason + " |\n";
    o += "\n```sql\n";
    for (const auto& d : a.drops) o += "-- " + d.ddl + "\n";
    o += "```\n\n";
  }

  if (!a.partitioning.empty()) {
    o += "## Partitioning\n\n";
    for (const auto& p : a.partitioning) {
      o += "### " + p.relation + ": " + p.strategy + " on " + p.column + " (" + p.interval + ")\n\n";
      o += p.reason + ". Table size " + human_bytes(p.table_bytes) + ".\n\n";
      o += "| Query | Partitions pruned |\n|---|---|\n";
      for (const auto& [fp, share] : p.pruned) o += "| " + cell_sql(query_of(a, fp)) + " | " + num(share * 100, "%.0f") + "% |\n";
      o += "\n```sql\n" + p.ddl + "\n```\n\nMigration:\n";
      int k = 0;
      for (const auto& m : p.migration) o += std::to_string(++k) + ". " + m + "\n";
      o += "\n";
    }
  }

  if (!a.unserved.empty()) {
    o += "## Queries no B-tree index helps\n\n";
    for (const auto& u : a.unserved) {
      o += "- " + cell_sql(u.group.normalized) + " (" + std::to_string(u.group.calls) + " calls, " + num(u.group.total_ms) +
           " ms): " + u.why + ".\n  What would help: " + u.suggestion + "\n";
      for (const auto& s : u.group.samples) o += "  - sample: " + cell_sql(s) + "\n";
    }
    o += "\n";
  }
  return o;
}

}  // namespace pgopt::analyzer::report
