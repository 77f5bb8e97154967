// The HTML report: one self-contained page (inline CSS and SVG bar charts, no scripts, no fetches).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>

#include "analyzer/report/html_charts.hpp"
#include "analyzer/report/html_text.hpp"
#include "analyzer/report/report.hpp"

namespace pgopt::analyzer::report {
namespace {

std::string esc(const std::string& s) { return html_escape(s); }

std::string num(double v, const char* f = "%.1f") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// Characters of `s` as displayed (UTF-8 continuation bytes do not count).
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string code(const std::string& sql, size_t max = 300) { return "<code>" + esc(one_line(sql, max)) + "</code>"; }

// Horizontal bars: a label column sized to the longest (shortened) label, bars scaled to the
// largest value, the value printed after each bar; the full label is the row's tooltip.
std::string bar_chart(const std::vector<std::pair<std::string, double>>& rows,
                      const std::function<std::string(double)>& value_text) {
  if (rows.empty()) return {};
  constexpr double kChar = 7.3;  // px per character of 12px monospace
  constexpr size_t kLabelMax = 56;
  constexpr int kWidth = 960, kRow = 22;
  double max = 0;
  size_t label_chars = 0, value_chars = 0;
  for (const auto& [label, v] : rows) {
    max = std::max(max, v);
    label_chars = std::max(label_chars, display_width(one_line(label, kLabelMax)));
    value_chars = std::max(value_chars, display_width(value_text(v)));
  }
  if (max <= 0) max = 1;
  int label_w = int(double(label_chars) * kChar) + 12;
  int value_w = int(double(value_chars) * kChar) + 12;
  int bar_max = std::max(80, kWidth - label_w - value_w);
  int width = label_w + bar_max + value_w;
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " + std::to_string(width) + " " +
                  std::to_string(int(rows.size()) * kRow + 4) + "\" width=\"" + std::to_string(width) + "\" role=\"img\">";
  int y = 2;
  for (const auto& [label, v] : rows) {
    int w = std::max(1, int(bar_max * std::max(0.0, v) / max));
    o += "<g><title>" + esc(one_line(label, 2000)) + "</title>";
    o += "<text x=\"0\" y=\"" + std::to_string(y + 15) + "\" font-size=\"12\" font-family=\"monospace\">" +
         esc(one_line(label, kLabelMax)) + "</text>";
    o += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 3) + "\" width=\"" + std::to_string(w) +
         "\" height=\"16\" fill=\"#3b7dd8\"/>";
    o += "<text x=\"" + std::to_string(label_w + w + 6) + "\" y=\"" + std::to_string(y + 15) +
         "\" font-size=\"12\" font-family=\"monospace\">" + esc(value_text(v)) + "</text></g>";
    y += kRow;
  }
  return o + "</svg>\n";
}

std::string query_of(const advisor::Advice& a, uint64_t fp) {
  auto it = a.normalized.find(fp);
  return it == a.normalized.end() ? "" : it->second;
}

std::string samples_list(const std::vector<std::string>& samples) {
  if (samples.empty()) return {};
  std::string o = "<ul class=\"samples\">";
  for (const auto& s : distinct_samples(samples)) o += "<li>sample: " + code(s, 400) + "</li>";
  return o + "</ul>";
}

}  // namespace

