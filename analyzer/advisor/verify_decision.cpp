// Reading EXPLAIN JSON and deciding on a measured recommendation (see verify_decision.hpp).
#include "analyzer/advisor/verify_decision.hpp"

#include <cstdio>
#include <cstdlib>

#include "analyzer/advisor/advisor.hpp"

namespace pgopt::analyzer::advisor {
namespace {

// The number after `"key": ` at or after `from`; npos-safe. EXPLAIN's JSON puts a node's own
// fields before its "Plans", and "Planning" after "Plan", so the first match of a buffer key is the
// top node's inclusive count.
bool number_after(const std::string& json, const std::string& key, double& out, size_t from = 0) {
  size_t at = json.find("\"" + key + "\":", from);
  if (at == std::string::npos) return false;
  const char* p = json.c_str() + at + key.size() + 3;
  char* end = nullptr;
  out = std::strtod(p, &end);
  return end != p;
}

std::string fmt_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ms >= 100 ? "%.0f ms" : ms >= 1 ? "%.2f ms" : "%.3f ms", ms);
  return buf;
}

void totals(Measured& m) {
  double calls = 0, before = 0, after = 0;
  m.statements = m.used = 0;
  for (const auto& g : m.groups) {
    if (!g.statements) continue;
    double w = g.calls > 0 ? g.calls : 1;
    calls += w;
    before += w * g.before_ms;
    after += w * g.after_ms;
    m.statements += g.statements;
    m.used += g.used;
  }
  m.before_ms = calls > 0 ? before / calls : 0;
  m.after_ms = calls > 0 ? after / calls : 0;
}

}  // namespace

ExplainRun parse_explain_json(const std::string& json) {
  ExplainRun r;
  r.ok = number_after(json, "Execution Time", r.ms);
  number_after(json, "Shared Hit Blocks", r.shared_hit);
  number_after(json, "Shared Read Blocks", r.shared_read);
  const std::string key = "\"Index Name\": \"";
  for (size_t at = json.find(key); at != std::string::npos; at = json.find(key, at)) {
    at += key.size();
    std::string name;
    for (; at < json.size() && json[at] != '"'; ++at) {
      if (json[at] == '\\' && at + 1 < json.size()) ++at;
      name += json[at];
    }
    r.indexes.insert(name);
  }
  return r;
}

void decide(Measured& m, const VerifyRules& rules) {
  totals(m);
  if (!m.built) {
    m.verdict = "unmeasured";
    m.reason = "not verified, kept as estimated: " + m.error;
    return;
  }
  if (!m.statements) {
    m.verdict = "unmeasured";
    m.reason = "not verified, kept as estimated: no sampled statement with literals could be run" +
               (m.error.empty() ? std::string() : " (" + m.error + ")");
    return;
  }
  std::string numbers = fmt_ms(m.before_ms) + " before, " + fmt_ms(m.after_ms) + " after per call";
  if (!m.used) {
    m.verdict = "drop";
    m.reason = "the planner used it in none of the " + std::to_string(m.statements) +
               " sampled statements on the staging database (" + numbers + ")";
    return;
  }
  for (const auto& g : m.groups)
    if (g.after_timed_out && !g.before_timed_out) {
      m.verdict = "drop";
      m.reason = "a sampled statement hit the statement timeout with the index and not without it";
      return;
    }
  double saving = m.before_ms > 0 ? 100.0 * (m.before_ms - m.after_ms) / m.before_ms : 0;
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.0f%%", saving);
  if (saving < rules.min_saving_pct) {
    m.verdict = "drop";
    m.reason = "does not pay for itself in measured time: " + numbers + " (" + pct + " less, under the " +
               std::to_string(int(rules.min_saving_pct)) + "% it must save)";
    return;
  }
  m.verdict = "keep";
  m.reason = "measured " + numbers + " (" + pct + " less), used in " + std::to_string(m.used) + " of " +
             std::to_string(m.statements) + " sampled plans";
}

void apply_verification(Advice& adv, std::vector<Measured> measured) {
  std::vector<Recommendation> kept;
  std::vector<int> renumbered(adv.recommendations.size() + 1, 0);  // old 1-based -> new, 0: dropped
  std::vector<std::string> why(adv.recommendations.size() + 1);
  for (size_t i = 0; i < adv.recommendations.size(); ++i) {
    Recommendation& r = adv.recommendations[i];
    if (i < measured.size()) r.measured = std::move(measured[i]);
    if (r.measured && r.measured->verdict == "drop") {
      why[i + 1] = r.measured->reason;
      adv.verify_dropped.push_back(std::move(r));
      continue;
    }
    kept.push_back(std::move(r));
    renumbered[i + 1] = int(kept.size());
  }
  for (auto& c : adv.explained) {
    auto& e = c.outcome;
    if (e.outcome != "recommendation" || e.recommendation < 1 || size_t(e.recommendation) >= renumbered.size())
      continue;
    int now = renumbered[size_t(e.recommendation)];
    if (now) {
      e.recommendation = now;
      continue;
    }
    e.outcome = "not_worth";
    e.detail = "its recommended index was dropped by --verify: " + why[size_t(e.recommendation)];
    e.recommendation = 0;
  }
  adv.recommendations = std::move(kept);
}

}  // namespace pgopt::analyzer::advisor
