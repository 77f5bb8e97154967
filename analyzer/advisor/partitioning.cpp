// Partitioning advice (see partitioning.hpp).
#include "analyzer/advisor/partitioning.hpp"

#include <algorithm>
#include <cctype>
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

// The time window a range predicate's samples cover, in days (nullopt when unknown). `upper` is the
// same access's upper bound on the column (`at >= A AND at < B`), when there is one.
std::optional<double> window_days(const PredicateModel& p, double data_end, const PredicateModel* upper = nullptr) {
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
    for (size_t i = 0; i < p.sample_literals.size(); ++i) {
      auto d = iso_days(literal_value(p.sample_literals[i]));
      if (!d) continue;
      // Up to the same sample's upper bound, else up to the newest data.
      std::optional<double> end;
      if (upper && i < upper->sample_literals.size()) end = iso_days(literal_value(upper->sample_literals[i]));
      sum += std::max(1.0, end.value_or(data_end) - *d);
      ++n;
    }
    if (n) return sum / n;
  }
  return std::nullopt;
}

// Inverse of iso_days: "YYYY-MM-DD" of days since 1970-01-01 (civil_from_days, Howard Hinnant).
std::string iso_date(double days) {
  long z = long(std::floor(days)) + 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = unsigned(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long y = long(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char b[48];
  std::snprintf(b, sizeof b, "%04ld-%02u-%02u", y, m, d);
  return b;
}

// The partition holding `day` for the chosen interval: its bounds and a name suffix
// ("_p2024_03" for a month), so the sketch starts from the data's most recent period.
struct PartitionBounds {
  std::string from, to, suffix;
};
PartitionBounds bounds_for(double day, double interval_days) {
  std::string d = iso_date(day);
  int y = std::stoi(d.substr(0, 4)), m = std::stoi(d.substr(5, 2));
  char from[48], to[48], suffix[64];
  if (interval_days >= 365) {
    std::snprintf(from, sizeof from, "%04d-01-01", y);
    std::snprintf(to, sizeof to, "%04d-01-01", y + 1);
    std::snprintf(suffix, sizeof suffix, "_p%04d", y);
  } else if (interval_days >= 28) {
    std::snprintf(from, sizeof from, "%04d-%02d-01", y, m);
    std::snprintf(to, sizeof to, "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
    std::snprintf(suffix, sizeof suffix, "_p%04d_%02d", y, m);
  } else {
    // Days and weeks: weeks start on Monday (1970-01-01 was a Thursday, day 0).
    double start = interval_days >= 7 ? std::floor(day) - std::fmod(std::floor(day) + 3, 7) : std::floor(day);
    std::string a = iso_date(start), b = iso_date(start + interval_days);
    std::snprintf(from, sizeof from, "%s", a.c_str());
    std::snprintf(to, sizeof to, "%s", b.c_str());
    std::snprintf(suffix, sizeof suffix, "_p%s_%s_%s", a.substr(0, 4).c_str(), a.substr(5, 2).c_str(), a.substr(8, 2).c_str());
  }
  return {from, to, suffix};
}

bool numeric_type(const std::string& t) { return t == "integer" || t == "bigint" || t == "smallint"; }

std::string sql_literal(const std::string& value, const std::string& type) {
  if (numeric_type(type)) return value;
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// How the workload's statements filter one table: calls in all, and per column the calls and
// predicates of time ranges and of tenant equalities.
struct Usage {
  double calls = 0;
  std::map<std::string, double> range_calls, eq_calls;
  std::map<std::string, std::vector<std::pair<uint64_t, const PredicateModel*>>> range_preds, eq_preds;
  std::map<const PredicateModel*, const PredicateModel*> upper_of;  // a lower bound -> the access's upper bound
};

Usage usage_of(const TableInfo& t, const std::vector<QueryModel>& queries) {
  Usage u;
  for (const auto& q : queries) {
    for (const auto& a : q.accesses) {
      if (a.table != &t) continue;
      u.calls += q.weight;
      std::map<std::string, bool> seen_range, seen_eq;
      for (const auto& p : a.predicates) {
        if (p.pred.under_or) continue;
        const ColumnInfo* c = t.column(p.pred.column);
        if (!c) continue;
        if (p.pred.kind == sql::PredicateKind::Range && time_type(c->type) && !seen_range[c->name]) {
          seen_range[c->name] = true;
          u.range_calls[c->name] += q.weight;
          // `at >= A AND at < B` (in either order) is one window: the lower bound with its upper.
          const PredicateModel* lower = &p;
          const PredicateModel* upper = nullptr;
          for (const auto& o : a.predicates) {
            if (&o == &p || o.pred.under_or || o.pred.column != p.pred.column || o.pred.kind != sql::PredicateKind::Range)
              continue;
            if (p.pred.lower_bound && !p.pred.upper_bound && o.pred.upper_bound && !o.pred.lower_bound) upper = &o;
            if (p.pred.upper_bound && !p.pred.lower_bound && o.pred.lower_bound && !o.pred.upper_bound) {
              lower = &o;
              upper = &p;
            }
          }
          u.range_preds[c->name].push_back({q.fingerprint, lower});
          if (upper) u.upper_of[lower] = upper;
        }
        // A tenant has many rows each: a key or near-unique column (a point lookup) is not one.
        bool many_rows_per_value = distinct_values(t, c) <= 0.01 * std::max(1.0, t.rows());
        if ((p.pred.kind == sql::PredicateKind::Equal || p.pred.kind == sql::PredicateKind::In) &&
            tenant_type(c->type) && many_rows_per_value && !seen_eq[c->name]) {
          seen_eq[c->name] = true;
          u.eq_calls[c->name] += q.weight;
          u.eq_preds[c->name].push_back({q.fingerprint, &p});
        }
      }
    }
  }
  return u;
}

// RANGE on the time column most statements filter by range, with the interval their windows fit.
PartitionAdvice range_advice(const TableInfo& t, double bytes, const Usage& u, const std::string& time_col,
                             double time_calls) {
  std::string table = quote_ident(t.schema) + "." + quote_ident(t.name);
  const ColumnInfo* c = t.column(time_col);
  std::optional<double> lo, hi;
  if (c && c->histogram.size() >= 2) {
    lo = iso_days(c->histogram.front());
    hi = iso_days(c->histogram.back());
  }
  double span = lo && hi ? std::max(1.0, *hi - *lo) : 365;
  std::vector<double> windows;
  auto upper = [&](const PredicateModel* p) {
    auto it = u.upper_of.find(p);
    return it == u.upper_of.end() ? nullptr : it->second;
  };
  for (const auto& [fp, p] : u.range_preds.at(time_col))
    if (auto w = window_days(*p, hi.value_or(0), upper(p))) windows.push_back(*w);
  std::sort(windows.begin(), windows.end());
  double typical = windows.empty() ? 30 : windows[windows.size() / 2];
  // The largest interval no longer than the typical window (a query then reads about the
  // partitions it needs, plus at most one partly), with at most 500 partitions over the data's
  // span; when even the smallest allowed interval is longer, that one.
  struct Choice { const char* name; double days; };
  Choice choices[] = {{"1 day", 1}, {"1 week", 7}, {"1 month", 30.4}, {"1 year", 365}};
  std::optional<Choice> pick;
  for (const auto& ch : choices) {
    if (span / ch.days > 500) continue;
    if (!pick || ch.days <= typical) pick = ch;
    if (ch.days > typical) break;
  }
  if (!pick) pick = choices[3];
  double parts = std::max(1.0, std::ceil(span / pick->days));
  PartitionAdvice adv;
  adv.relation = t.qualified();
  adv.column = time_col;
  adv.strategy = "RANGE";
  adv.interval = pick->name;
  adv.table_bytes = bytes;
  adv.statement_share = time_calls / u.calls;
  adv.reason = fmt_pct(adv.statement_share) + " of the statements on this table filter a range of " + time_col +
               " (typical window " + std::to_string(int(std::round(typical))) + " days, data span " +
               std::to_string(int(std::round(span))) + " days): partitions of " + pick->name + " let them skip the rest";
  for (const auto& [fp, p] : u.range_preds.at(time_col)) {
    double w = window_days(*p, hi.value_or(0), upper(p)).value_or(typical);
    double touched = std::min(parts, std::ceil(w / pick->days) + 1);
    adv.pruned.push_back({fp, parts > 1 ? 1.0 - touched / parts : 0.0});
  }
  // The example partition is the one for the newest data (the histogram's upper bound).
  PartitionBounds b = bounds_for(hi.value_or(iso_days("2024-01-01").value_or(0)), pick->days);
  adv.ddl = "CREATE TABLE " + table + "_new (LIKE " + table + " INCLUDING ALL) PARTITION BY RANGE (" +
            quote_ident(time_col) + ");\n-- one partition per " + pick->name + " over the data span (" +
            std::to_string(int(parts)) + " partitions), e.g. the newest:\nCREATE TABLE " +
            quote_ident(t.schema) + "." + quote_ident(t.name + b.suffix) + " PARTITION OF " + table +
            "_new FOR VALUES FROM ('" + b.from + "') TO ('" + b.to + "');";
  adv.migration = {
      "Create the partitioned table and partitions covering the data span plus the coming periods "
      "(pg_partman or a scheduled job keeps creating them).",
      "Primary keys and unique indexes must include " + time_col + ": adjust them first.",
      "Copy the data in batches (INSERT ... SELECT by " + time_col + " range) or attach the old table as one "
      "partition with ALTER TABLE ... ATTACH PARTITION after adding a matching CHECK constraint.",
      "Swap names in one short transaction (ALTER TABLE ... RENAME), then drop old partitions instead of DELETE "
      "for retention."};
  return adv;
}

// LIST or HASH on the column nearly every statement pins by equality.
PartitionAdvice tenant_advice(const TableInfo& t, double bytes, const Usage& u, const std::string& tenant_col,
                              double tenant_calls) {
  std::string table = quote_ident(t.schema) + "." + quote_ident(t.name);
  const ColumnInfo* c = t.column(tenant_col);
  double tenants = distinct_values(t, c);
  PartitionAdvice adv;
  adv.relation = t.qualified();
  adv.column = tenant_col;
  adv.table_bytes = bytes;
  adv.statement_share = tenant_calls / u.calls;
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
  for (const auto& [fp, p] : u.eq_preds.at(tenant_col)) adv.pruned.push_back({fp, parts > 1 ? 1.0 - 1.0 / parts : 0.0});
  // LIST: one partition per value, the example being the most common one; HASH: remainders 0 .. n-1.
  std::string example = c && !c->mcv.empty() ? c->mcv.front() : "1";
  std::string word;
  for (char ch : example)
    if (std::isalnum(static_cast<unsigned char>(ch))) word += char(std::tolower(static_cast<unsigned char>(ch)));
  std::string list_name = t.name + "_" + (word.empty() || word.size() > 20 ? std::string("v1") : word);
  adv.ddl = "CREATE TABLE " + table + "_new (LIKE " + table + " INCLUDING ALL) PARTITION BY " + adv.strategy + " (" +
            quote_ident(tenant_col) + ");\n" +
            (adv.strategy == "HASH"
                 ? "-- " + std::to_string(int(parts)) + " partitions, REMAINDER 0 to " + std::to_string(int(parts) - 1) +
                       ":\nCREATE TABLE " + quote_ident(t.schema) + "." + quote_ident(t.name + "_p0") + " PARTITION OF " +
                       table + "_new FOR VALUES WITH (MODULUS " + std::to_string(int(parts)) + ", REMAINDER 0);"
                 : "-- one partition per value of " + tenant_col + " (" + std::to_string(int(parts)) +
                       "), e.g. the most common:\nCREATE TABLE " + quote_ident(t.schema) + "." + quote_ident(list_name) +
                       " PARTITION OF " + table + "_new FOR VALUES IN (" + sql_literal(example, c ? c->type : "") +
                       ");\nCREATE TABLE " + quote_ident(t.schema) + "." + quote_ident(t.name + "_default") +
                       " PARTITION OF " + table + "_new DEFAULT;  -- values that appear later");
  adv.migration = {"Primary keys and unique indexes must include " + tenant_col + ": adjust them first.",
                   "Create all partitions, copy the data in batches, then swap names in one short transaction.",
                   "Queries that do not pin " + tenant_col + " will scan every partition: check the remaining " +
                       fmt_pct(1 - adv.statement_share) + "."};
  return adv;
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
    Usage u = usage_of(t, queries);
    if (u.calls == 0) continue;
    auto best_of = [](const std::map<std::string, double>& m) {
      std::pair<std::string, double> best{"", 0};
      for (const auto& [k, v] : m)
        if (v > best.second) best = {k, v};
      return best;
    };
    auto [time_col, time_calls] = best_of(u.range_calls);
    auto [tenant_col, tenant_calls] = best_of(u.eq_calls);
    if (!time_col.empty() && time_calls / u.calls >= kRangeShare) {
      out.push_back(range_advice(t, bytes, u, time_col, time_calls));
    } else if (!tenant_col.empty() && tenant_calls / u.calls >= kTenantShare) {
      out.push_back(tenant_advice(t, bytes, u, tenant_col, tenant_calls));
    }
  }
  return out;
}

}  // namespace pgopt::analyzer::advisor
