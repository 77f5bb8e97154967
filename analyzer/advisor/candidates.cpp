// Candidate generation: equality columns first (most selective first), then one range or the
// ORDER BY columns in the query's direction; prefixes for widening; INCLUDE and partial variants.
#include "analyzer/advisor/candidates.hpp"
#include "analyzer/advisor/partitioning.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "analyzer/advisor/selectivity.hpp"

namespace pgopt::analyzer::advisor {
namespace {

using K = sql::PredicateKind;

constexpr double kPartialMaxShare = 0.2;    // a partial index must leave out most of the table
constexpr double kPartialMaxValues = 100;   // distinct values of a column whose constants are application logic
constexpr double kIncludeMaxBytes = 64;     // INCLUDE only when the payload stays modest
constexpr size_t kIncludeMaxColumns = 3;
constexpr double kRangeTooWide = 0.3;       // beyond this share a sequential scan wins
constexpr double kBrinMinCorrelation = 0.9;  // |correlation| from which BRIN ranges stay narrow
constexpr double kBrinMinPages = 1280;       // 10 BRIN ranges (10 MB): below, a scan is as cheap

// Operators GIN's default operator classes serve (jsonb_ops, array_ops) and no B-tree does.
bool gin_operator(const std::string& op) {
  return op == "@>" || op == "<@" || op == "?" || op == "?|" || op == "?&" || op == "&&";
}

std::string pct(double f) {
  char buf[32];
  if (f < 0.001) return "<0.1%";
  std::snprintf(buf, sizeof buf, f < 0.1 ? "%.1f%%" : "%.0f%%", f * 100);
  return buf;
}

struct Column {
  Column(std::string n, std::string r, bool d = false, std::string o = {})
      : name(std::move(n)), reason(std::move(r)), desc(d), opclass(std::move(o)) {}
  std::string name;
  std::string reason;
  bool desc = false;
  std::string opclass;
};

class Generator {
 public:
  Generator(const Catalog& catalog, CandidateSet& out, const std::vector<QueryModel>& queries)
      : catalog_(catalog), out_(out) {
    for (const auto& q : queries)
      for (const auto& w : q.writes)
        for (const auto& c : w.set_columns) updated_.insert(w.table->qualified() + "." + c);
  }

  // An equality constant makes a partial index only on a column of few values (a status, a type):
  // there the constant is part of the application's logic. On a key column the log's one value
  // (`WHERE id = 1` every time) is a sampling accident, and the index would fit only that value.
  static bool few_values(const TableInfo& t, const ColumnInfo& c) {
    if (c.n_distinct == 0) return false;  // unknown
    double distinct = c.n_distinct > 0 ? c.n_distinct : -c.n_distinct * t.rows();
    return distinct <= kPartialMaxValues;
  }

  // `at >= $1 AND at < $2` is one window: the rows it keeps are those both bounds keep, not what
  // either keeps alone (often half the table each, which would make the range look too wide for
  // any index). Per sample that share is lower + upper - 1, and so is its average over samples.
  static std::map<std::string, double> window_selectivity(const TableInfo& t, const AccessModel& a) {
    std::map<std::string, std::pair<double, double>> bounds;  // column -> (lower, upper) share; -1 none
    for (const auto& p : a.predicates) {
      if (p.pred.kind != K::Range || p.pred.under_or || (p.pred.lower_bound && p.pred.upper_bound)) continue;
      auto& b = bounds.try_emplace(p.pred.column, -1.0, -1.0).first->second;
      (p.pred.upper_bound ? b.second : b.first) = selectivity(t, p);
    }
    std::map<std::string, double> out;
    for (const auto& [column, b] : bounds)
      if (b.first >= 0 && b.second >= 0) out[column] = std::max(1.0 / t.rows(), b.first + b.second - 1.0);
    return out;
  }

