// The HTML report: one self-contained page (inline CSS and SVG bar charts, no scripts, no fetches).
#include <algorithm>
#include <cstdio>
#include <string>

#include "analyzer/report/report.hpp"

namespace pgopt::analyzer::report {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string num(double v, const char* f = "%.1f") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string shorten(const std::string& s, size_t n) { return s.size() > n ? s.substr(0, n - 3) + "..." : s; }

// Horizontal bars: label, value; the longest bar spans the chart.
std::string bar_chart(const std::vector<std::pair<std::string, double>>& rows, const std::string& unit) {
  if (rows.empty()) return {};
  double max = 0;
  for (const auto& r : rows) max = std::max(max, r.second);
  if (max <= 0) max = 1;
  int h = 22, width = 900, label_w = 420;
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                  std::to_string(int(rows.size()) * h + 4) + "\" role=\"img\">";
  int y = 2;
  for (const auto& [label, v] : rows) {
    int w = int((width - label_w - 110) * v / max);
    o += "<text x=\"0\" y=\"" + std::to_string(y + 15) + "\" font-size=\"12\" font-family=\"monospace\">" +
         esc(shorten(label, 60)) + "</text>";
    o += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 3) + "\" width=\"" + std::to_string(std::max(w, 1)) +
         "\" height=\"16\" fill=\"#3b7dd8\"/>";
    o += "<text x=\"" + std::to_string(label_w + std::max(w, 1) + 6) + "\" y=\"" + std::to_string(y + 15) +
         "\" font-size=\"12\">" + esc(num(v, "%.1f") + " " + unit) + "</text>";
    y += h;
  }
  return o + "</svg>\n";
}

std::string query_of(const advisor::Advice& a, uint64_t fp) {
  auto it = a.normalized.find(fp);
  return it == a.normalized.end() ? "" : it->second;
}

}  // namespace

