// The offline what-if: a simplified version of the planner's scan costing (costsize.c defaults:
// seq_page_cost 1, random_page_cost 4, cpu_tuple_cost 0.01, cpu_index_tuple_cost 0.005,
// cpu_operator_cost 0.0025), used without --db or when HypoPG is unavailable.
#include <algorithm>
#include <cmath>

#include "analyzer/advisor/evaluator.hpp"
#include "analyzer/advisor/selectivity.hpp"

namespace pgopt::analyzer::advisor {
namespace {

constexpr double kSeqPage = 1.0, kRandomPage = 4.0, kCpuTuple = 0.01, kCpuIndexTuple = 0.005, kCpuOperator = 0.0025;

using K = sql::PredicateKind;

bool eq_like(K k) { return k == K::Equal || k == K::In || k == K::IsNull || k == K::BoolTrue || k == K::BoolFalse; }
bool range_like(K k) { return k == K::Range || k == K::LikePrefix; }

// A view of an index usable for both catalog indexes and hypothetical ones.
struct IndexView {
  std::vector<std::string> columns;
  std::vector<bool> descending;
  std::vector<std::string> include;
  std::string where;
  const IndexSpec* spec = nullptr;
};

// An index on a partitioned table (or an inheritance parent) is built on each of its leaves too:
// a statement that names a partition itself can use it.
bool on_table(const IndexSpec& s, const TableInfo& t) {
  if (s.relation() == t.qualified()) return true;
  for (const auto& [schema, table] : s.leaves)
    if (schema == t.schema && table == t.name) return true;
  return false;
}

double sort_cost(double rows) { return rows > 1 ? 2 * kCpuOperator * rows * std::log2(rows) : 0; }

class CostModel : public Evaluator {
 public:
  explicit CostModel(const Catalog& catalog) : catalog_(catalog) {}
  std::string method() const override { return catalog_.has_statistics ? "cost_model" : "heuristic"; }

  std::optional<double> cost(const QueryModel& q, const std::vector<const IndexSpec*>& config) override {
    double total = 0;
    for (size_t i = 0; i < q.accesses.size(); ++i) total += access_cost(q, i, config);
    for (const auto& w : q.writes) total += w.rows_per_call * kCpuTuple;
    return total;
  }

 private:
  const Catalog& catalog_;

  static double rows_out(const AccessModel& a) {
    double sel = 1;
    for (const auto& p : a.predicates)
      if (!p.pred.under_or) sel *= selectivity(*a.table, p);
    return std::max(1.0, a.table->rows() * sel);
  }

  // The WHERE of a partial index is implied when the query has a predicate that renders the same.
  static bool implied(const std::string& where, const AccessModel& a, double& fraction) {
    fraction = 1;
    if (where.empty()) return true;
    for (const auto& p : a.predicates) {
      if (p.pred.under_or || !p.constant) continue;
      if (partial_predicate_sql(p) == where) {
        fraction = selectivity(*a.table, p);
        return true;
      }
    }
    return false;
  }

  double access_cost(const QueryModel& q, size_t idx, const std::vector<const IndexSpec*>& config) const {
    const AccessModel& a = q.accesses[idx];
    const TableInfo& t = *a.table;
    double n = t.rows(), pages = t.pages();
    double out = rows_out(a);
    double npred = double(std::max<size_t>(1, a.predicates.size()));
    double want = a.has_limit ? double(a.limit ? std::max<int64_t>(1, *a.limit) : 10) : out;
    double limit_frac = std::min(1.0, want / out);

    double seq = pages * kSeqPage + n * (kCpuTuple + kCpuOperator * npred);
    double best = a.order_by.empty() ? seq * (a.has_limit ? limit_frac : 1.0) : seq + sort_cost(out);

    std::vector<IndexView> indexes;
    for (const auto& i : t.indexes)
      if (i.method == "btree" && i.valid) indexes.push_back({i.columns, i.descending, i.include, i.where, nullptr});
    for (const IndexSpec* s : config)
      if (s->method == "btree" && on_table(*s, t)) indexes.push_back({s->columns, s->descending, s->include, s->where, s});

    // Rows of the other side when this table is the inner side of a nested loop.
    double outer_rows = -1;
    for (const auto& j : a.joins)
      for (size_t k = 0; k < q.accesses.size(); ++k)
        if (k != idx && q.accesses[k].table->qualified() == j.other_relation) {
          double r = rows_out(q.accesses[k]);
          outer_rows = outer_rows < 0 ? r : std::min(outer_rows, r);
        }

    for (const auto& ix : indexes) {
      double partial = 1;
      if (!implied(ix.where, a, partial)) continue;
      double sel = partial;
      size_t matched = 0, eq_prefix = 0;
      bool in_seen = false;
      for (const auto& col : ix.columns) {
        const PredicateModel* hit = nullptr;
        for (const auto& p : a.predicates)
          if (!p.pred.under_or && p.pred.column == col && (eq_like(p.pred.kind) || range_like(p.pred.kind)))
            if (!hit || eq_like(p.pred.kind)) hit = &p;
        if (!hit) break;
        sel *= selectivity(t, *hit);
        ++matched;
        if (!eq_like(hit->pred.kind)) break;
        if (hit->pred.kind == K::In) in_seen = true;
        ++eq_prefix;
      }
      bool ordered = !a.order_by.empty() && !in_seen && ordered_by(ix, eq_prefix, a);
      if (matched == 0 && !ordered && partial >= 1) {
        // Only useful as the inner side of a join lookup.
        if (outer_rows > 0) best = std::min(best, join_lookup(a, ix, outer_rows));
        continue;
      }
      double idx_rows = std::max(1.0, n * sel);
      double c = index_scan(a, ix, idx_rows, pages);
      if (ordered) {
        c = kRandomPage + (c - kRandomPage) * (a.has_limit ? limit_frac : 1.0);
      } else {
        c += a.order_by.empty() ? 0 : sort_cost(idx_rows);
      }
      best = std::min(best, c);
      if (outer_rows > 0) best = std::min(best, join_lookup(a, ix, outer_rows));
    }
    return best;
  }

