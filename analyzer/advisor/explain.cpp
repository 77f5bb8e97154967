// Outcomes of the costliest statement groups (see explain.hpp).
#include "analyzer/advisor/explain.hpp"

#include <algorithm>
#include <cstdio>

namespace pgopt::analyzer::advisor {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The index's leading key is a condition, join key or ORDER BY of the statement: the planner can
// read it in an index scan (stricter than can_serve, which also counts select-list columns).
const IndexInfo* existing_index_for(const QueryModel& q) {
  for (const auto& a : q.accesses) {
    for (const auto& e : a.table->indexes) {
      if (e.columns.empty() || !e.valid || e.method != "btree") continue;
      const std::string& lead = e.columns.front();
      bool used = false;
      for (const auto& p : a.predicates) used = used || (p.pred.column == lead && !p.pred.under_or);
      for (const auto& j : a.joins) used = used || j.column == lead;
      if (!a.order_by.empty()) used = used || a.order_by.front().column == lead;
      if (used) return &e;
    }
  }
  return nullptr;
}

// A group with candidates none of which was chosen: what the best would have saved, and which rule
// turned it down.
std::string not_worth(const QueryModel& q, const ExplainInput& in, Evaluator& evaluator, double cost_now) {
  const Candidate* best = nullptr;
  double best_cost = cost_now;
  for (const auto& c : in.candidates.candidates) {
    if (!c.sources.count(q.fingerprint)) continue;
    auto cost = evaluator.cost(q, {&c.index});
    if (cost && *cost < best_cost) {
      best_cost = *cost;
      best = &c;
    }
  }
  const double total = in.selection.cost_before;
  if (!best)
    return "no candidate index lowers its estimated cost (" + fmt("%.2f", cost_now) +
           " per call): the planner keeps its current plan with any of them";
  double saving = q.weight * (cost_now - best_cost);
  double overhead = write_overhead(*best, in.queries, {});
  std::string text = "the best candidate, " + best->index.relation() + " " + best->index.describe() + ", would save " +
                     fmt("%.0f", saving) + " cost units (" + fmt("%.2f", total > 0 ? 100 * saving / total : 0) +
                     "% of the workload's " + fmt("%.0f", total) + ")";
  if (overhead >= saving) return text + ", less than the " + fmt("%.0f", overhead) + " its maintenance costs the workload's writes";
  // The search's last bar: --min-improvement of what the workload costs with the chosen indexes.
  const double bar = in.selection.cost_after * in.options.min_improvement_pct / 100;
  if (saving - overhead < bar)
    return text + ", net of " + fmt("%.0f", overhead) + " for maintenance below --min-improvement " +
           fmt("%.2f", in.options.min_improvement_pct) + "% of the " + fmt("%.0f", in.selection.cost_after) +
           " the workload costs with the recommendations (" + fmt("%.0f", bar) + ")";
  if (in.selection.selected.size() >= in.options.max_indexes)
    return text + "; --max-indexes " + std::to_string(in.options.max_indexes) + " was reached with indexes that save more";
  return text + ", but less per byte than the indexes chosen within --budget, or the chosen ones already take most of it";
}

std::string no_btree(const QueryModel& q, const ExplainInput& in) {
  for (const auto& u : in.candidates.unserved) {
    if (u.fingerprint != q.fingerprint) continue;
    std::string text = u.why + "; what would help: " + u.suggestion;
    for (const auto& [rel, how] : in.partitioned)
      if (rel == u.relation) text += " (partitioning of " + rel + " is advised above: " + how + ")";
    return text;
  }
  return "";
}

}  // namespace

std::vector<Explained> explain_groups(const std::vector<uint64_t>& top, const ExplainInput& in, Evaluator& evaluator) {
  std::vector<Explained> out;
  for (uint64_t fp : top) {
    Explained e;
    e.fingerprint = fp;
    for (size_t k = 0; k < in.recommended_groups.size() && !e.recommendation; ++k)
      for (const auto& g : in.recommended_groups[k])
        if (g.fingerprint == fp) {
          e.outcome = "recommendation";
          e.recommendation = int(k + 1);
          e.detail = "estimated cost per call " + fmt("%.2f", g.before) + " -> " + fmt("%.2f", g.after);
          break;
        }
    const QueryModel* q = nullptr;
    for (const auto& m : in.queries)
      if (m.fingerprint == fp) q = &m;
    auto skipped = in.skipped_groups.find(fp);
    if (e.recommendation) {
    } else if (skipped != in.skipped_groups.end() && (!q || q->accesses.empty())) {
      e.outcome = "skipped_table";
      e.detail = "it reads " + skipped->second + ", which gets no advice: " + in.skipped_tables.at(skipped->second);
    } else if (!q) {
      e.outcome = "no_table";
      e.detail = "it reads no table of the catalog (a function call, a system catalog, or a table not in the database)";
    } else if (auto it = in.selection.group_costs.find(fp); it == in.selection.group_costs.end()) {
      e.outcome = q->accesses.empty() ? "writes_only" : "not_costed";
      e.detail = q->accesses.empty() ? "it only writes rows: an index cannot make it faster, each one adds an entry per row"
                                     : "the planner could not cost it (see the notes above)";
    } else if (std::string why = no_btree(*q, in); !why.empty()) {
      e.outcome = "no_btree";
      e.detail = why;
    } else if (const IndexInfo* x = existing_index_for(*q)) {
      e.outcome = "existing_index";
      e.index = x->schema + "." + x->name;
      e.detail = "the existing index " + e.index + " already serves it (estimated cost per call " +
                 fmt("%.2f", it->second.before) + ")";
    } else if (q->accesses.empty()) {
      e.outcome = "writes_only";
      e.detail = "it only writes rows: an index cannot make it faster, each one adds an entry per row";
    } else if (std::any_of(in.candidates.candidates.begin(), in.candidates.candidates.end(),
                           [&](const Candidate& c) { return c.sources.count(fp) > 0; })) {
      e.outcome = "not_worth";
      e.detail = not_worth(*q, in, evaluator, it->second.after);
    } else {
      e.outcome = "no_btree";
      e.detail = "it has no filter, join or ORDER BY an index could serve: it reads the whole table (estimated cost per "
                 "call " + fmt("%.2f", it->second.before) + "); what would help: a summary table if it aggregates, or fewer calls";
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace pgopt::analyzer::advisor