  // What the access's filters need that no B-tree gives (at most one entry per access).
  struct Findings {
    const PredicateModel* function_of_column = nullptr;
    const PredicateModel* infix = nullptr;
    const PredicateModel* wide_range = nullptr;
    double wide_sel = 0;
    bool has_usable = false;
    bool no_equality = false;
    const PredicateModel* containment = nullptr;  // jsonb/array @>, <@, ?, ?|, ?&, &&
  };
  static IndexSpec gin_on(const TableInfo& t, const std::string& column, const std::string& opclass) {
    IndexSpec g;
    g.schema = t.schema;
    g.table = t.name;
    g.method = "gin";
    g.columns = {column};
    g.descending = {false};
    g.opclass = {opclass};
    return g;
  }
  void note_unserved(const QueryModel& q, const TableInfo& t, const Findings& f) {
    if (f.function_of_column && !f.has_usable && !f.infix) {
      Unserved u;
      u.fingerprint = q.fingerprint;
      u.relation = t.qualified();
      u.column = f.function_of_column->pred.column;
      const std::string& e = f.function_of_column->pred.expression;
      u.why = "the filter compares " + e + ", an expression of " + u.column + ": a B-tree on " + u.column +
              " cannot serve it, and the samples do not give one expression with constants to index (pgopt proposes an "
              "expression index when every sample writes it the same way)";
      u.suggestion = "rewrite the filter on " + u.column + " itself (e.g. a range instead of a truncated or cast value), or " +
                     "CREATE INDEX CONCURRENTLY ON " + t.qualified() + " ((" + e +
                     ")); if every function in it is IMMUTABLE (with the application's constants instead of $n)";
      out_.unserved.push_back(u);
    } else if (f.infix && !f.has_usable) {
      Unserved u;
      u.fingerprint = q.fingerprint;
      u.relation = t.qualified();
      u.column = f.infix->pred.column;
      const std::string& op = f.infix->pred.op;
      u.why = (op.find("ILIKE") != std::string::npos ? op + " (case-insensitive matching)"
               : op.find("LIKE") != std::string::npos ? op + " with a leading wildcard"
                                                      : "a regular expression match (" + op + ")") +
              ": a B-tree can only serve a fixed prefix";
      u.suggestion = "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX CONCURRENTLY ON " + t.qualified() +
                     " USING gin (" + quote_ident(f.infix->pred.column) + " gin_trgm_ops); HypoPG cannot cost a GIN "
                     "index: --verify measures it";
      u.gin = gin_on(t, f.infix->pred.column, "gin_trgm_ops");
      out_.unserved.push_back(u);
    } else if (f.containment && !f.has_usable) {
      Unserved u;
      u.fingerprint = q.fingerprint;
      u.relation = t.qualified();
      u.column = f.containment->pred.column;
      u.why = "containment or key existence (" + f.containment->pred.op + "): a B-tree cannot serve it";
      u.suggestion = "CREATE INDEX CONCURRENTLY ON " + t.qualified() + " USING gin (" + quote_ident(u.column) +
                     "); HypoPG cannot cost a GIN index: --verify measures it";
      u.gin = gin_on(t, u.column, "");
      out_.unserved.push_back(u);
    } else if (f.wide_range && f.no_equality) {
      Unserved u;
      u.fingerprint = q.fingerprint;
      u.relation = t.qualified();
      u.column = f.wide_range->pred.column;
      const ColumnInfo* c = t.column(f.wide_range->pred.column);
      u.why = "the range on " + f.wide_range->pred.column + " keeps about " + pct(f.wide_sel) +
              " of the rows: reading them through any index costs more than a sequential scan";
      // Partitioning only where the partitioning advice itself would consider it (kPartitionMinBytes):
      // below that a partitioned table costs more to run than the scans it saves.
      const bool big = t.total_bytes >= kPartitionMinBytes;
      const std::string size = std::to_string(int(t.total_bytes / (1024 * 1024))) + " MB";
      if (c && std::abs(c->correlation) > 0.9)
        u.suggestion = "the column follows the physical order (correlation " + std::to_string(c->correlation).substr(0, 5) +
                       "): a small BRIN index on it would skip the rest" +
                       (big ? std::string(", or RANGE partitioning on it") : std::string());
      else if (big)
        u.suggestion = "RANGE partitioning on " + f.wide_range->pred.column + ", or a summary table if the query aggregates";
      else
        u.suggestion = "a summary table if the query aggregates, or a narrower range; " +
                       (t.total_bytes > 0 ? "at " + size + " the table is below" : std::string("the table is not known to be above")) +
                       " the size where partitioning pays (10 GB)";
      out_.unserved.push_back(u);
    }
  }