  static bool ordered_by(const IndexView& ix, size_t eq_prefix, const AccessModel& a) {
    // After the equality prefix the index must list the ORDER BY columns, all in the index's
    // direction or all reversed (a backward scan).
    size_t pos = eq_prefix;
    int direction = 0;
    for (const auto& k : a.order_by) {
      // ORDER BY on a column fixed by equality is free.
      bool fixed = false;
      for (size_t i = 0; i < eq_prefix; ++i)
        if (ix.columns[i] == k.column) fixed = true;
      if (fixed) continue;
      if (pos >= ix.columns.size() || ix.columns[pos] != k.column) return false;
      bool desc = pos < ix.descending.size() && ix.descending[pos];
      int d = desc == k.descending ? 1 : -1;
      if (direction && d != direction) return false;
      direction = d;
      ++pos;
    }
    return true;
  }

  static bool covers(const IndexView& ix, const AccessModel& a) {
    // UPDATE/DELETE visit the heap row whatever the index holds.
    if (a.all_columns || a.write_target) return false;
    for (const auto& c : a.columns)
      if (std::find(ix.columns.begin(), ix.columns.end(), c) == ix.columns.end() &&
          std::find(ix.include.begin(), ix.include.end(), c) == ix.include.end())
        return false;
    return true;
  }

  double index_scan(const AccessModel& a, const IndexView& ix, double rows, double pages) const {
    const TableInfo& t = *a.table;
    IndexSpec shape;
    shape.columns = ix.columns;
    shape.include = ix.include;
    double index_pages = estimate_index_bytes(shape, t, 1.0) / 8192;
    double frac = std::min(1.0, rows / t.rows());
    double index_io = kRandomPage + std::max(0.0, index_pages * frac - 1) * kSeqPage;
    double heap_io;
    if (covers(ix, a)) {
      heap_io = 0.1 * std::min(rows, pages) * kRandomPage;  // assume a mostly all-visible table
    } else {
      const ColumnInfo* lead = t.column(ix.columns.empty() ? "" : ix.columns[0]);
      double corr = lead ? lead->correlation * lead->correlation : 0;
      double fetched = pages * (1 - std::exp(-rows / pages));
      double uncorrelated = std::min(rows, fetched * 2) * kRandomPage;
      double correlated = std::max(1.0, pages * frac) * kSeqPage;
      heap_io = corr * correlated + (1 - corr) * std::min(uncorrelated, fetched * kRandomPage);
    }
    double cpu = rows * (kCpuIndexTuple + kCpuTuple + kCpuOperator * double(a.predicates.size()));
    return index_io + heap_io + cpu;
  }

  double join_lookup(const AccessModel& a, const IndexView& ix, double outer_rows) const {
    if (ix.columns.empty()) return 1e300;
    for (const auto& j : a.joins) {
      if (j.column != ix.columns[0]) continue;
      double per_key = a.table->rows() / distinct_values(*a.table, a.table->column(j.column));
      return outer_rows * index_scan(a, ix, std::max(1.0, per_key), a.table->pages());
    }
    return 1e300;
  }
};

}  // namespace

std::string Evaluator::unusable(const IndexSpec& index) {
  for (const auto& c : index.columns)
    if (!c.empty() && c.front() == '(' && c.rfind("(lower(", 0) != 0 && c.rfind("(upper(", 0) != 0)
      return "whether " + c + " is IMMUTABLE (as an index expression must be) is only known to the database: give --db "
             "with HypoPG";
  return "";
}

std::unique_ptr<Evaluator> make_cost_model(const Catalog& catalog) { return std::make_unique<CostModel>(catalog); }

namespace {
// An index on a partitioned table is on each of its partitions too: a statement that names a
// partition itself is served by it.
bool relevant(const QueryModel& q, const IndexSpec& s) {
  if (q.touches(s.relation())) return true;
  for (const auto& [schema, table] : s.leaves)
    if (q.touches(schema + "." + table)) return true;
  return false;
}
}  // namespace

std::optional<std::optional<double>> CostCache::find(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  ++hits_;
  return it->second;
}

void CostCache::put(std::string key, std::optional<double> cost) {
  std::lock_guard lock(mu_);
  if (map_.emplace(std::move(key), cost).second) ++misses_;
}

size_t CostCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

size_t CostCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

std::optional<double> CachingEvaluator::cost(const QueryModel& q, const std::vector<const IndexSpec*>& config) {
  std::vector<std::string> keys;
  std::vector<const IndexSpec*> on_tables;
  for (const IndexSpec* s : config) {
    if (!relevant(q, *s)) continue;
    on_tables.push_back(s);
    if (can_serve(*s, q)) keys.push_back(s->key());
  }
  std::sort(keys.begin(), keys.end());
  std::string k = std::to_string(q.fingerprint);
  for (const auto& s : keys) k += "|" + s;
  if (auto hit = cache_.find(k)) return *hit;
  auto c = inner_.cost(q, on_tables);
  cache_.put(std::move(k), c);
  return c;
}

}  // namespace pgopt::analyzer::advisor
