// Inline SVG charts of the HTML report: workload cost before/after per statement group, and each
// recommended index's size against its benefit. No scripts, no fetches; they scale to the page.
#include "analyzer/report/html_charts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "analyzer/report/html_text.hpp"
#include "analyzer/report/report.hpp"

namespace pgopt::analyzer::report {
namespace {

std::string esc(const std::string& s) { return html_escape(s); }

std::string fmt_num(double v, const char* f = "%.0f") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string text(double x, double y, const std::string& s, const std::string& extra = "") {
  return "<text x=\"" + fmt_num(x) + "\" y=\"" + fmt_num(y) + "\" font-size=\"12\" " + extra + ">" + esc(s) + "</text>";
}

constexpr const char* kBefore = "#c8553d";
constexpr const char* kAfter = "#3b7dd8";

}  // namespace

std::string cost_per_group_chart(const advisor::Advice& a, size_t max_groups) {
  struct Row {
    uint64_t fp;
    double before, after;
  };
  std::map<uint64_t, Row> by_group;  // a group several indexes help is listed under each: once here
  for (const auto& r : a.recommendations)
    for (const auto& g : r.groups) by_group[g.fingerprint] = Row{g.fingerprint, g.calls * g.before, g.calls * g.after};
  std::vector<Row> rows;
  for (const auto& [fp, row] : by_group)
    if (row.before > 0) rows.push_back(row);
  if (rows.empty()) return {};
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) { return x.before > y.before; });
  if (rows.size() > max_groups) rows.resize(max_groups);
  double max = rows.front().before;
  for (const auto& r : rows) max = std::max(max, r.after);
  constexpr int kWidth = 640, kLabel = 40, kValue = 150, kRow = 44;
  const int bar_max = kWidth - kLabel - kValue;
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " + std::to_string(kWidth) +
                  " " + std::to_string(int(rows.size()) * kRow + 30) + "\" width=\"" + std::to_string(kWidth) + "\" role=\"img\" aria-label=\"Workload cost per "
                  "statement group, before and after the recommendations\">";
  o += "<rect x=\"" + std::to_string(kLabel) + "\" y=\"4\" width=\"12\" height=\"12\" fill=\"" + kBefore + "\"/>" +
       text(kLabel + 16, 14, "existing indexes") + "<rect x=\"" + std::to_string(kLabel + 150) +
       "\" y=\"4\" width=\"12\" height=\"12\" fill=\"" + kAfter + "\"/>" + text(kLabel + 166, 14, "with the recommendations");
  int y = 26;
  int i = 0;
  for (const auto& r : rows) {
    auto it = a.normalized.find(r.fp);
    std::string query = it == a.normalized.end() ? "" : it->second;
    o += "<g><title>" + esc(one_line(query, 2000)) + "</title>";
    o += text(0, y + 24, "Q" + std::to_string(++i), "font-family=\"monospace\"");
    for (auto [v, color, dy] : {std::tuple{r.before, kBefore, 2}, std::tuple{r.after, kAfter, 20}}) {
      int w = std::max(1, int(bar_max * v / max));
      o += "<rect x=\"" + std::to_string(kLabel) + "\" y=\"" + std::to_string(y + dy) + "\" width=\"" + std::to_string(w) +
           "\" height=\"16\" fill=\"" + color + "\"/>";
      o += text(kLabel + w + 6, y + dy + 13, grouped(v));
    }
    o += "</g>";
    y += kRow;
  }
  o += "</svg>\n<ol class=\"legend\">";
  for (const auto& r : rows) {
    auto it = a.normalized.find(r.fp);
    o += "<li><code>" + esc(one_line(it == a.normalized.end() ? "" : it->second, 160)) + "</code> " +
         fmt_num(r.before > 0 ? 100.0 * (r.before - r.after) / r.before : 0) + "% less</li>";
  }
  return o + "</ol>\n";
}

std::string size_vs_benefit_chart(const advisor::Advice& a) {
  if (a.recommendations.empty()) return {};
  constexpr int kWidth = 640, kHeight = 300, kLeft = 56, kBottom = 40, kTop = 12, kRight = 24;
  double max_size = 1, max_pct = 1;
  for (const auto& r : a.recommendations) {
    max_size = std::max(max_size, r.size_bytes);
    max_pct = std::max(max_pct, r.benefit_pct);
  }
  max_pct = std::ceil(max_pct / 10) * 10;
  auto px = [&](double size) { return kLeft + (kWidth - kLeft - kRight) * size / max_size; };
  auto py = [&](double pct) { return kHeight - kBottom - (kHeight - kBottom - kTop) * pct / max_pct; };
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " + std::to_string(kWidth) +
                  " " + std::to_string(kHeight) + "\" width=\"" + std::to_string(kWidth) + "\" role=\"img\" aria-label=\"Index size against benefit\">";
  const std::string axis = "stroke=\"#888\" stroke-width=\"1\"";
  o += "<line x1=\"" + std::to_string(kLeft) + "\" y1=\"" + fmt_num(py(0)) + "\" x2=\"" + std::to_string(kWidth - kRight) +
       "\" y2=\"" + fmt_num(py(0)) + "\" " + axis + "/>";
  o += "<line x1=\"" + std::to_string(kLeft) + "\" y1=\"" + std::to_string(kTop) + "\" x2=\"" + std::to_string(kLeft) +
       "\" y2=\"" + fmt_num(py(0)) + "\" " + axis + "/>";
  for (int t = 0; t <= 4; ++t) {
    double pct = max_pct * t / 4, size = max_size * t / 4;
    o += text(kLeft - 6, py(pct) + 4, fmt_num(pct) + "%", "text-anchor=\"end\"");
    o += text(px(size), py(0) + 16, human_bytes(size), "text-anchor=\"middle\"");
  }
  o += text((kLeft + kWidth - kRight) / 2.0, kHeight - 6, "estimated index size", "text-anchor=\"middle\"");
  o += text(14, (kTop + py(0)) / 2, "benefit", "text-anchor=\"middle\" transform=\"rotate(-90 14 " +
                                                   fmt_num((kTop + py(0)) / 2) + ")\"");
  int n = 0;
  for (const auto& r : a.recommendations) {
    ++n;
    double x = px(r.size_bytes), y = py(r.benefit_pct);
    o += "<g><title>" + esc(std::to_string(n) + ". " + r.index.relation() + " " + r.index.describe() + ": " +
                            human_bytes(r.size_bytes) + ", " + fmt_num(r.benefit_pct, "%.1f") + "% of the cost") +
         "</title><circle cx=\"" + fmt_num(x) + "\" cy=\"" + fmt_num(y) + "\" r=\"6\" fill=\"" + kAfter +
         "\" fill-opacity=\"0.8\"/>" + text(x + 8, y - 6, std::to_string(n)) + "</g>";
  }
  return o + "</svg>\n";
}

}  // namespace pgopt::analyzer::report
