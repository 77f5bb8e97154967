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

}  // namespace

namespace {

// The statements the advice does not fix, then every costly group's outcome.
std::string unserved_and_explained(const advisor::Advice& a) {
  std::string o;
  if (!a.unserved.empty()) {
    o += "## Queries no B-tree index helps\n\n";
    for (const auto& u : a.unserved) {
      o += "- " + inline_sql(u.group.normalized) + " (" + std::to_string(u.group.calls) + " calls, " + num(u.group.total_ms) +
           " ms): " + u.why + ".\n  What would help: " + u.suggestion + "\n";
      for (const auto& s : distinct_samples(u.group.samples)) o += "  - sample: " + inline_sql(s, 400) + "\n";
    }
    o += "\n";
  }
  if (!a.explained.empty()) {
    o += "## The costliest statement groups, explained\n\n| # | Query | Total ms | Outcome |\n|---|---|---|---|\n";
    int k = 0;
    for (const auto& e : a.explained)
      o += "| " + std::to_string(++k) + " | " + cell_sql(e.group.normalized) + " | " + num(e.group.total_ms) + " | " +
           cell_text(outcome_text(e.outcome)) + " |\n";
    o += "\n";
  }
  return o;
}

std::string recommendation_md(const advisor::Advice& a, const advisor::Recommendation& r, int n) {
  std::string o = "### " + std::to_string(n) + ". " + r.index.relation() + " " + r.index.describe() + "\n\n";
  o += "```sql\n" + r.ddl + "\n```\n\n";
  if (r.kind == "gin") {
    o += "- Benefit: not estimated (HypoPG cannot cost GIN indexes); measured below (gin)\n";
  } else {
    o += "- Benefit: " + grouped(r.benefit) + " cost units over the workload (" + num(r.benefit_pct) +
         "% of its cost), net of " + grouped(r.write_overhead) + " for index maintenance\n";
    o += "- Estimated size: " + human_bytes(r.size_bytes) + " (" + r.kind + ")\n";
  }
  if (r.measured) o += "- " + measured_text(a, r) + "\n";
  o += "- Why these columns:\n";
  for (const auto& why : r.reasons) o += "  - " + why + "\n";
  if (!r.groups.empty()) {
    bool timed = r.measured && r.measured->statements;
    o += timed ? "\n| Query | Calls | Cost before | Cost after | Measured ms before | Measured ms after |\n|---|---|---|---|---|---|\n"
               : "\n| Query | Calls | Cost before | Cost after |\n|---|---|---|---|\n";
    for (size_t i = 0; i < r.groups.size(); ++i) {
      const auto& g = r.groups[i];
      bool costed = r.kind != "gin";
      o += "| " + cell_sql(query_of(a, g.fingerprint)) + " | " + num(g.calls, "%.0f") + " | " +
           (costed ? num(g.before, "%.2f") : "-") + " | " + (costed ? num(g.after, "%.2f") : "-") + " |";
      if (timed && i < r.measured->groups.size()) {
        const auto& m = r.measured->groups[i];
        o += m.statements ? " " + num(m.before_ms, "%.3f") + (m.before_timed_out ? "+" : "") + " | " + num(m.after_ms, "%.3f") +
                                (m.after_timed_out ? "+" : "") + " |"
                          : " - | - |";
      }
      o += "\n";
    }
  }
  return o + "\n";
}

std::string verify_dropped_md(const advisor::Advice& a) {
  if (a.verify_dropped.empty()) return "";
  std::string o = "## Dropped after measuring on " + a.verified_on +
                  "\n\n| Index | Estimated size | Real size | Reason |\n|---|---|---|---|\n";
  for (const auto& r : a.verify_dropped)
    o += "| " + cell_text(r.index.relation() + " " + r.index.describe()) + " | " + human_bytes(r.size_bytes) + " | " +
         (r.measured->built ? human_bytes(r.measured->real_bytes) : std::string("-")) + " | " +
         cell_text(r.measured->reason) + " |\n";
  return o + "\n";
}

}  // namespace

std::string render_markdown(const advisor::Advice& a) {
  std::string o = "# pgopt analyze report\n\n";
  o += "Costs: " + std::string(evaluation_label(a.evaluation)) + ". Catalog: " + a.catalog_source + ".\n\n";

  o += "## Summary\n\n";
  o += "| | |\n|---|---|\n";
  o += "| Log span | " + cell_text(log_span(a)) + " |\n";
  o += "| Statements | " + std::to_string(a.statements) + " |\n";
  o += "| Distinct statement groups | " + groups_breakdown(a) + " |\n";
  if (a.utility_groups)
    o += "| Utility statements | " + count_of(a.utility_statements, "call", "calls") + " in " +
         count_of(a.utility_groups, "group", "groups") + ", " + num(a.utility_ms) +
         " ms (" + kUtilityExplanation + ") |\n";
  o += "| Parse failures | " + count_of(a.parse_failures, "statement", "statements") + ", " +
       count_of(a.unparsable_lines, "unrecognised log line", "unrecognised log lines") + " |\n";
  if (a.cost_before > 0)
    o += "| Workload cost | " + grouped(a.cost_before) + " -> " + grouped(a.cost_after) + " (" +
         num(100.0 * (a.cost_before - a.cost_after) / a.cost_before) + "% less) |\n";
  o += "| Candidates evaluated | " + std::to_string(a.candidates) + " (" + std::to_string(a.whatif_calls) +
       " what-if costings) |\n\n";

  if (!a.top_groups.empty()) {
    o += "### Top statement groups by total time\n\n| # | Query | Calls | Total ms | Mean ms | p95 ms |\n|---|---|---|---|---|---|\n";
    int i = 0;
    for (const auto& g : a.top_groups)
      o += "| " + std::to_string(++i) + " | " + cell_sql(g.normalized) + " | " + std::to_string(g.calls) + " | " +
           num(g.total_ms) + " | " + num(g.mean_ms, "%.3f") + " | " + num(g.p95_ms, "%.3f") + " |\n";
    o += "\n";
    // Real statements only with --show-samples (GroupSummary::samples is empty otherwise).
    i = 0;
    for (const auto& g : a.top_groups) {
      ++i;
      if (g.samples.empty()) continue;
      o += "Samples of #" + std::to_string(i) + ":\n\n";
      for (const auto& s : distinct_samples(g.samples)) o += "- " + inline_sql(s, 400) + "\n";
      o += "\n";
    }
  }
  // One quote block per note: consecutive "> " lines would run together into one paragraph.
  for (const auto& n : a.notes) o += "> **Note:** " + n + "\n\n";

  o += "## Recommended indexes\n\n";
  if (a.recommendations.empty()) o += "No index is worth its cost for this workload.\n\n";
  int n = 0;
  for (const auto& r : a.recommendations) o += recommendation_md(a, r, ++n);
  o += verify_dropped_md(a);

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
      o += "\nDDL sketch (adapt before running):\n\n```sql\n" + p.ddl + "\n```\n\nMigration:\n";
      int k = 0;
      for (const auto& m : p.migration) o += std::to_string(++k) + ". " + m + "\n";
      o += "\n";
    }
  }

  o += unserved_and_explained(a);
  return o;
}

}  // namespace pgopt::analyzer::report