  // The key column lists worth indexing for an access, most selective equalities first: with the
  // best range, with the ORDER BY (read in order, stop at LIMIT), alone, with each join key.
  std::vector<std::vector<Column>> key_variants(const TableInfo& t, const AccessModel& a, const std::vector<Column>& eq_cols,
                                                bool has_in, const std::vector<std::pair<double, Column>>& ranges,
                                                const PredicateModel* wide_range) const {
    std::vector<std::vector<Column>> variants;
    if (!ranges.empty() && !(wide_range && ranges.front().second.name == wide_range->pred.column && eq_cols.empty())) {
      auto v = eq_cols;
      v.push_back(ranges.front().second);
      variants.push_back(v);
    }
    if (!a.order_by.empty() && !has_in) {
      auto v = eq_cols;
      bool all_desc = std::all_of(a.order_by.begin(), a.order_by.end(), [](const auto& k) { return k.descending; });
      bool ok = true;
      for (const auto& k : a.order_by) {
        if (!t.column(k.column)) ok = false;
        if (std::any_of(v.begin(), v.end(), [&](const Column& c) { return c.name == k.column; })) continue;
        // Uniform direction: a plain index scanned backwards serves DESC; mixed needs DESC keys.
        v.push_back({k.column, std::string("ORDER BY ") + (k.descending ? "DESC" : "ASC") + (a.has_limit ? " with LIMIT: read in order, stop early" : ": no sort"),
                     !all_desc && k.descending});
      }
      if (ok && v.size() > eq_cols.size()) variants.push_back(v);
    }
    if (!eq_cols.empty()) variants.push_back(eq_cols);
    for (const auto& j : a.joins) {
      if (!t.column(j.column)) continue;
      variants.push_back({{j.column, "join key to " + j.other_relation + "." + j.other_column + " (nested-loop lookups)"}});
      if (!eq_cols.empty() && std::none_of(eq_cols.begin(), eq_cols.end(), [&](const Column& c) { return c.name == j.column; })) {
        auto v = eq_cols;
        v.push_back({j.column, "join key to " + j.other_relation + "." + j.other_column});
        variants.push_back(v);
      }
    }
    return variants;
  }

  // The variant with the access's other columns INCLUDEd (an index-only scan), unless it would be
  // too wide or hold a column the workload UPDATEs.
  void add_covering(const QueryModel& q, const TableInfo& t, const AccessModel& a, const std::vector<Column>& v) {
    if (!a.all_columns && !a.write_target) {
      std::vector<std::string> extra;
      double width = 0;
      bool hot_killer = false;
      for (const auto& c : a.columns) {
        if (std::any_of(v.begin(), v.end(), [&](const Column& k) { return k.name == c; })) continue;
        // An included column the workload UPDATEs would make those updates non-HOT.
        if (updated_.count(t.qualified() + "." + c)) hot_killer = true;
        if (const ColumnInfo* ci = t.column(c)) {
          extra.push_back(c);
          width += ci->avg_width;
        }
      }
      if (!hot_killer && !extra.empty() && extra.size() <= kIncludeMaxColumns && width <= kIncludeMaxBytes)
        add(q, t, v, extra, nullptr);
    }
  }

