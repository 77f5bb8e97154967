// Which statement groups an index can change the plan of (see model.hpp, can_serve). The search
// costs a candidate only against these, and the what-if cache keys a group's cost on these alone:
// with thousands of groups, most candidates matter to a handful of them.
#include <algorithm>

#include "analyzer/advisor/model.hpp"

namespace pgopt::analyzer::advisor {
namespace {

bool names(const std::string& key, const std::string& column) { return key == column || key_uses(key, column); }

bool on_index_table(const IndexSpec& index, const TableInfo& t) {
  if (t.schema == index.schema && t.name == index.table) return true;
  for (const auto& [schema, table] : index.leaves)
    if (t.schema == schema && t.name == table) return true;
  return false;
}

bool serves_access(const IndexSpec& index, const AccessModel& a) {
  if (index.columns.empty()) return false;
  // A partial index is only usable when the statement's WHERE implies its predicate, which needs a
  // predicate on a column the index's WHERE names.
  if (!index.where.empty()) {
    bool implied = false;
    for (const auto& p : a.predicates) {
      const std::string& c = p.pred.base_column.empty() ? p.pred.column : p.pred.base_column;
      implied = implied || (!c.empty() && key_uses("(" + index.where + ")", c));
    }
    if (!implied) return false;
  }
  // The leading key anywhere in the statement: an index condition, a join key, an ORDER BY or
  // GROUP BY the index's order serves, or min()/max() read from the end of the index.
  const std::string& lead = index.columns.front();
  for (const auto& p : a.predicates)
    if (names(lead, p.pred.column) || (!p.pred.base_column.empty() && names(lead, p.pred.base_column))) return true;
  for (const auto& j : a.joins)
    if (names(lead, j.column)) return true;
  for (const auto& o : a.order_by)
    if (names(lead, o.column)) return true;
  for (const auto& g : a.group_by)
    if (names(lead, g)) return true;
  for (const auto& c : a.columns)
    if (names(lead, c)) return true;
  // Otherwise only a full index-only scan, which needs every column the statement reads in the
  // index (count(*) reads none: any index on the table can serve it).
  if (a.all_columns) return false;
  for (const auto& c : a.columns) {
    bool in = std::any_of(index.columns.begin(), index.columns.end(), [&](const std::string& k) { return k == c; }) ||
              std::find(index.include.begin(), index.include.end(), c) != index.include.end();
    if (!in) return false;
  }
  return true;
}

}  // namespace

bool can_serve(const IndexSpec& index, const QueryModel& q) {
  for (const auto& a : q.accesses)
    if (a.table && on_index_table(index, *a.table) && serves_access(index, a)) return true;
  return false;
}

}  // namespace pgopt::analyzer::advisor