namespace {

// The statements the advice does not fix, then every costly group's outcome.
std::string unserved_and_explained(const advisor::Advice& a) {
  std::string o;
  if (!a.unserved.empty()) {
    o += "<h2>Queries no B-tree index helps</h2>\n<ul>";
    for (const auto& u : a.unserved)
      o += "<li>" + code(u.group.normalized) + " (" + count_of(u.group.calls, "call", "calls") + ", " + num(u.group.total_ms) +
           " ms): " + esc(u.why) + ".<br>What would help: " + esc(u.suggestion) + samples_list(u.group.samples) + "</li>";
    o += "</ul>\n";
  }
  if (!a.explained.empty()) {
    o += "<h2>The costliest statement groups, explained</h2>\n<table><tr><th>#</th><th>Query</th><th>Total ms</th><th>Outcome</th></tr>";
    int k = 0;
    for (const auto& e : a.explained)
      o += "<tr><td class=\"n\">" + std::to_string(++k) + "</td><td>" + code(e.group.normalized) + "</td><td class=\"n\">" +
           num(e.group.total_ms) + "</td><td>" + esc(outcome_text(e.outcome)) + "</td></tr>";
    o += "</table>\n";
  }
  return o;
}

// One recommendation: DDL, estimates, --verify's measurement, reasons, per-query costs.
std::string recommendation_html(const advisor::Advice& a, const advisor::Recommendation& r, int n) {
  std::string o = "<section class=\"recommendation\"><h3>" + std::to_string(n) + ". " +
                  esc(r.index.relation() + " " + r.index.describe()) + "</h3>\n";
  if (r.kind == "gin")
    o += "<pre>" + esc(r.ddl) + "</pre>\n<p>Benefit: not estimated (HypoPG cannot cost GIN indexes); measured below (gin).</p>\n";
  else
    o += "<pre>" + esc(r.ddl) + "</pre>\n<p>Benefit: " + grouped(r.benefit) + " cost units over the workload (" +
         num(r.benefit_pct) + "% of its cost), net of " + grouped(r.write_overhead) +
         " for index maintenance. Estimated size: " + esc(human_bytes(r.size_bytes)) + " (" + esc(r.kind) + ").</p>\n";
  if (r.measured) o += "<p>" + esc(measured_text(a, r)) + ".</p>\n";
  o += "<p>Why these columns:</p><ul>";
  for (const auto& why : r.reasons) o += "<li>" + esc(why) + "</li>";
  o += "</ul>\n<table><tr><th>Query</th><th>Calls</th><th>Cost before</th><th>Cost after</th></tr>";
  for (const auto& g : r.groups)
    o += "<tr><td>" + code(query_of(a, g.fingerprint)) + "</td><td class=\"n\">" + num(g.calls, "%.0f") +
         "</td><td class=\"n\">" + num(g.before, "%.2f") + "</td><td class=\"n\">" + num(g.after, "%.2f") + "</td></tr>";
  return o + "</table></section>\n";
}

std::string verify_dropped_html(const advisor::Advice& a) {
  if (a.verify_dropped.empty()) return "";
  std::string o = "<h2>Dropped after measuring on " + esc(a.verified_on) +
                  "</h2>\n<table><tr><th>Index</th><th>Estimated size</th><th>Real size</th><th>Reason</th></tr>";
  for (const auto& r : a.verify_dropped)
    o += "<tr><td>" + esc(r.index.relation() + " " + r.index.describe()) + "</td><td class=\"n\">" +
         esc(human_bytes(r.size_bytes)) + "</td><td class=\"n\">" +
         (r.measured->built ? esc(human_bytes(r.measured->real_bytes)) : std::string("-")) + "</td><td>" +
         esc(r.measured->reason) + "</td></tr>";
  return o + "</table>\n";
}

}  // namespace