  void access(const QueryModel& q, const AccessModel& a) {
    const TableInfo& t = *a.table;
    bool stats = catalog_.has_statistics;
    std::vector<std::pair<double, Column>> eqs, ins;
    std::vector<std::pair<double, Column>> ranges;
    std::vector<const PredicateModel*> partials;
    bool has_usable = false;
    const PredicateModel* infix = nullptr;
    const PredicateModel* wide_range = nullptr;
    const PredicateModel* function_of_column = nullptr, *containment = nullptr;
    double wide_sel = 0;
    const std::map<std::string, double> windows = window_selectivity(t, a);
    for (const auto& p : a.predicates) {
      const ColumnInfo* c = t.column(key_column(p.pred.column));
      if (p.pred.under_or || !c) continue;
      if (p.pred.kind == K::Other && !p.pred.expression.empty()) function_of_column = &p;
      if (p.pred.kind == K::Other && p.pred.expression.empty() && gin_operator(p.pred.op)) containment = &p;
      if (p.pred.kind == K::Range && p.pred.base_column.empty()) brin(q, t, *c);
      // An expression key ("(lower(email))") has no statistics of its own: the column's do not apply.
      bool expression = !p.pred.base_column.empty();
      bool col_stats = stats && c->has_stats && !expression;
      double sel = selectivity(t, p);
      if (auto w = windows.find(p.pred.column); w != windows.end() && p.pred.kind == K::Range) sel = w->second;
      if (p.constant && col_stats && sel <= kPartialMaxShare && !partial_predicate_sql(p).empty() &&
          (p.pred.kind != K::Equal || few_values(t, *c)))
        partials.push_back(&p);
      std::string on = expression ? " on " + p.pred.expression + ": an expression index, since a plain index on " +
                                        p.pred.base_column + " cannot serve a function of it"
                                  : "";
      switch (p.pred.kind) {
        case K::Equal:
        case K::IsNull:
        case K::BoolTrue:
        case K::BoolFalse:
          eqs.push_back({sel, {p.pred.column, "equality" + on + " (" + describe_sel(t, p, sel) + ")"}});
          has_usable = true;
          break;
        case K::In:
          ins.push_back({sel, {p.pred.column, "IN list" + on + " (" + describe_sel(t, p, sel) + ")"}});
          has_usable = true;
          break;
        case K::Range:
          ranges.push_back({sel, {p.pred.column, "range with " + p.pred.op + on + " (" + describe_sel(t, p, sel) + ")"}});
          if (col_stats && c->histogram.size() >= 2 && !p.sample_literals.empty() && sel > kRangeTooWide &&
              sel > wide_sel) {
            wide_range = &p;
            wide_sel = sel;
          }
          has_usable = true;
          break;
        case K::LikePrefix: {
          // Under a bytewise collation the default operator class serves LIKE 'prefix%' and also
          // ordering and ranges, which a pattern_ops index would not.
          Column col{p.pred.column, c->bytewise_collation
                                        ? "LIKE prefix (the column's collation sorts bytewise, so a plain B-tree serves it)"
                                        : "LIKE prefix (text_pattern_ops so LIKE can use it under any collation)"};
          if (!c->bytewise_collation && (c->type.find("char") != std::string::npos || c->type == "text"))
            col.opclass = c->type == "text" ? "text_pattern_ops" : "varchar_pattern_ops";
          ranges.push_back({sel, col});
          has_usable = true;
          break;
        }
        case K::LikeInfix: infix = &p; break;
        default: break;
      }
    }
    auto by_sel = [](const auto& x, const auto& y) { return x.first < y.first; };
    std::stable_sort(eqs.begin(), eqs.end(), by_sel);
    std::stable_sort(ins.begin(), ins.end(), by_sel);
    std::stable_sort(ranges.begin(), ranges.end(), by_sel);

    std::vector<Column> eq_cols;
    for (auto& e : eqs) eq_cols.push_back(e.second);
    for (auto& e : ins) eq_cols.push_back(e.second);

    std::vector<std::vector<Column>> variants = key_variants(t, a, eq_cols, !ins.empty(), ranges, wide_range);

    for (const auto& v : variants) {
      for (size_t len = 1; len <= v.size(); ++len) add(q, t, std::vector<Column>(v.begin(), v.begin() + long(len)), {}, nullptr);
      add_covering(q, t, a, v);
      for (const PredicateModel* pp : partials) {
        std::vector<Column> keys;
        for (const auto& c : v)
          if (c.name != pp->pred.column) keys.push_back(c);
        if (keys.empty()) keys.push_back({pp->pred.column, "the filtered column itself (the WHERE does the work)"});
        add(q, t, keys, {}, pp);
      }
    }
    if (variants.empty() && !partials.empty()) {
      // Only constant filters: index the filtered rows' ordering column or the column itself.
      for (const PredicateModel* pp : partials) add(q, t, {{pp->pred.column, "the filtered column itself"}}, {}, pp);
    }

    note_unserved(q, t, {function_of_column, infix, wide_range, wide_sel, has_usable, eq_cols.empty(), containment});
  }

 private:
  const Catalog& catalog_;
  CandidateSet& out_;
  std::map<std::string, size_t> index_of_;
  std::set<std::string> updated_;  // "schema.table.column" the workload UPDATEs

  std::string describe_sel(const TableInfo& t, const PredicateModel&, double sel) const {
    if (!catalog_.has_statistics) return "no statistics";
    double rows = std::max(1.0, std::round(t.rows() * sel));
    return "~" + std::to_string((long long)rows) + " of " + std::to_string((long long)t.rows()) + " rows";
  }

  // BRIN keeps one summary (min, max) per 128 pages: it serves a range on a column whose values
  // follow the physical row order (|pg_stats.correlation| near 1, as an append-only timestamp or
  // serial is) at a fraction of a B-tree's size. Not on a column the workload UPDATEs (updated rows
  // move and widen the ranges) nor on a table too small to have many ranges. The search weighs it
  // against the B-tree per byte; the report says which won and by how much.
  void brin(const QueryModel& q, const TableInfo& t, const ColumnInfo& c) {
    if (!c.has_stats || std::abs(c.correlation) < kBrinMinCorrelation || t.pages() < kBrinMinPages ||
        updated_.count(t.qualified() + "." + c.name))
      return;
    char corr[64];
    std::snprintf(corr, sizeof corr, "%.3f", c.correlation);
    add(q, t, {{c.name, std::string("range on a column in physical row order (correlation ") + corr +
                            "): BRIN, one summary per 128 pages"}},
        {}, nullptr, "brin");
  }

