// Selectivity estimates (see selectivity.hpp); the defaults are PostgreSQL's own (selfuncs.h).
#include "analyzer/advisor/selectivity.hpp"

#include "analyzer/advisor/partitioning.hpp"

#include <algorithm>
#include <cstdlib>

namespace pgopt::analyzer::advisor {
namespace {

constexpr double kDefaultEq = 0.005;         // DEFAULT_EQ_SEL
constexpr double kDefaultIneq = 1.0 / 3.0;   // DEFAULT_INEQ_SEL
constexpr double kDefaultRange = 0.005;      // DEFAULT_RANGE_INEQ_SEL
constexpr double kDefaultMatch = 0.005;      // DEFAULT_MATCH_SEL (LIKE)

bool as_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

// a < b for values of the same column: numerically when both are numbers, else as text (which
// orders ISO dates and timestamps correctly).
bool less(const std::string& a, const std::string& b) {
  double x, y;
  if (as_number(a, x) && as_number(b, y)) return x < y;
  return a < b;
}

// Fraction of non-null, non-MCV values below `v`, from the histogram; nullopt without one.
std::optional<double> below(const ColumnInfo& c, const std::string& v) {
  if (c.histogram.size() < 2) return std::nullopt;
  size_t n = c.histogram.size();
  if (less(v, c.histogram.front())) return 0.0;
  if (!less(v, c.histogram.back())) return 1.0;
  for (size_t i = 1; i < n; ++i) {
    if (less(v, c.histogram[i])) {
      double lo = double(i - 1) / double(n - 1), hi = double(i) / double(n - 1);
      double a, b, x;
      if (as_number(c.histogram[i - 1], a) && as_number(c.histogram[i], b) && as_number(v, x) && b > a)
        return lo + (hi - lo) * (x - a) / (b - a);
      // Dates and timestamps interpolate by day.
      auto da = iso_days(c.histogram[i - 1]), db = iso_days(c.histogram[i]), dx = iso_days(v);
      if (da && db && dx && *db > *da) return lo + (hi - lo) * std::clamp((*dx - *da) / (*db - *da), 0.0, 1.0);
      return (lo + hi) / 2;
    }
  }
  return 1.0;
}

double mcv_share(const ColumnInfo& c) {
  double s = 0;
  for (double f : c.mcf) s += f;
  return s;
}

}  // namespace

std::string literal_value(const std::string& literal) {
  std::string s = literal;
  if (!s.empty() && s.front() == '\'') {
    auto end = s.rfind('\'');
    std::string out;
    for (size_t i = 1; i < end; ++i) {
      out += s[i];
      if (s[i] == '\'' && i + 1 < end && s[i + 1] == '\'') ++i;
    }
    return out;
  }
  auto cast = s.find("::");
  if (cast != std::string::npos) s = s.substr(0, cast);
  return s;
}

double distinct_values(const TableInfo& table, const ColumnInfo* c) {
  if (!c || c->n_distinct == 0) return 200;  // DEFAULT_NUM_DISTINCT
  if (c->n_distinct > 0) return c->n_distinct;
  return std::max(1.0, -c->n_distinct * table.rows());
}

double eq_selectivity(const TableInfo& table, const ColumnInfo* c, const std::optional<std::string>& literal) {
  if (!c) return kDefaultEq;
  if (!c->has_stats) return c->n_distinct < 0 ? 1.0 / table.rows() : kDefaultEq;
  if (literal) {
    std::string v = literal_value(*literal);
    for (size_t i = 0; i < c->mcv.size(); ++i)
      if (c->mcv[i] == v) return c->mcf[i];
  }
  double nd = distinct_values(table, c);
  double rest = std::max(0.0, 1.0 - c->null_frac - mcv_share(*c));
  double others = std::max(1.0, nd - double(c->mcv.size()));
  double sel = c->mcv.empty() ? (1.0 - c->null_frac) / nd : rest / others;
  // A value outside the MCV list is never more common than the least common MCV.
  if (!c->mcf.empty()) sel = std::min(sel, c->mcf.back());
  return std::clamp(sel, 1.0 / table.rows(), 1.0);
}

double selectivity(const TableInfo& table, const PredicateModel& p) {
  const ColumnInfo* c = table.column(p.pred.column);
  using K = sql::PredicateKind;
  std::vector<std::optional<std::string>> values;
  if (!p.sample_literals.empty()) {
    for (const auto& l : p.sample_literals) values.push_back(l);
  } else if (!p.pred.literals.empty()) {
    values.push_back(p.pred.literals.front());
  } else {
    values.push_back(std::nullopt);
  }
  double total = 0;
  for (const auto& v : values) {
    double s = kDefaultEq;
    switch (p.pred.kind) {
      case K::Equal: s = eq_selectivity(table, c, v); break;
      case K::In: s = std::min(1.0, eq_selectivity(table, c, std::nullopt) * double(std::max<size_t>(p.pred.literals.size(), 3))); break;
      case K::IsNull: s = c && c->has_stats ? c->null_frac : kDefaultEq; break;
      case K::IsNotNull: s = c && c->has_stats ? 1.0 - c->null_frac : 1.0 - kDefaultEq; break;
      case K::BoolTrue:
      case K::BoolFalse: {
        s = 0.5;
        std::string want = p.pred.kind == K::BoolTrue ? "t" : "f";
        if (c)
          for (size_t i = 0; i < c->mcv.size(); ++i)
            if (c->mcv[i] == want) s = c->mcf[i];
        if (c && c->has_stats && c->mcv.size() == 1 && c->mcv[0] != want) s = std::max(0.0, 1 - c->null_frac - c->mcf[0]);
        break;
      }
      case K::Range: {
        s = p.pred.lower_bound && p.pred.upper_bound ? kDefaultRange : kDefaultIneq;
        if (!c || !v) break;
        auto b = below(*c, literal_value(*v));
        if (!b) break;
        double nonnull = 1.0 - c->null_frac;
        if (p.pred.op == "BETWEEN") {
          // Each sample's own bounds; the loop variable only carries the first of them.
          const std::vector<std::string>* bounds = nullptr;
          size_t i = size_t(&v - values.data());
          if (i < p.sample_values.size()) bounds = &p.sample_values[i];
          else if (p.pred.literals.size() == 2) bounds = &p.pred.literals;
          s = kDefaultRange;
          if (bounds && bounds->size() == 2) {
            auto lo = below(*c, literal_value((*bounds)[0])), hi = below(*c, literal_value((*bounds)[1]));
            if (lo && hi) s = std::max(0.0, *hi - *lo) * nonnull;
          }
        } else {
          s = (p.pred.upper_bound ? *b : 1.0 - *b) * nonnull;
        }
        break;
      }
      case K::LikePrefix: s = kDefaultMatch * 4; break;
      case K::Like:
      case K::LikeInfix: s = kDefaultMatch; break;
      case K::NotEqual: s = 1.0 - eq_selectivity(table, c, v); break;
      case K::Other: s = kDefaultEq; break;
    }
    total += s;
  }
  return std::clamp(total / double(values.size()), 1.0 / table.rows(), 1.0);
}

}  // namespace pgopt::analyzer::advisor
