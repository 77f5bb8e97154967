// The advisor pipeline (see advisor.hpp).
#include "analyzer/advisor/advisor.hpp"

#include <algorithm>
#include <cstdio>

namespace pgopt::analyzer::advisor {
namespace {

GroupSummary summarize(const QueryGroup& g, bool show_samples) {
  GroupSummary s;
  s.fingerprint = g.fingerprint;
  s.normalized = g.normalized;
  s.calls = g.calls;
  s.total_ms = g.total_ms;
  s.mean_ms = g.mean_ms();
  s.max_ms = g.max_ms;
  if (show_samples) s.samples = g.samples;
  return s;
}

std::string kind_of(const IndexSpec& s) {
  if (!s.where.empty()) return "partial";
  if (!s.include.empty()) return "covering";
  return "btree";
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

  std::vector<const QueryGroup*> by_time;
  for (const auto& [fp, g] : workload.groups) {
    by_time.push_back(&g);
    adv.normalized[fp] = g.normalized;
  }
  std::sort(by_time.begin(), by_time.end(), [](const QueryGroup* a, const QueryGroup* b) {
    return a->total_ms != b->total_ms ? a->total_ms > b->total_ms : a->calls > b->calls;
  });
  for (size_t i = 0; i < by_time.size() && i < options.top_groups; ++i)
    adv.top_groups.push_back(summarize(*by_time[i], options.show_samples));

  if (options.progress) options.progress("modelling", 0, 1);
  ModelBuild models = build_models(workload, catalog);
  adv.analysed_groups = models.queries.size();
  adv.utility_groups = models.utility_groups;
  if (!models.unknown_tables.empty()) {
    std::string list;
    for (const auto& t : models.unknown_tables) list += (list.empty() ? "" : ", ") + t;
    adv.notes.push_back("tables in the workload but not in the " + catalog.source + " (ignored): " + list);
  }
  if (models.unparsable_groups)
    adv.notes.push_back(std::to_string(models.unparsable_groups) + " statement groups could not be parsed");
  if (!catalog.has_statistics)
    adv.notes.push_back(catalog.source == "schema file"
                            ? "no statistics (--schema only): sizes and benefits are a heuristic ranking with "
                              "PostgreSQL's default selectivities, not measured costs"
                            : "the database has no statistics for these tables (run ANALYZE): estimates use defaults");

  CandidateSet cands = generate_candidates(models.queries, catalog);
  adv.candidates = cands.candidates.size();
  CachingEvaluator cache(evaluator);
  Progress progress;
  if (options.progress) progress = [&](size_t d, size_t t) { options.progress("what-if", d, t); };
  SelectionResult sel = select_indexes(models.queries, cands.candidates, cache, options.selection, progress);
  adv.cost_before = sel.cost_before;
  adv.cost_after = sel.cost_after;
  adv.evaluations = sel.evaluations;
  if (!sel.uncosted.empty()) {
    std::string why = evaluator.last_error();
    adv.notes.push_back(std::to_string(sel.uncosted.size()) + " statement groups could not be costed" +
                        (why.empty() ? "" : " (last error: " + why + ")"));
  }

  std::vector<IndexSpec> recommended;
  for (const auto& s : sel.selected) {
    Recommendation r;
    r.index = s.candidate->index;
    r.name = r.index.suggested_name();
    r.ddl = r.index.ddl(r.name, true) + ";";
    r.size_bytes = s.candidate->size_bytes;
    r.benefit = s.benefit;
    r.benefit_pct = sel.cost_before > 0 ? 100.0 * s.benefit / sel.cost_before : 0;
    r.write_overhead = s.write_overhead;
    r.reasons = s.candidate->reasons;
    r.groups = s.groups;
    r.kind = kind_of(r.index);
    recommended.push_back(r.index);
    adv.recommendations.push_back(std::move(r));
  }
  adv.drops = find_drops(catalog, recommended);
  adv.partitioning = advise_partitioning(models.queries, catalog);

  // Unserved accesses, minus groups a recommendation already helps, heaviest first.
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
    adv.unserved.push_back({summarize(it->second, options.show_samples), u.relation, u.column, u.why, u.suggestion});
  }
  std::sort(adv.unserved.begin(), adv.unserved.end(), [](const UnservedQuery& a, const UnservedQuery& b) {
    return a.group.total_ms != b.group.total_ms ? a.group.total_ms > b.group.total_ms : a.group.calls > b.group.calls;
  });
  return adv;
}

}  // namespace pgopt::analyzer::advisor
