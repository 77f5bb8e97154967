// The Markdown report: summary, ranked recommendations with DDL and reasons, drops, partitioning,
// queries no index helps. Only normalized SQL appears unless samples were asked for.
#include <algorithm>
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

// Collapses whitespace runs (newlines and tabs included) to one space and shortens to `max` bytes
// at a UTF-8 character boundary.
std::string one_line(const std::string& s, size_t max) {
  std::string out;
  bool space = false;
  for (char c : s) {
    bool ws = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (ws && space) continue;
    space = ws;
    out += ws ? ' ' : c;
  }
  if (out.size() > max) {
    size_t cut = max - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

// A code span that shows `s` exactly: the fence is one backtick longer than any run inside, and
// padded when the text starts or ends with a backtick (CommonMark code spans).
std::string code_span(const std::string& s) {
  size_t longest = 0, run = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  bool pad = !s.empty() && (s.front() == '`' || s.back() == '`');
  return fence + (pad ? " " : "") + s + (pad ? " " : "") + fence;
}

// Inside a table row a pipe ends the cell, even within a code span, unless escaped as \| (GFM);
// the escape is removed when rendered, so `a || b` still reads `a || b`.
std::string escape_pipes(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// SQL as inline code in a table cell.
std::string cell_sql(const std::string& s, size_t max = 160) { return escape_pipes(code_span(one_line(s, max))); }
// Plain text in a table cell.
std::string cell_text(const std::string& s) { return escape_pipes(one_line(s, 4096)); }
// SQL as inline code outside tables (list items), where a backslash would show.
std::string inline_sql(const std::string& s, size_t max = 160) { return code_span(one_line(s, max)); }

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
  if (a.utility_groups)
    o += "| Utility statements | " + std::to_string(a.utility_statements) + " calls in " + std::to_string(a.utility_groups) +
         " groups, " + num(a.utility_ms) + " ms (SET, BEGIN/COMMIT, set_config() ...: no index changes them, left out "
         "of the top groups) |\n";
  o += "| Parse failures | " + std::to_string(a.parse_failures) + " statements, " + std::to_string(a.unparsable_lines) +
       " unrecognised log lines |\n";
  if (a.cost_before > 0)
    o += "| Workload cost | " + num(a.cost_before, "%.0f") + " -> " + num(a.cost_after, "%.0f") + " (" +
         num(100.0 * (a.cost_before - a.cost_after) / a.cost_before) + "% less) |\n";
  o += "| Candidates evaluated | " + std::to_string(a.candidates) + " (" + std::to_string(a.evaluations) +
       " what-if costings) |\n\n";

  if (!a.top_groups.empty()) {
    o += "### Top statement groups by total time\n\n| # | Query | Calls | Total ms | Mean ms | p95 ms |\n|---|---|---|---|---|---|\n";
    int i = 0;
    for (const auto& g : a.top_groups)
      o += "| " + std::to_string(++i) + " | " + cell_sql(g.normalized) + " | " + std::to_string(g.calls) + " | " +
           num(g.total_ms) + " | " + num(g.mean_ms, "%.3f") + " | " + num(g.p95_ms, "%.3f") + " |\n";
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
      o += "| " + cell_text(d.index) + " | " + d.kind + " | " + human_bytes(d.size_bytes) + " | " + cell_text(d.reason) + " |\n";
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
      o += "- " + inline_sql(u.group.normalized) + " (" + std::to_string(u.group.calls) + " calls, " + num(u.group.total_ms) +
           " ms): " + u.why + ".\n  What would help: " + u.suggestion + "\n";
      for (const auto& s : u.group.samples) o += "  - sample: " + inline_sql(s, 400) + "\n";
    }
    o += "\n";
  }
  return o;
}

}  // namespace pgopt::analyzer::report