  void add(const QueryModel& q, const TableInfo& t, const std::vector<Column>& keys, const std::vector<std::string>& include,
           const PredicateModel* partial, const std::string& method = "btree") {
    IndexSpec s;
    s.method = method;
    s.schema = t.schema;
    s.table = t.name;
    for (const TableInfo* leaf : catalog_.leaves(t)) s.leaves.emplace_back(leaf->schema, leaf->name);
    if (t.partition_by.empty() && !t.inheritors.empty())
      for (const TableInfo* member : catalog_.inheritance_tree(t)) s.leaves.emplace_back(member->schema, member->name);
    std::vector<std::string> reasons;
    for (const auto& k : keys) {
      s.columns.push_back(k.name);
      s.descending.push_back(k.desc);
      s.opclass.push_back(k.opclass);
      reasons.push_back(k.name + ": " + k.reason);
    }
    s.include = include;
    if (!include.empty()) {
      std::string names;
      for (const auto& c : include) names += (names.empty() ? "" : ", ") + c;
      reasons.push_back("INCLUDE " + names + ": the query reads them too, so an index-only scan needs no heap visit");
    }
    double fraction = 1;
    if (partial) {
      s.where = partial_predicate_sql(*partial);
      fraction = selectivity(t, *partial);
      reasons.push_back("WHERE " + s.where + ": the query always filters on this constant and it keeps only " + pct(fraction) +
                        " of the rows, so the index stays small");
    }
    for (const auto& e : t.indexes)
      if (served_by(s, e)) return;
    std::string key = s.key();
    auto it = index_of_.find(key);
    if (it != index_of_.end()) {
      out_.candidates[it->second].sources.insert(q.fingerprint);
      return;
    }
    Candidate c;
    c.index = std::move(s);
    c.table = &t;
    c.partial_fraction = fraction;
    c.size_bytes = estimate_index_bytes(c.index, t, fraction);
    // Inheritance: the children's indexes are part of the cost (a partitioned table's own size
    // already counts its leaves').
    if (t.partition_by.empty() && !t.inheritors.empty()) {
      c.size_bytes = 0;
      for (const TableInfo* member : catalog_.inheritance_tree(t)) c.size_bytes += estimate_index_bytes(c.index, *member, fraction);
    }
    c.reasons = std::move(reasons);
    c.sources.insert(q.fingerprint);
    index_of_[key] = out_.candidates.size();
    out_.candidates.push_back(std::move(c));
  }
};

}  // namespace

bool served_by(const IndexSpec& c, const IndexInfo& e) {
  if (e.method != c.method || !e.valid) return false;
  if (!e.where.empty() && e.where != c.where) return false;
  if (e.unique && !e.columns.empty() && e.columns.size() <= c.columns.size()) {
    // Equality on a unique key finds at most one row: a candidate leading with all of its columns
    // (in any order), whatever follows or is INCLUDEd, saves one heap visit at best.
    std::vector<std::string> lead(c.columns.begin(), c.columns.begin() + long(e.columns.size()));
    if (std::is_permutation(lead.begin(), lead.end(), e.columns.begin())) return true;
  }
  if (c.columns.size() > e.columns.size()) return false;
  int direction = 0;
  for (size_t i = 0; i < c.columns.size(); ++i) {
    if (c.columns[i] != e.columns[i]) return false;
    bool ed = i < e.descending.size() && e.descending[i];
    bool cd = i < c.descending.size() && c.descending[i];
    int d = ed == cd ? 1 : -1;
    if (direction && d != direction) return false;
    direction = d;
    if (i < c.opclass.size() && !c.opclass[i].empty()) return false;  // a pattern opclass is a different index
  }
  for (const auto& inc : c.include)
    if (std::find(e.columns.begin(), e.columns.end(), inc) == e.columns.end() &&
        std::find(e.include.begin(), e.include.end(), inc) == e.include.end())
      return false;
  return true;
}

CandidateSet generate_candidates(const std::vector<QueryModel>& queries, const Catalog& catalog) {
  CandidateSet out;
  Generator g(catalog, out, queries);
  for (const auto& q : queries)
    for (const auto& a : q.accesses) g.access(q, a);
  return out;
}

}  // namespace pgopt::analyzer::advisor