std::string render_html(const advisor::Advice& a) {
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>pgopt analyze report</title>\n"
      "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
      "table{border-collapse:collapse;margin:.5em 0;display:block;max-width:100%;overflow-x:auto}"
      "code{overflow-wrap:anywhere}.legend{font-size:.9em}h1{font-size:1.6em}"
      "@media (max-width:600px){body{margin:.5em auto;padding:0 .5em}td,th{padding:.2em .3em}}"
      "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;"
      "vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
      "code,pre{font-family:monospace;background:#f4f4f4}pre{padding:.6em;white-space:pre-wrap;overflow-wrap:anywhere}"
      ".chart{max-width:100%;height:auto}.samples{margin:.2em 0;font-size:.9em}"
      ".note{background:#fff8e0;padding:.4em .8em;border-left:4px solid #e0b000}</style></head><body>\n";
  o += "<h1>pgopt analyze report</h1>\n<p>Costs: " + esc(evaluation_label(a.evaluation)) + ". Catalog: " +
       esc(a.catalog_source) + ".</p>\n";
  o += "<section id=\"summary\"><h2>Summary</h2>\n<table>";
  o += "<tr><th>Log span</th><td>" + esc(log_span(a)) + "</td></tr>";
  o += "<tr><th>Statements</th><td>" + std::to_string(a.statements) + "</td></tr>";
  o += "<tr><th>Distinct statement groups</th><td>" + esc(groups_breakdown(a)) + "</td></tr>";
  if (a.utility_groups)
    o += "<tr><th>Utility statements</th><td>" + count_of(a.utility_statements, "call", "calls") + " in " +
         count_of(a.utility_groups, "group", "groups") + ", " + num(a.utility_ms) +
         " ms (" + esc(kUtilityExplanation) + ")</td></tr>";
  o += "<tr><th>Parse failures</th><td>" + count_of(a.parse_failures, "statement", "statements") + ", " +
       count_of(a.unparsable_lines, "unrecognised log line", "unrecognised log lines") + "</td></tr>";
  if (a.cost_before > 0)
    o += "<tr><th>Workload cost</th><td>" + grouped(a.cost_before) + " &rarr; " + grouped(a.cost_after) + " (" +
         num(100.0 * (a.cost_before - a.cost_after) / a.cost_before) + "% less)</td></tr>";
  o += "<tr><th>Candidates evaluated</th><td>" + std::to_string(a.candidates) + " (" + std::to_string(a.whatif_calls) +
       " what-if costings)</td></tr>";
  o += "</table></section>\n";
  for (const auto& n : a.notes) o += "<p class=\"note\">" + esc(n) + "</p>\n";
  auto cost_units = [](double v) { return grouped(v) + " cost units"; };
  if (a.cost_before > 0)
    o += "<h3>Estimated workload cost</h3>\n" +
         bar_chart({{"existing indexes", a.cost_before}, {"with the recommendations", a.cost_after}}, cost_units);
  if (std::string per_group = cost_per_group_chart(a); !per_group.empty())
    o += "<h3>Cost per statement group, before and after</h3>\n" + per_group;
  std::vector<std::pair<std::string, double>> top;
  for (const auto& g : a.top_groups) top.push_back({g.normalized, g.total_ms});
  if (!top.empty()) {
    o += "<h3>Top statement groups by total time</h3>\n" + bar_chart(top, [](double v) { return num(v) + " ms"; });
    o += "<table><tr><th>#</th><th>Query</th><th>Calls</th><th>Total ms</th><th>Mean ms</th><th>p95 ms</th><th>Max ms</th></tr>";
    int i = 0;
    for (const auto& g : a.top_groups)
      o += "<tr><td class=\"n\">" + std::to_string(++i) + "</td><td>" + code(g.normalized) + samples_list(g.samples) +
           "</td><td class=\"n\">" + std::to_string(g.calls) + "</td><td class=\"n\">" + num(g.total_ms) +
           "</td><td class=\"n\">" + num(g.mean_ms, "%.3f") + "</td><td class=\"n\">" + num(g.p95_ms, "%.3f") +
           "</td><td class=\"n\">" + num(g.max_ms, "%.3f") + "</td></tr>";
    o += "</table>\n";
  }

  o += "<h2>Recommended indexes</h2>\n";
  if (a.recommendations.empty()) o += "<p>No index is worth its cost for this workload.</p>\n";
  std::vector<std::pair<std::string, double>> benefits;
  for (const auto& r : a.recommendations) benefits.push_back({r.index.relation() + " " + r.index.describe(), r.benefit_pct});
  if (benefits.size() > 1)
    o += "<h3>Benefit of each index (share of the workload cost)</h3>\n" +
         bar_chart(benefits, [](double v) { return num(v) + "%"; });
  if (!a.recommendations.empty())
    o += "<h3>Index size against benefit</h3>\n" + size_vs_benefit_chart(a);
  int n = 0;
  for (const auto& r : a.recommendations) o += recommendation_html(a, r, ++n);
  o += verify_dropped_html(a);
  if (!a.drops.empty()) {
    o += "<h2>Existing indexes to review for removal</h2>\n"
         "<table><tr><th>Index</th><th>Kind</th><th>Size</th><th>Reason</th></tr>";
    for (const auto& d : a.drops)
      o += "<tr><td>" + esc(d.index) + "</td><td>" + esc(d.kind) + "</td><td class=\"n\">" + esc(human_bytes(d.size_bytes)) +
           "</td><td>" + esc(d.reason) + "</td></tr>";
    o += "</table>\n<pre>";
    for (const auto& d : a.drops) o += esc("-- " + d.ddl) + "\n";
    o += "</pre>\n";
  }
  if (!a.partitioning.empty()) {
    o += "<h2>Partitioning</h2>\n";
    for (const auto& p : a.partitioning) {
      o += "<h3>" + esc(p.relation + ": " + p.strategy + " on " + p.column + " (" + p.interval + ")") + "</h3>\n<p>" +
           esc(p.reason) + ". Table size " + esc(human_bytes(p.table_bytes)) + ".</p>\n";
      o += "<table><tr><th>Query</th><th>Partitions pruned</th></tr>";
      for (const auto& [fp, share] : p.pruned)
        o += "<tr><td>" + code(query_of(a, fp)) + "</td><td class=\"n\">" + num(share * 100, "%.0f") + "%</td></tr>";
      o += "</table>\n<p>DDL sketch (adapt before running):</p><pre>" + esc(p.ddl) + "</pre>\n<p>Migration:</p><ol>";
      for (const auto& m : p.migration) o += "<li>" + esc(m) + "</li>";
      o += "</ol>\n";
    }
  }
  o += unserved_and_explained(a);
  return o + "</body></html>\n";
}

}  // namespace pgopt::analyzer::report
