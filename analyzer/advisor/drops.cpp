// Drop suggestions (see drops.hpp). Indexes backing a constraint are never suggested: dropping one
// changes what the database guarantees, not just how fast it is.
#include "analyzer/advisor/drops.hpp"

#include <cstdio>
#include <set>

namespace pgopt::analyzer::advisor {
namespace {

bool same_keys(const IndexInfo& a, const IndexInfo& b) {
  return a.method == b.method && a.columns == b.columns && a.descending == b.descending && a.where == b.where &&
         std::set<std::string>(a.include.begin(), a.include.end()) == std::set<std::string>(b.include.begin(), b.include.end());
}

bool strict_prefix(const IndexInfo& a, const IndexInfo& b) {
  if (a.method != "btree" || b.method != "btree" || a.where != b.where || a.columns.size() >= b.columns.size())
    return false;
  if (!a.include.empty()) return false;
  for (size_t i = 0; i < a.columns.size(); ++i)
    if (a.columns[i] != b.columns[i]) return false;
  return true;
}

std::string qualified(const IndexInfo& i) { return quote_ident(i.schema) + "." + quote_ident(i.name); }

}  // namespace

std::string stats_window(const Catalog& catalog) {
  return "since " + catalog.stats_reset.value_or("?") + (catalog.stats_since_start ? " (server start, never reset)" : "");
}

std::vector<DropSuggestion> find_drops(const Catalog& catalog, const std::vector<IndexSpec>& recommended) {
  std::vector<DropSuggestion> out;
  for (const auto& t : catalog.tables) {
    std::set<std::string> done;
    auto add = [&](const IndexInfo& i, const char* kind, const std::string& reason) {
      // A partition's index attached to its parent's goes only with the parent's (PostgreSQL
      // refuses to drop it alone).
      if (i.constraint || i.primary || i.attached || !done.insert(i.name).second) return;
      // A partitioned index cannot be dropped CONCURRENTLY: the plain DROP locks the table.
      bool partitioned = !t.partition_by.empty();
      out.push_back({t.qualified(), i.schema + "." + i.name, i.definition, kind,
                     partitioned ? reason + "; a partitioned table's index cannot be dropped CONCURRENTLY: run it when "
                                            "a short exclusive lock on every partition is acceptable"
                                 : reason,
                     (partitioned ? "DROP INDEX " : "DROP INDEX CONCURRENTLY ") + qualified(i) + ";", i.size_bytes});
    };
    for (size_t a = 0; a < t.indexes.size(); ++a) {
      for (size_t b = 0; b < t.indexes.size(); ++b) {
        if (a == b) continue;
        const auto& x = t.indexes[a];
        const auto& y = t.indexes[b];
        if (same_keys(x, y)) {
          // Keep the one that enforces something, else the first listed.
          if (!x.unique && (y.constraint || y.unique || a > b)) add(x, "duplicate", "same definition as " + y.name);
        } else if (strict_prefix(x, y) && !x.unique) {
          add(x, "prefix", "its columns are the leading columns of " + y.name + ", which serves the same lookups");
        }
      }
    }
    if (catalog.source == "database" && catalog.stats_reset && catalog.stats_age_days.value_or(0) >= kUnusedMinDays) {
      char age[64];
      std::snprintf(age, sizeof age, "%.1f days", catalog.stats_age_days.value_or(0));
      for (const auto& i : t.indexes)
        if (i.idx_scan == 0 && !i.unique)
          add(i, "unused",
              std::string("0 scans in ") + age + " of statistics on this server, " + stats_window(catalog) +
                  "; check replicas and monthly jobs before dropping");
    }
    for (const auto& r : recommended) {
      if (r.relation() != t.qualified()) continue;
      for (const auto& i : t.indexes) {
        if (i.unique || i.method != "btree" || !i.include.empty() || i.where != r.where || i.columns.size() >= r.columns.size())
          continue;
        bool prefix = true;
        for (size_t k = 0; k < i.columns.size(); ++k)
          if (i.columns[k] != r.columns[k]) prefix = false;
        if (prefix) add(i, "superseded", "the recommended index " + r.describe() + " starts with the same columns");
      }
    }
  }
  return out;
}

}  // namespace pgopt::analyzer::advisor
