// The generated pg_catalog table and the curated writer list stay consistent with each other.
#include "sql/builtin_functions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace pgopt::sql::detail {
namespace {

TEST(BuiltinFunctions, TableLooksLikePostgres15) {
  EXPECT_GT(builtin_function_count(), 2500u);
  EXPECT_EQ(builtin_volatility("abs"), Volatility::Immutable);
  EXPECT_EQ(builtin_volatility("now"), Volatility::Stable);
  EXPECT_EQ(builtin_volatility("random"), Volatility::Volatile);
  EXPECT_EQ(builtin_volatility("nextval"), Volatility::Volatile);
  EXPECT_EQ(builtin_volatility("pg_backup_start"), Volatility::Volatile);  // new name in 15
  EXPECT_EQ(builtin_volatility("to_char"), Volatility::Stable);            // stable overloads win
  EXPECT_FALSE(builtin_volatility("pg_start_backup"));                     // removed in 15
  EXPECT_FALSE(builtin_volatility("no_such_function"));
  EXPECT_FALSE(builtin_volatility(""));
  EXPECT_EQ(builtin_volatility("RI_FKey_check_ins"), Volatility::Volatile);  // first entry
  EXPECT_TRUE(builtin_volatility("zstd_is_not_here") == std::nullopt);
}

TEST(BuiltinFunctions, EveryCuratedWriterIsARealBuiltin) {
  auto writers = builtin_writers();
  EXPECT_GE(writers.size(), 60u);
  EXPECT_TRUE(std::is_sorted(writers.begin(), writers.end()));
  for (std::string_view w : writers) {
    EXPECT_TRUE(builtin_volatility(w).has_value()) << w << " is not in pg_catalog";
    EXPECT_TRUE(is_builtin_writer(w)) << w;
  }
}

TEST(BuiltinFunctions, HarmlessVolatileFunctionsAreNotWriters) {
  for (const char* f : {"random", "clock_timestamp", "pg_sleep", "gen_random_uuid", "timeofday", "lo_get",
                        "pg_current_xact_id_if_assigned", "set_config", "currtid2", "pg_is_in_recovery"}) {
    EXPECT_FALSE(is_builtin_writer(f)) << f;
  }
  for (const char* f : {"nextval", "setval", "txid_current", "pg_advisory_xact_lock", "lo_unlink", "pg_notify"}) {
    EXPECT_TRUE(is_builtin_writer(f)) << f;
  }
}

}  // namespace
}  // namespace pgopt::sql::detail
