// Partitioning advice (see partitioning.hpp).
#include "analyzer/advisor/partitioning.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "analyzer/advisor/selectivity.hpp"

namespace pgopt::analyzer::advisor {
namespace {

constexpr double kRangeShare = 0.6;   // most statements must filter by the time range
constexpr double kTenantShare = 0.9;  // nearly every statement must pin the tenant
constexpr double kListMax = 64;       // up to this many tenants: one partition each

bool time_type(const std::string& t) { return t.rfind("timestamp", 0) == 0 || t == "date"; }
bool tenant_type(const std::string& t) {
  return t == "integer" || t == "bigint" || t == "smallint" || t == "uuid" || t == "text" ||
         t.rfind("character varying", 0) == 0;
}

std::string fmt_pct(double f) {
  char b[16];
  std::snprintf(b, sizeof b, "%.0f%%", f * 100);
  return b;
}

// The time window a range predicate's samples cover, in days (nullopt when unknown).
std::optional<double> window_days(const PredicateModel& p, double data_end) {
  if (p.pred.op == "BETWEEN") {
    std::vector<std::vector<std::string>> sets = p.sample_values;
    if (sets.empty() && p.pred.literals.size() == 2) sets.push_back(p.pred.literals);
    double sum = 0;
    int n = 0;
    for (const auto& v : sets) {
      if (v.size() != 2) continue;
      auto a = iso_days(literal_value(v[0])), b = iso_days(literal_value(v[1]));
      if (a && b) {
        sum += std::max(1.0, *b - *a);
        ++n;
      }
    }
    return n ? std::optional<double>(sum / n) : std::nullopt;
  }
  if (p.pred.lower_bound && !p.sample_literals.empty()) {
    double sum = 0;
    int n = 0;
    for (const auto& l : p.sample_literals)
      if (auto d = iso_days(literal_value(l))) {
        sum += std::max(1.0, data_end - *d);
        ++n;
      }
    if (n) return sum / n;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> iso_days(const std::string& s) {
  int y, m, d;
  if (s.size() < 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
    return std::nullopt;
  // days_from_civil (Howard Hinnant)
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = unsigned(y - era * 400);
  unsigned doy = unsigned((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return double(era * 146097 + int(doe) - 719468);
}

std::vector<PartitionAdvice> advise_partitioning(const std::vector<QueryModel>& queries, const Catalog& catalog,
                                                 double min_bytes) {
  std::vector<PartitionAdvice> out;
  for (const auto& t : catalog.tables) {
    if (!t.partition_by.empty() || t.is_partition) continue;
    double bytes = t.total_bytes > 0 ? t.total_bytes : t.relpages * 8192;
    if (bytes < min_bytes) continue;
    double calls = 0;
    std::map<std::string, double> range_calls, eq_calls;
    std::map<std::string, std::vector<std::pair<uint64_t, const PredicateModel*>>> range_preds, eq_preds;
    for (const auto& q : queries) {
      for (const auto& a : q.accesses) {
        if (a.table != &t) continue;
        calls += q.weight;
        std::map<std::string, bool> seen_range, seen_eq;
        for (const auto& p : a.predicates) {
          if (p.pred.under_or) continue;
          const ColumnInfo* c = t.column(p.pred.column);
          if (!c) continue;
          if (p.pred.kind == sql::PredicateKind::Range && time_type(c->type) && !seen_range[c->name]) {
            seen_range[c->name] = true;
            range_calls[c->name] += q.weight;
            range_preds[c->name].push_back({q.fingerprint, &p});
          }
          if ((p.pred.kind == sql::PredicateKind::Equal || p.pred.kind == sql::PredicateKind::In) &&
              tenant_type(c->type) && !seen_eq[c->name]) {
            seen_eq[c->name] = true;
            eq_calls[c->name] += q.weight;
            eq_preds[c->name].push_back({q.fingerprint, &p});
          }
        }
      }
    }
    if (calls == 0) continue;
    auto best_of = [](const std::map<std::string, double>& m) {
      std::pair<std::string, double> best{"", 0};
      for (const auto& [k, v] : m)
        if (v > best.second) best = {k, v};
      return best;
    };
    auto [time_col, time_calls] = best_of(range_calls);
    auto [tenant_col, tenant_calls] = best_of(eq_calls);
    std::string table = quote_ident(t.schema) + "." + quote_ident(t.name);
    if (!time_col.empty() && time_calls / calls >= kRangeShare) {
      const ColumnInfo* c = t.column(time_col);
      std::optional<double> lo, hi;
      if (c && c->histogram.size() >= 2) {
        lo = iso_days(c->histogram.front());
        hi = iso_days(c->histogram.back());
      }
      double span = lo && hi ? std::max(1.0, *hi - *lo) : 365;
      std::vector<double> windows;
      for (const auto& [fp, p] : range_preds[time_col])
        if (auto w = window_days(*p, hi.value_or(0))) windows.push_back(*w);
      std::sort(windows.begin(), windows.end());
      double typical = windows.empty() ? 30 : windows[windows.size() / 2];
      // The largest interval that still lets a typical window skip most partitions, with at most
      // a few hundred partitions over the data's span.
      struct Choice { const char* name; double days; };
      Choice choices[] = {{"1 day", 1}, {"1 week", 7}, {"1 month", 30.4}, {"1 year", 365}};
      Choice pick = choices[2];
      for (const auto& ch : choices) {
        if (span / ch.days > 500) continue;
        pick = ch;
        if (ch.days >= typical / 2) break;
      }
      double parts = std::max(1.0, std::ceil(span / pick.days));
      PartitionAdvice adv;
      adv.relation = t.qualified();
      adv.column = time_col;
      adv.strategy = "RANGE";
      adv.interval = pick.name;
      adv.table_bytes = bytes;
      adv.statement_share = time_calls / calls;
      adv.reason = fmt_pct(adv.statement_share) + " of the statements on this table filter a range of " + time_col +
                   " (typical window " + std::to_string(int(std::round(typical))) + " days, data span " +
                   std::to_string(int(std::round(span))) + " days): partitions of " + pick.name + " let them skip the rest";
      for (const auto& [fp, p] : range_preds[time_col]) {
        double w = window_days(*p, hi.value_or(0)).value_or(typical);
        double touched = std::min(parts, std::ceil(w / pick.days) + 1);
        adv.pruned.push_back({fp, parts > 1 ? 1.0 - touched / parts : 0.0});
      }
      adv.ddl = "CREATE TABLE " + table + "_new (LIKE " + table + " INCLUDING ALL) PARTITION BY RANGE (" +
                quote_ident(time_col) + ");\n-- one partition per " + pick.name + ", e.g.:\nCREATE TABLE " + table +
                "_p2024_01 PARTITION OF " + table + "_new FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');";
      adv.migration = {
          "Create the partitioned table and partitions covering the data span plus the coming periods "
          "(pg_partman or a scheduled job keeps creating them).",
          "Primary keys and unique indexes must include " + time_col + ": adjust them first.",
          "Copy the data in batches (INSERT ... SELECT by " + time_col + " range) or attach the old table as one "
          "partition with ALTER TABLE ... ATTACH PARTITION after adding a matching CHECK constraint.",
          "Swap names in one short transaction (ALTER TABLE ... RENAME), then drop old partitions instead of DELETE "
          "for retention."};
      out.push_back(std::move(adv));
    } else if (!tenant_col.empty() && tenant_calls / calls >= kTenantShare) {
      const ColumnInfo* c = t.column(tenant_col);
      double tenants = distinct_values(t, c);
      PartitionAdvice adv;
      adv.relation = t.qualified();
      adv.column = tenant_col;
      adv.table_bytes = bytes;
      adv.statement_share = tenant_calls / calls;
      double parts;
      if (tenants <= kListMax) {
        adv.strategy = "LIST";
        adv.interval = std::to_string(int(tenants)) + " partitions (one per value)";
        parts = tenants;
      } else {
        adv.strategy = "HASH";
        parts = tenants > 10000 ? 64 : tenants > 1000 ? 32 : 16;
        adv.interval = "modulus " + std::to_string(int(parts));
      }
      adv.reason = fmt_pct(adv.statement_share) + " of the statements on this table pin " + tenant_col + " by equality (" +
                   std::to_string((long long)tenants) + " distinct values)";
      for (const auto& [fp, p] : eq_preds[tenant_col]) adv.pruned.push_back({fp, parts > 1 ? 1.0 - 1.0 / parts : 0.0});
      adv.ddl = "CREATE TABLE " + table + "_new (LIKE " + table + " INCLUDING ALL) PARTITION BY " + adv.strategy + " (" +
                quote_ident(tenant_col) + ");\n" +
                (adv.strategy == "HASH" ? "CREATE TABLE " + table + "_p0 PARTITION OF " + table +
                                              "_new FOR VALUES WITH (MODULUS " + std::to_string(int(parts)) + ", REMAINDER 0);"
                                        : "CREATE TABLE " + table + "_p1 PARTITION OF " + table + "_new FOR VALUES IN (1);");
      adv.migration = {"Primary keys and unique indexes must include " + tenant_col + ": adjust them first.",
                       "Create all partitions, copy the data in batches, then swap names in one short transaction.",
                       "Queries that do not pin " + tenant_col + " will scan every partition: check the remaining " +
                           fmt_pct(1 - adv.statement_share) + "."};
      out.push_back(std::move(adv));
    }
  }
  return out;
}

}  // namespace pgopt::analyzer::advisor
