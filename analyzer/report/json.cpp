// The JSON report (schema_version 1, documented in docs/analyzer.md).
#include "analyzer/report/json_writer.hpp"
#include "analyzer/report/report.hpp"
#include "sql/parser.hpp"

namespace pgopt::analyzer::report {
namespace {

void group(JsonWriter& w, const advisor::GroupSummary& g) {
  w.field("fingerprint", sql::fingerprint_hex(g.fingerprint));
  w.field("query", g.normalized);
  w.field("calls", (unsigned long long)g.calls);
  w.field("total_ms", g.total_ms);
  w.field("mean_ms", g.mean_ms);
  w.field("p95_ms", g.p95_ms);
  w.field("max_ms", g.max_ms);
  if (!g.samples.empty()) w.field("samples", g.samples);
}

std::string query_of(const advisor::Advice& a, uint64_t fp) {
  auto it = a.normalized.find(fp);
  return it == a.normalized.end() ? "" : it->second;
}

// With --verify: what the staging database measured (times per call in ms, weighted by calls).
void measured(JsonWriter& w, const advisor::Recommendation& r) {
  if (!r.measured) return;
  const auto& m = *r.measured;
  w.key("measured").begin_object();
  w.field("verdict", m.verdict);
  w.field("reason", m.reason);
  w.field("built", m.built);
  w.field("real_size_bytes", m.real_bytes);
  w.field("build_ms", m.build_ms);
  w.field("before_ms", m.before_ms);
  w.field("after_ms", m.after_ms);
  w.field("statements", (unsigned long long)m.statements);
  w.field("used", (unsigned long long)m.used);
  w.key("queries").begin_array();
  for (const auto& g : m.groups) {
    w.begin_object();
    w.field("fingerprint", sql::fingerprint_hex(g.fingerprint));
    w.field("statements", (unsigned long long)g.statements);
    w.field("used", (unsigned long long)g.used);
    w.field("before_ms", g.before_ms);
    w.field("after_ms", g.after_ms);
    w.field("before_buffers", g.before_buffers);
    w.field("after_buffers", g.after_buffers);
    w.field("before_timed_out", g.before_timed_out);
    w.field("after_timed_out", g.after_timed_out);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

// The recommendations array: index definition, DDL, benefit, reasons, per-query costs.
void recommendations(JsonWriter& w, const advisor::Advice& a) {
  w.key("recommendations").begin_array();
  for (const auto& r : a.recommendations) {
    w.begin_object();
    w.field("table", r.index.relation());
    w.field("columns", r.index.columns);
    w.key("descending").begin_array();
    for (bool d : r.index.descending) w.value(d);
    w.end_array();
    w.field("opclass", r.index.opclass);
    w.field("include", r.index.include);
    if (r.index.where.empty()) {
      w.key("where").null();
    } else {
      w.field("where", r.index.where);
    }
    w.field("method", r.index.method);
    w.field("kind", r.kind);
    w.field("name", r.name);
    w.field("ddl", r.ddl);
    w.field("estimated_size_bytes", r.size_bytes);
    w.field("benefit", r.benefit);
    w.field("benefit_percent", r.benefit_pct);
    w.field("write_overhead", r.write_overhead);
    w.field("reasons", r.reasons);
    w.key("queries").begin_array();
    for (const auto& g : r.groups) {
      w.begin_object();
      w.field("fingerprint", sql::fingerprint_hex(g.fingerprint));
      w.field("query", query_of(a, g.fingerprint));
      w.field("calls", g.calls);
      w.field("cost_before", g.before);
      w.field("cost_after", g.after);
      w.end_object();
    }
    w.end_array();
    measured(w, r);
    w.end_object();
  }
  w.end_array();
  if (a.verified_on.empty()) return;
  w.field("verified_on", a.verified_on);
  w.key("verify_dropped").begin_array();
  for (const auto& r : a.verify_dropped) {
    w.begin_object();
    w.field("table", r.index.relation());
    w.field("definition", r.index.describe());
    w.field("estimated_size_bytes", r.size_bytes);
    measured(w, r);
    w.end_object();
  }
  w.end_array();
}

// The statements no B-tree helps, and every costly group's outcome.
void unserved_and_explained(JsonWriter& w, const advisor::Advice& a) {
  w.key("unserved").begin_array();
  for (const auto& u : a.unserved) {
    w.begin_object();
    group(w, u.group);
    w.field("table", u.relation);
    w.field("column", u.column);
    w.field("why", u.why);
    w.field("suggestion", u.suggestion);
    w.end_object();
  }
  w.end_array();
  w.key("explained").begin_array();
  for (const auto& e : a.explained) {
    w.begin_object();
    group(w, e.group);
    w.field("outcome", e.outcome.outcome);
    if (e.outcome.recommendation)
      w.field("recommendation", (unsigned long long)e.outcome.recommendation);
    else
      w.key("recommendation").null();
    if (!e.outcome.index.empty())
      w.field("index", e.outcome.index);
    else
      w.key("index").null();
    w.field("detail", e.outcome.detail);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

std::string render_json(const advisor::Advice& a) {
  JsonWriter w;
  w.begin_object();
  w.field("schema_version", a.schema_version);
  w.field("generator", std::string("pgopt ") + PGOPT_VERSION);
  w.field("evaluation", a.evaluation);
  w.field("catalog", a.catalog_source);

  w.key("summary").begin_object();
  w.field("first_timestamp", a.first_timestamp);
  w.field("last_timestamp", a.last_timestamp);
  w.field("statements", (unsigned long long)a.statements);
  w.field("groups", (unsigned long long)a.groups);
  w.field("analysed_groups", (unsigned long long)a.analysed_groups);
  w.field("utility_groups", (unsigned long long)a.utility_groups);
  w.field("tableless_groups", (unsigned long long)a.tableless_groups);
  w.field("utility_statements", (unsigned long long)a.utility_statements);
  w.field("utility_ms", a.utility_ms);
  w.field("parse_failures", (unsigned long long)a.parse_failures);
  w.field("unparsable_lines", (unsigned long long)a.unparsable_lines);
  w.field("sources", a.sources);
  w.field("workload_cost_before", a.cost_before);
  w.field("workload_cost_after", a.cost_after);
  w.field("candidates", (unsigned long long)a.candidates);
  w.field("what_if_evaluations", (unsigned long long)a.evaluations);
  w.field("what_if_calls", (unsigned long long)a.whatif_calls);
  w.key("top_groups").begin_array();
  for (const auto& g : a.top_groups) {
    w.begin_object();
    group(w, g);
    w.end_object();
  }
  w.end_array();
  w.end_object();

  recommendations(w, a);

  w.key("drops").begin_array();
  for (const auto& d : a.drops) {
    w.begin_object();
    w.field("table", d.relation);
    w.field("index", d.index);
    w.field("definition", d.definition);
    w.field("kind", d.kind);
    w.field("reason", d.reason);
    w.field("ddl", d.ddl);
    w.field("size_bytes", d.size_bytes);
    w.end_object();
  }
  w.end_array();

  w.key("partitioning").begin_array();
  for (const auto& p : a.partitioning) {
    w.begin_object();
    w.field("table", p.relation);
    w.field("column", p.column);
    w.field("strategy", p.strategy);
    w.field("interval", p.interval);
    w.field("table_bytes", p.table_bytes);
    w.field("statement_share", p.statement_share);
    w.field("reason", p.reason);
    w.key("pruned").begin_array();
    for (const auto& [fp, share] : p.pruned) {
      w.begin_object();
      w.field("fingerprint", sql::fingerprint_hex(fp));
      w.field("query", query_of(a, fp));
      w.field("partitions_pruned_share", share);
      w.end_object();
    }
    w.end_array();
    w.field("ddl_sketch", p.ddl);
    w.field("migration", p.migration);
    w.end_object();
  }
  w.end_array();

  unserved_and_explained(w, a);
  w.field("notes", a.notes);
  w.end_object();
  return w.str();
}

}  // namespace pgopt::analyzer::report
