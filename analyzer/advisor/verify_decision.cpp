// Reading EXPLAIN JSON and deciding on a measured recommendation (see verify_decision.hpp).
#include "analyzer/advisor/verify_decision.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "analyzer/advisor/advisor.hpp"
#include "analyzer/advisor/index_ddl.hpp"

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

std::vector<GinTrial> gin_trials(const Advice& adv) {
  std::vector<GinTrial> out;
  for (const auto& u : adv.unserved) {
    if (u.gin.columns.empty()) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const GinTrial& t) { return t.index.key() == u.gin.key(); });
    if (it == out.end()) it = out.insert(out.end(), GinTrial{u.gin, {}, {}});
    if (std::none_of(it->groups.begin(), it->groups.end(), [&](const auto& g) { return g.first == u.group.fingerprint; }))
      it->groups.emplace_back(u.group.fingerprint, double(u.group.calls));
  }
  return out;
}

namespace {

Recommendation gin_recommendation(GinTrial& t, const Catalog& catalog, std::set<std::string>& names,
                                  const std::string& verified_on) {
  Recommendation r;
  r.index = t.index;
  std::string base = t.index.suggested_name();
  base = base.substr(0, base.size() - 4) + "_gin_idx";
  r.name = unique_index_name(base.size() > 63 ? base.substr(0, 55) + "_gin_idx" : base, r.index.schema, names);
  for (const auto& statement : index_build_statements(r.index, r.name, catalog, names))
    r.ddl += (r.ddl.empty() ? "" : "\n") + statement + ";";
  r.size_bytes = t.measured.real_bytes;  // no estimate: HypoPG cannot create a GIN index
  r.kind = "gin";
  r.reasons.push_back("HypoPG cannot cost a GIN index: recommended on the measurement on " + verified_on + " alone");
  if (!t.index.opclass.empty() && t.index.opclass[0] == "gin_trgm_ops")
    r.reasons.push_back("gin_trgm_ops needs the pg_trgm extension (CREATE EXTENSION pg_trgm)");
  for (const auto& [fp, calls] : t.groups) r.groups.push_back({fp, calls, 0, 0});
  r.measured = std::move(t.measured);
  return r;
}

}  // namespace

void apply_gin_verification(Advice& adv, std::vector<GinTrial> trials, const Catalog& catalog) {
  std::set<std::string> names;
  for (const auto& t : catalog.tables) {
    names.insert(t.qualified());
    for (const auto& i : t.indexes) names.insert(i.schema + "." + i.name);
  }
  for (const auto& r : adv.recommendations) names.insert(r.index.schema + "." + r.name);
  for (auto& t : trials) {
    auto serves = [&](uint64_t fp, const IndexSpec& gin) { return gin.key() == t.index.key() && std::any_of(
        t.groups.begin(), t.groups.end(), [&](const auto& g) { return g.first == fp; }); };
    if (t.measured.verdict != "keep") {
      for (auto& u : adv.unserved)
        if (serves(u.group.fingerprint, u.gin))
          u.why += "; GIN " + u.gin.describe() + (t.measured.verdict == "unmeasured"
                                                      ? " not measured on " + adv.verified_on + ": " + t.measured.error
                                                      : " measured on " + adv.verified_on + ": " + t.measured.reason);
      continue;
    }
    adv.recommendations.push_back(gin_recommendation(t, catalog, names, adv.verified_on));
    int number = int(adv.recommendations.size());
    for (auto& c : adv.explained)
      if (c.outcome.outcome == "no_btree" && serves(c.group.fingerprint, t.index)) {
        c.outcome.outcome = "recommendation";
        c.outcome.recommendation = number;
        c.outcome.detail = "measured on " + adv.verified_on + ": " + adv.recommendations.back().measured->reason;
      }
    std::erase_if(adv.unserved, [&](const UnservedQuery& u) { return serves(u.group.fingerprint, u.gin); });
  }
}

void apply_alternatives(Advice& adv, const std::vector<std::optional<Measured>>& alternatives, const Catalog& catalog,
                        double slack) {
  std::set<std::string> names;
  for (const auto& t : catalog.tables) {
    names.insert(t.qualified());
    for (const auto& i : t.indexes) names.insert(i.schema + "." + i.name);
  }
  for (const auto& r : adv.recommendations) names.insert(r.index.schema + "." + r.name);
  for (size_t i = 0; i < adv.recommendations.size() && i < alternatives.size(); ++i) {
    Recommendation& r = adv.recommendations[i];
    const auto& alt = alternatives[i];
    if (!alt || !r.alternative || !r.measured || !alt->built || !alt->statements) continue;
    char buf[320];
    std::snprintf(buf, sizeof buf, "%.3f ms -> %.3f ms per call, real size %.0f kB (this index: %.3f ms -> %.3f ms, %.0f kB)",
                  alt->before_ms, alt->after_ms, alt->real_bytes / 1024, r.measured->before_ms, r.measured->after_ms,
                  r.measured->real_bytes / 1024);
    const bool to_brin = r.alternative->method == "brin" && alt->verdict == "keep" && r.measured->statements &&
                         alt->after_ms <= r.measured->after_ms * slack && alt->real_bytes < r.measured->real_bytes;
    std::string what = r.alternative->method == "brin" ? "the BRIN alternative" : "the B-tree alternative";
    if (!to_brin) {
      r.reasons.push_back(what + " measured on " + adv.verified_on + ": " + buf);
      continue;
    }
    Recommendation b = r;
    b.index = *r.alternative;
    b.alternative = r.index;
    b.alternative_bytes = r.size_bytes;
    b.size_bytes = r.alternative_bytes;
    b.kind = "brin";
    b.name = unique_index_name(b.index.suggested_name().substr(0, b.index.suggested_name().size() - 4) + "_brin_idx",
                               b.index.schema, names);
    b.ddl.clear();
    for (const auto& statement : index_build_statements(b.index, b.name, catalog, names))
      b.ddl += (b.ddl.empty() ? "" : "\n") + statement + ";";
    b.measured = alt;
    b.benefit = r.alternative_benefit;
    b.benefit_pct = r.benefit > 0 ? r.benefit_pct * r.alternative_benefit / r.benefit : 0;
    b.write_overhead = 0;
    b.groups = r.alternative_groups;
    b.reasons = r.alternative_reasons;
    if (!r.reasons.empty() && r.reasons.back().find("each costed alone") != std::string::npos) b.reasons.push_back(r.reasons.back());
    b.reasons.push_back("chosen over the B-tree the estimates preferred: measured on " + adv.verified_on +
                        ", the BRIN is about as fast at a fraction of the size: " + buf);
    r = std::move(b);
  }
}

}  // namespace pgopt::analyzer::advisor