std::string render_html(const advisor::Advice& a) {
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pgopt analyze report</title>\n"
      "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
      "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;"
      "vertical-align:top}code,pre{font-family:monospace;background:#f4f4f4}pre{padding:.6em;overflow-x:auto}"
      ".note{background:#fff8e0;padding:.4em .8em;border-left:4px solid #e0b000}</style></head><body>\n";
  o += "<h1>pgopt analyze report</h1>\n<p>Costs: <b>" + esc(a.evaluation) + "</b>; catalog: " + esc(a.catalog_source) + ".</p>\n";
  o += "<h2>Summary</h2>\n<table>";
  o += "<tr><th>Log span</th><td>" + esc(a.first_timestamp.value_or("?")) + " to " + esc(a.last_timestamp.value_or("?")) + "</td></tr>";
  o += "<tr><th>Statements</th><td>" + std::to_string(a.statements) + "</td></tr>";
  o += "<tr><th>Distinct groups</th><td>" + std::to_string(a.groups) + "</td></tr>";
  if (a.utility_groups)
    o += "<tr><th>Utility statements</th><td>" + std::to_string(a.utility_statements) + " calls in " +
         std::to_string(a.utility_groups) + " groups, " + num(a.utility_ms) + " ms (not in the top groups)</td></tr>";
  o += "<tr><th>Parse failures</th><td>" + std::to_string(a.parse_failures) + " statements, " +
       std::to_string(a.unparsable_lines) + " unrecognised log lines</td></tr>";
  if (a.cost_before > 0)
    o += "<tr><th>Workload cost</th><td>" + num(a.cost_before, "%.0f") + " &rarr; " + num(a.cost_after, "%.0f") + "</td></tr>";
  o += "</table>\n";
  for (const auto& n : a.notes) o += "<p class=\"note\">" + esc(n) + "</p>\n";
  if (a.cost_before > 0)
    o += "<h3>Estimated workload cost</h3>\n" +
         bar_chart({{"existing indexes", a.cost_before}, {"with the recommendations", a.cost_after}}, "cost units");
  std::vector<std::pair<std::string, double>> top;
  for (const auto& g : a.top_groups) top.push_back({g.normalized, g.total_ms});
  if (!top.empty()) {
    o += "<h3>Top statement groups by total time</h3>\n" + bar_chart(top, "ms");
    o += "<table><tr><th>Query</th><th>Calls</th><th>Total ms</th><th>Mean ms</th><th>p95 ms</th><th>Max ms</th></tr>";
    for (const auto& g : a.top_groups)
      o += "<tr><td><code>" + esc(shorten(g.normalized, 200)) + "</code></td><td>" + std::to_string(g.calls) + "</td><td>" +
           num(g.total_ms) + "</td><td>" + num(g.mean_ms, "%.3f") + "</td><td>" + num(g.p95_ms, "%.3f") + "</td><td>" +
           num(g.max_ms, "%.3f") + "</td></tr>";
    o += "</table>\n";
  }

  o += "<h2>Recommended indexes</h2>\n";
  if (a.recommendations.empty()) o += "<p>No index is worth its cost for this workload.</p>\n";
  std::vector<std::pair<std::string, double>> benefits;
  for (const auto& r : a.recommendations) benefits.push_back({r.index.relation() + " " + r.index.describe(), r.benefit_pct});
  if (benefits.size() > 1) o += bar_chart(benefits, "% of workload cost");
  int n = 0;
  for (const auto& r : a.recommendations) {
    o += "<h3>" + std::to_string(++n) + ". " + esc(r.index.relation() + " " + r.index.describe()) + "</h3>\n";
    o += "<pre>" + esc(r.ddl) + "</pre>\n<p>Benefit " + num(r.benefit_pct) + "% of the workload cost (" +
         num(r.benefit, "%.0f") + " units, net of " + num(r.write_overhead, "%.0f") + " for maintenance); about " +
         esc(human_bytes(r.size_bytes)) + ".</p>\n<ul>";
    for (const auto& why : r.reasons) o += "<li>" + esc(why) + "</li>";
    o += "</ul>\n<table><tr><th>Query</th><th>Calls</th><th>Before</th><th>After</th></tr>";
    for (const auto& g : r.groups)
      o += "<tr><td><code>" + esc(shorten(query_of(a, g.fingerprint), 200)) + "</code></td><td>" + num(g.calls, "%.0f") +
           "</td><td>" + num(g.before, "%.2f") + "</td><td>" + num(g.after, "%.2f") + "</td></tr>";
    o += "</table>\n";
  }
  if (!a.drops.empty()) {
    o += "<h2>Existing indexes to review for removal</h2>\n<table><tr><th>Index</th><th>Kind</th><th>Size</th><th>Reason</th></tr>";
    for (const auto& d : a.drops)
      o += "<tr><td>" + esc(d.index) + "</td><td>" + esc(d.kind) + "</td><td>" + esc(human_bytes(d.size_bytes)) + "</td><td>" +
           esc(d.reason) + "</td></tr>";
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
        o += "<tr><td><code>" + esc(shorten(query_of(a, fp), 200)) + "</code></td><td>" + num(share * 100, "%.0f") + "%</td></tr>";
      o += "</table>\n<pre>" + esc(p.ddl) + "</pre>\n<ol>";
      for (const auto& m : p.migration) o += "<li>" + esc(m) + "</li>";
      o += "</ol>\n";
    }
  }
  if (!a.unserved.empty()) {
    o += "<h2>Queries no B-tree index helps</h2>\n<ul>";
    for (const auto& u : a.unserved)
      o += "<li><code>" + esc(shorten(u.group.normalized, 200)) + "</code>: " + esc(u.why) + ". <br>What would help: <code>" +
           esc(u.suggestion) + "</code></li>";
    o += "</ul>\n";
  }
  return o + "</body></html>\n";
}

}  // namespace pgopt::analyzer::report
