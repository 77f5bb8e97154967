// The advisor pipeline (see advisor.hpp).
#include "analyzer/advisor/advisor.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "analyzer/advisor/index_ddl.hpp"

namespace pgopt::analyzer::advisor {
namespace {

GroupSummary summarize(const QueryGroup& g, bool show_samples) {
  GroupSummary s;
  s.fingerprint = g.fingerprint;
  s.normalized = g.normalized;
  s.calls = g.calls;
  s.total_ms = g.total_ms;
  s.mean_ms = g.mean_ms();
  s.p95_ms = g.p95_ms();
  s.max_ms = g.max_ms;
  if (show_samples) s.samples = g.samples;
  return s;
}

std::string kind_of(const IndexSpec& s) {
  if (s.method == "brin") return "brin";
  if (!s.where.empty()) return "partial";
  if (!s.include.empty()) return "covering";
  return "btree";
}

std::string wider_reason(const Selected& s, double cost_before) {
  char buf[160];
  const std::string& method = s.wider->index.method;
  std::string text = "considered the wider " + (method != s.candidate->index.method ? method + " " : std::string()) +
                     s.wider->index.describe() + ": ";
  if (s.wider_gain <= 1e-9 * std::max(1.0, cost_before)) {
    bool more_keys = s.wider->index.columns.size() > s.candidate->index.columns.size();
    text += more_keys ? "the planner estimates no cheaper plan with it for these queries (few rows per key: reading them "
                        "all and sorting costs the same), so the smaller index is enough"
                      : "the planner expects no cheaper index-only scan (few rows per lookup, or the table's visibility "
                        "map is mostly unset until VACUUM runs), so the smaller index is enough";
  } else {
    std::snprintf(buf, sizeof buf, "it would save %.0f more cost units (%.2f%% of the workload) for %.0f kB more", s.wider_gain,
                  cost_before > 0 ? 100.0 * s.wider_gain / cost_before : 0.0, s.wider_extra_bytes / 1024);
    text += std::string(buf) + ", less per byte than this index or below --min-improvement";
  }
  return text;
}

// Why there is no separate index for groups this one serves too (index consolidation).
// `cost_after`: the workload cost with the recommendations, what --consolidate is a share of.
std::string consolidated_reason(const Selected::Absorbed& a, double cost_after, double bar_pct) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                " as well it would save %.0f cost units (%.2f%% of the workload's cost with the recommendations), under the %.2g%% a "
                "second index on the same leading column must save (--consolidate), and take %.0f kB more",
                a.gain, cost_after > 0 ? 100.0 * a.gain / cost_after : 0.0, bar_pct, a.candidate->size_bytes / 1024);
  return "consolidated: it also serves the statement groups of " + a.candidate->index.describe() +
         ", so that index is not recommended; built" + buf;
}

// Top groups by total time, without utility statements (SET, BEGIN/COMMIT, a pooler's
// set_config calls): no index can change them and they would crowd out the queries that matter.
// Also the notes on what the models could not read. Returns every non-utility group, heaviest first.
std::vector<const QueryGroup*> rank_groups(const Workload& workload, const Catalog& catalog, const ModelBuild& models,
                                           const AdvisorOptions& options, Advice& adv) {
  std::vector<const QueryGroup*> by_time;
  for (const auto& [fp, g] : workload.groups) {
    adv.normalized[fp] = g.normalized;
    if (models.utility.count(fp)) {
      adv.utility_statements += g.calls;
      adv.utility_ms += g.total_ms;
      continue;
    }
    by_time.push_back(&g);
  }
  std::sort(by_time.begin(), by_time.end(), [](const QueryGroup* a, const QueryGroup* b) {
    return a->total_ms != b->total_ms ? a->total_ms > b->total_ms : a->calls > b->calls;
  });
  for (size_t i = 0; i < by_time.size() && i < options.top_groups; ++i)
    adv.top_groups.push_back(summarize(*by_time[i], options.show_samples));

  if (!models.unknown_tables.empty()) {
    std::string list;
    for (const auto& t : models.unknown_tables) list += (list.empty() ? "" : ", ") + t;
    adv.notes.push_back("tables in the workload but not in the " + catalog.source + " (ignored): " + list);
  }
  for (const auto& [table, why] : models.skipped_tables)
    adv.notes.push_back("no advice for " + table + ": " + why);
  if (models.unparsable_groups)
    adv.notes.push_back(std::to_string(models.unparsable_groups) + " statement groups could not be parsed");
  if (!catalog.has_statistics)
    adv.notes.push_back(catalog.source == "schema file"
                            ? "no statistics (--schema only): sizes and benefits are a heuristic ranking with "
                              "PostgreSQL's default selectivities, not measured costs"
                            : "the database has no statistics for these tables (run ANALYZE): estimates use defaults");

  return by_time;
}

