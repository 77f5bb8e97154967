// sql::fingerprint groups statements that differ only in constants, never statements on different
// tables: libpg_query's own value leaves digit runs out of table names (t12 = t13).
#include <gtest/gtest.h>

#include <string>

#include "sql/parser.hpp"

namespace {

uint64_t fp(const std::string& sql) {
  auto r = pgopt::sql::fingerprint(sql);
  EXPECT_TRUE(r.value.has_value()) << sql << ": " << r.error.message;
  return r.value.value_or(0);
}

TEST(Fingerprint, TablesWhoseNamesDifferInDigitsAreDifferentGroups) {
  EXPECT_NE(fp("SELECT * FROM t12 WHERE id = 1"), fp("SELECT * FROM t13 WHERE id = 1"));
  EXPECT_NE(fp("SELECT * FROM t001"), fp("SELECT * FROM t002"));
  EXPECT_NE(fp("SELECT * FROM t1"), fp("SELECT * FROM t2"));
  EXPECT_NE(fp("SELECT note FROM events_2024 WHERE id = 5"), fp("SELECT note FROM events_2025 WHERE id = 5"));
  EXPECT_NE(fp("INSERT INTO t12 VALUES (1)"), fp("INSERT INTO t13 VALUES (1)"));
  EXPECT_NE(fp("UPDATE t12 SET a = 1"), fp("UPDATE t13 SET a = 1"));
  EXPECT_NE(fp("DELETE FROM t12 WHERE a = 1"), fp("DELETE FROM t13 WHERE a = 1"));
  EXPECT_NE(fp("COPY t12 FROM STDIN"), fp("COPY t13 FROM STDIN"));
  EXPECT_NE(fp("SELECT * FROM s.t12 JOIN u ON true"), fp("SELECT * FROM s.t13 JOIN u ON true"));
  EXPECT_NE(fp("SELECT * FROM \"Events 2024\""), fp("SELECT * FROM \"Events 2025\""));
  // The order of the tables is part of the group ("t12, t3" is not "t1, t23").
  EXPECT_NE(fp("SELECT * FROM t12, t34"), fp("SELECT * FROM t34, t12"));
}

TEST(Fingerprint, ConstantsAndAliasesStillFoldTogether) {
  EXPECT_EQ(fp("SELECT * FROM t12 WHERE id = 37"), fp("select *\n  from t12 where id = 2024"));
  EXPECT_EQ(fp("SELECT * FROM t12 x WHERE x.id = 1"), fp("SELECT * FROM t12 x WHERE x.id = 99"));
  EXPECT_EQ(fp("SELECT * FROM events_2024 WHERE created > '2024-01-01'"),
            fp("SELECT * FROM events_2024 WHERE created > '2025-12-31'"));
  EXPECT_EQ(fp("SELECT * FROM orders WHERE id IN (10, 20)"), fp("SELECT * FROM orders WHERE id IN (30, 40)"));
  EXPECT_NE(fp("SELECT * FROM orders"), fp("SELECT * FROM customers"));
}

}  // namespace
