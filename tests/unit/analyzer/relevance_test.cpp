// can_serve: which statement groups an index can change the plan of. The search costs candidates
// only against these and caches costs keyed on them, so a wrong "no" would hide a real benefit.
#include <gtest/gtest.h>

#include "analyzer/advisor/model.hpp"

using namespace pgopt::analyzer::advisor;

namespace {

IndexSpec index_on(std::vector<std::string> cols, std::string where = "") {
  IndexSpec s;
  s.table = "orders";
  s.columns = cols;
  s.descending.assign(cols.size(), false);
  s.opclass.assign(cols.size(), "");
  s.where = std::move(where);
  return s;
}

QueryModel reading(const TableInfo& t, std::vector<std::string> columns, std::vector<std::string> filtered) {
  QueryModel q;
  AccessModel a;
  a.table = &t;
  a.columns = std::move(columns);
  for (auto& c : filtered) {
    PredicateModel p;
    p.pred.column = c;
    a.predicates.push_back(p);
  }
  q.accesses.push_back(a);
  return q;
}

}  // namespace

TEST(CanServe, LeadingColumnReadIndexOnlyScanPartialPredicate) {
  TableInfo orders, users;
  orders.name = "orders";
  users.name = "users";
  QueryModel by_customer = reading(orders, {"customer_id", "id", "total"}, {"customer_id"});
  EXPECT_TRUE(can_serve(index_on({"customer_id"}), by_customer));
  EXPECT_TRUE(can_serve(index_on({"customer_id", "created_at"}), by_customer));
  // The leading column is not one the statement reads: no index scan, no index-only scan.
  EXPECT_FALSE(can_serve(index_on({"created_at", "customer_id"}), by_customer));
  // Another table's statement.
  EXPECT_FALSE(can_serve(index_on({"customer_id"}), reading(users, {"customer_id"}, {"customer_id"})));
  // count(*) reads no column: any index can be scanned index-only instead of the heap.
  EXPECT_TRUE(can_serve(index_on({"created_at"}), reading(orders, {}, {})));
  // Every column read is in the index: a full index-only scan, whatever the leading column.
  EXPECT_TRUE(can_serve(index_on({"created_at", "total"}), reading(orders, {"total"}, {})));
  // min()/max() or a select-list column read in index order: the leading column is read.
  EXPECT_TRUE(can_serve(index_on({"total"}), reading(orders, {"id", "total"}, {"customer_id"})));
  // A partial index needs a condition on its WHERE column to be usable at all.
  EXPECT_FALSE(can_serve(index_on({"customer_id"}, "status = 'new'"), by_customer));
  QueryModel by_status = reading(orders, {"customer_id", "status"}, {"customer_id", "status"});
  EXPECT_TRUE(can_serve(index_on({"customer_id"}, "status = 'new'"), by_status));
}