// Expression candidates PostgreSQL would refuse (a function that is not IMMUTABLE, such as
// date_trunc on timestamptz, which depends on the TimeZone setting) leave the search and are
// reported with the server's reason, once per statement group and expression.
void drop_unbuildable(CandidateSet& cands, Evaluator& evaluator) {
  std::map<std::string, std::string> why;  // expression key -> reason ("" buildable)
  bool offline = evaluator.method() != "hypopg";
  std::vector<Candidate> kept;
  for (auto& c : cands.candidates) {
    std::string reason;
    for (const auto& col : c.index.columns) {
      if (col.empty() || col.front() != '(') continue;
      auto it = why.find(col);
      if (it == why.end()) {
        IndexSpec probe = c.index;
        probe.columns = {col};
        probe.descending = {false};
        probe.opclass = {""};
        probe.include.clear();
        probe.where.clear();
        it = why.emplace(col, evaluator.unusable(probe)).first;
      }
      if (!it->second.empty()) reason = col + ": " + it->second;
    }
    if (reason.empty()) {
      kept.push_back(std::move(c));
      continue;
    }
    std::string column = key_column(c.index.columns.front());
    for (uint64_t fp : c.sources) {
      bool seen = std::any_of(cands.unserved.begin(), cands.unserved.end(), [&](const Unserved& u) {
        return u.fingerprint == fp && u.why.find(reason) != std::string::npos;
      });
      std::string rewrite = "rewrite the filter on " + column + " itself (for a truncated or cast value a range: " + column +
                            " >= start AND " + column + " < end), which a B-tree on " + column + " serves";
      if (!seen && offline)
        cands.unserved.push_back({fp, c.index.relation(), column, "no expression index was costed: " + reason,
                                  "with --db and HypoPG, pgopt checks that the expression is IMMUTABLE and costs an index "
                                  "on it; or " + rewrite, {}});
      else if (!seen)
        cands.unserved.push_back({fp, c.index.relation(), column, "no expression index is possible: " + reason, rewrite, {}});
    }
  }
  cands.candidates = std::move(kept);
}

struct BrinInput {
  const std::vector<QueryModel>& queries;
  const CandidateSet& cands;
  const SelectionResult& sel;
  Evaluator& evaluator;
};

// Cost units `index` alone saves the workload (every group it can serve, against existing indexes).
// `groups`, when given, gets each served group's cost per call with `index` alone.
double saving_alone(const BrinInput& in, const IndexSpec& index, std::vector<GroupCost>* groups = nullptr) {
  double saved = 0;
  for (const auto& q : in.queries) {
    auto base = in.sel.group_costs.find(q.fingerprint);
    if (base == in.sel.group_costs.end() || !can_serve(index, q)) continue;
    auto c = in.evaluator.cost(q, {&index});
    if (!c) continue;
    saved += q.weight * std::max(0.0, base->second.before - *c);
    if (groups) groups->push_back({q.fingerprint, q.weight, base->second.before, *c});
  }
  return saved;
}

