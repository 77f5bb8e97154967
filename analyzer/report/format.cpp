// Size formatting and parsing shared by the reports and the CLI.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "analyzer/report/report.hpp"

namespace pgopt::analyzer::report {

std::string human_bytes(double bytes) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1024 * 10 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %s", std::round(bytes), units[u]);
  return buf;
}

std::string one_line(const std::string& s, size_t max) {
  std::string out;
  bool space = false;
  for (char c : s) {
    bool ws = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (ws && space) continue;
    space = ws;
    out += ws ? ' ' : c;
  }
  if (out.size() > max && max >= 3) {
    size_t cut = max - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

std::string grouped(double value) {
  if (!std::isfinite(value)) return "?";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", std::round(value));
  std::string digits = buf, sign;
  if (!digits.empty() && digits[0] == '-') {
    sign = "-";
    digits.erase(0, 1);
  }
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return sign + out;
}

std::vector<std::string> distinct_samples(const std::vector<std::string>& samples, size_t max) {
  std::vector<std::string> out;
  for (const auto& s : samples) {
    if (out.size() >= max) break;
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

std::string count_of(uint64_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

std::string groups_breakdown(const advisor::Advice& a) {
  std::string o = std::to_string(a.groups) + " (" + std::to_string(a.analysed_groups) + " analysed, " +
                  std::to_string(a.utility_groups) + " utility";
  if (a.tableless_groups)
    o += ", " + std::to_string(a.tableless_groups) + " on no table of the " +
         (a.catalog_source.empty() ? "catalog" : a.catalog_source);
  uint64_t accounted = a.analysed_groups + a.utility_groups + a.tableless_groups;
  if (a.groups > accounted) o += ", " + std::to_string(a.groups - accounted) + " unparsable";
  return o + ")";
}

std::string log_span(const advisor::Advice& a) {
  if (!a.first_timestamp && !a.last_timestamp) return "unknown (no timestamps in the input)";
  return a.first_timestamp.value_or("?") + " to " + a.last_timestamp.value_or("?");
}

std::string evaluation_label(const std::string& e) {
  if (e == "hypopg") return "HypoPG what-if EXPLAIN on the live database (planner cost units)";
  if (e == "cost_model") return "pgopt's cost model from the database's statistics (planner cost units, estimated)";
  return "heuristic ranking from the schema only: no statistics, default selectivities; treat the numbers as a "
         "ranking, not a measurement";
}

bool parse_size(const std::string& text, double& bytes) {
  const char* s = text.c_str();
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s || v < 0 || !std::isfinite(v)) return false;
  std::string unit;
  for (const char* p = end; *p; ++p)
    if (!std::isspace(static_cast<unsigned char>(*p))) unit += char(std::tolower(static_cast<unsigned char>(*p)));
  double mult;
  if (unit.empty() || unit == "b" || unit == "bytes") mult = 1;
  else if (unit == "kb" || unit == "k") mult = 1024;
  else if (unit == "mb" || unit == "m") mult = 1024.0 * 1024;
  else if (unit == "gb" || unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "tb" || unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else return false;
  bytes = v * mult;
  return true;
}

std::string outcome_text(const advisor::Explained& e) {
  if (e.outcome == "recommendation") return "served by recommendation #" + std::to_string(e.recommendation) + ": " + e.detail;
  if (e.outcome == "existing_index") return "already served: " + e.detail;
  if (e.outcome == "not_worth") return "not worth an index: " + e.detail;
  if (e.outcome == "no_btree") return "no B-tree helps: " + e.detail;
  if (e.outcome == "writes_only") return "no index helps: " + e.detail;
  if (e.outcome == "not_costed") return "not costed: " + e.detail;
  if (e.outcome == "no_table") return "not analysed: " + e.detail;
  if (e.outcome == "skipped_table") return "skipped: " + e.detail;
  return e.detail;
}

std::string measured_text(const advisor::Advice& a, const advisor::Recommendation& r) {
  if (!r.measured) return "";
  const auto& m = *r.measured;
  std::string o = "Measured on " + a.verified_on + ": ";
  if (m.verdict == "unmeasured") return o + m.reason;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.3f ms -> %.3f ms per call over %zu sampled statements (used in %zu); ", m.before_ms,
                m.after_ms, m.statements, m.used);
  o += buf;
  std::snprintf(buf, sizeof buf, "%.0f ms", m.build_ms);
  std::string estimate = r.kind == "gin" ? "" : " (estimated " + human_bytes(r.size_bytes) + ")";
  return o + "real size " + human_bytes(m.real_bytes) + estimate + ", built in " + buf;
}

}  // namespace pgopt::analyzer::report