// A chosen BRIN or one-column B-tree whose counterpart on the same column was a candidate too: both
// costed alone, and the comparison per byte that decided between them goes into the reasons.
void compare_brin(const BrinInput& in, Advice& adv) {
  for (auto& r : adv.recommendations) {
    // A covering B-tree (at) INCLUDE (v) counts too: which of it and (at) the search keeps can turn
    // on the visibility map, the BRIN comparison does not.
    if (r.index.columns.size() != 1 || !r.index.where.empty()) continue;
    const Candidate* other = nullptr;
    for (const auto& c : in.cands.candidates)
      if (c.index.relation() == r.index.relation() && c.index.columns == r.index.columns && c.index.where.empty() &&
          c.index.method != r.index.method && (c.index.method == "brin" || r.index.method == "brin") &&
          (!other || c.index.include.size() < other->index.include.size()))
        other = &c;
    if (!other) continue;
    bool brin = r.index.method == "brin";
    r.alternative = other->index;
    r.alternative_bytes = other->size_bytes;
    double mine = saving_alone(in, r.index), theirs = saving_alone(in, other->index, &r.alternative_groups);
    r.alternative_benefit = theirs;
    r.alternative_reasons = other->reasons;
    auto per_mb = [](double saved, double bytes) { return saved / std::max(bytes, 8192.0) * 1048576.0; };
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "%s over a %s on %s, each costed alone: the %s saves %.0f cost units at %.0f kB (%.0f per MB), the %s "
                  "%.0f at %.0f kB (%.0f per MB)",
                  brin ? "BRIN" : "B-tree", brin ? "B-tree" : "BRIN", r.index.columns[0].c_str(), brin ? "BRIN" : "B-tree",
                  mine, r.size_bytes / 1024, per_mb(mine, r.size_bytes), brin ? "B-tree" : "BRIN", theirs,
                  other->size_bytes / 1024, per_mb(theirs, other->size_bytes));
    r.reasons.push_back(std::string(buf) + (brin ? ": the search ranks by saving per byte, and the B-tree's extra saving "
                                                   "did not pay for its size (or did not fit --budget)"
                                                 : ": the B-tree's extra saving pays for its size"));
  }
}

// The chosen indexes as the report shows them: a unique name, the DDL PostgreSQL accepts, why.
std::vector<IndexSpec> add_recommendations(const SelectionResult& sel, const Catalog& catalog, double consolidate_pct,
                                           Advice& adv) {
  std::vector<IndexSpec> recommended;
  // schema.name: taken by existing indexes or earlier recommendations, and by tables (a relation
  // name, which an index shares its namespace with).
  std::set<std::string> names;
  for (const auto& t : catalog.tables) {
    names.insert(t.qualified());
    for (const auto& i : t.indexes) names.insert(i.schema + "." + i.name);
  }
  for (const auto& s : sel.selected) {
    Recommendation r;
    r.index = s.candidate->index;
    r.name = unique_index_name(r.index.suggested_name(), r.index.schema, names);
    for (const auto& statement : index_build_statements(r.index, r.name, catalog, names))
      r.ddl += (r.ddl.empty() ? "" : "\n") + statement + ";";
    r.size_bytes = s.candidate->size_bytes;
    r.benefit = s.benefit;
    r.benefit_pct = sel.cost_before > 0 ? 100.0 * s.benefit / sel.cost_before : 0;
    r.write_overhead = s.write_overhead;
    r.reasons = s.candidate->reasons;
    if (s.wider) r.reasons.push_back(wider_reason(s, sel.cost_before));
    for (const auto& a : s.absorbed)
      r.reasons.push_back(consolidated_reason(a, sel.cost_after, consolidate_pct));
    const TableInfo* table = catalog.find(r.index.relation());
    if (table && table->partition_by.empty() && !table->inheritors.empty())
      r.reasons.push_back(r.index.relation() + " has " + std::to_string(r.index.leaves.size() - 1) +
                          " tables inheriting from it, which its statements read too: each gets the same index, since "
                          "an index on a parent does not cover its children");
    else if (!r.index.leaves.empty())
      r.reasons.push_back(r.index.relation() + " is partitioned: its index is created ON ONLY the table, then CONCURRENTLY on each of its " +
                          std::to_string(r.index.leaves.size()) +
                          " partitions and attached, so no partition is locked against writes while the index builds");
    r.groups = s.groups;
    r.kind = kind_of(r.index);
    recommended.push_back(r.index);
    adv.recommendations.push_back(std::move(r));
  }
  return recommended;
}

// Unserved accesses, minus groups a recommendation already helps, heaviest first.
void add_unserved(const CandidateSet& cands, const Workload& workload, const AdvisorOptions& options, Advice& adv) {
  std::map<uint64_t, bool> helped;
  for (const auto& r : adv.recommendations)
    for (const auto& g : r.groups) helped[g.fingerprint] = true;
  std::map<std::string, bool> seen;
  for (const auto& u : cands.unserved) {
    if (helped[u.fingerprint]) continue;
    std::string key = std::to_string(u.fingerprint) + u.relation + u.column;
    if (seen[key]) continue;
    seen[key] = true;
    auto it = workload.groups.find(u.fingerprint);
    if (it == workload.groups.end()) continue;
    adv.unserved.push_back({summarize(it->second, options.show_samples), u.relation, u.column, u.why, u.suggestion, u.gin});
  }
  std::sort(adv.unserved.begin(), adv.unserved.end(), [](const UnservedQuery& a, const UnservedQuery& b) {
    return a.group.total_ms != b.group.total_ms ? a.group.total_ms > b.group.total_ms : a.group.calls > b.group.calls;
  });

}

}  // namespace

Advice advise(const Workload& workload, const Catalog& catalog, Evaluator& evaluator, const AdvisorOptions& options) {
  Advice adv;
  adv.evaluation = evaluator.method();
  adv.catalog_source = catalog.source;
  adv.first_timestamp = workload.first_timestamp;
  adv.last_timestamp = workload.last_timestamp;
  adv.statements = workload.statements;
  adv.groups = workload.groups.size();
  adv.parse_failures = workload.parse_failures;
  adv.unparsable_lines = workload.unparsable_lines;
  adv.sources = workload.sources;

  if (options.progress) options.progress("modelling", 0, 1);
  ModelBuild models = build_models(workload, catalog);
  adv.analysed_groups = models.queries.size();
  adv.utility_groups = models.utility_groups;
  adv.tableless_groups = models.tableless_groups;

  std::vector<const QueryGroup*> by_time = rank_groups(workload, catalog, models, options, adv);

  CandidateSet cands = generate_candidates(models.queries, catalog);
  drop_unbuildable(cands, evaluator);
  // BRIN is costed through HypoPG only: the offline cost model knows B-tree access paths alone.
  if (evaluator.method() != "hypopg")
    std::erase_if(cands.candidates, [](const Candidate& c) { return c.index.method == "brin"; });
  adv.candidates = cands.candidates.size();
  Evaluators evaluators = {&evaluator};
  for (Evaluator* e : options.parallel) evaluators.push_back(e);
  SelectionResult sel = select_indexes(models.queries, cands.candidates, evaluators, options.selection, options.progress);
  adv.cost_before = sel.cost_before;
  adv.cost_after = sel.cost_after;
  adv.evaluations = sel.evaluations;
  adv.whatif_calls = sel.whatif_calls;
  if (!sel.uncosted.empty()) {
    std::string why = evaluator.last_error();
    adv.notes.push_back(std::to_string(sel.uncosted.size()) + " statement groups could not be costed" +
                        (why.empty() ? "" : " (last error: " + why + ")"));
  }

  std::vector<IndexSpec> recommended = add_recommendations(sel, catalog, options.selection.consolidate_pct, adv);
  compare_brin({models.queries, cands, sel, evaluator}, adv);
  adv.drops = find_drops(catalog, recommended);
  if (catalog.source == "database" && catalog.stats_age_days && *catalog.stats_age_days < kUnusedMinDays) {
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "index usage statistics cover only %.1f days, %s: unused indexes are not suggested for removal "
                  "before %.0f days have been observed",
                  *catalog.stats_age_days, stats_window(catalog).c_str(), kUnusedMinDays);
    adv.notes.push_back(buf);
  }
  adv.partitioning = advise_partitioning(models.queries, catalog);

  add_unserved(cands, workload, options, adv);

  std::vector<uint64_t> top;
  for (size_t i = 0; i < by_time.size() && i < options.explain_top; ++i) top.push_back(by_time[i]->fingerprint);
  std::vector<std::vector<GroupCost>> recommended_groups;
  for (const auto& r : adv.recommendations) recommended_groups.push_back(r.groups);
  std::vector<std::pair<std::string, std::string>> partitioned;
  for (const auto& p : adv.partitioning) partitioned.emplace_back(p.relation, p.strategy + " on " + p.column);
  ExplainInput in{models.queries, cands, sel, options.selection, recommended_groups, partitioned,
                  models.skipped_groups, models.skipped_tables};
  std::vector<Explained> outcomes = explain_groups(top, in, evaluator);
  for (size_t i = 0; i < outcomes.size(); ++i)
    adv.explained.push_back({summarize(*by_time[i], options.show_samples), std::move(outcomes[i])});
  return adv;
}

}  // namespace pgopt::analyzer::advisor
