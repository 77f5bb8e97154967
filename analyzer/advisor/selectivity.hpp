// Predicate selectivity from pg_stats (MCVs, histograms, n_distinct, null_frac), with the planner's
// defaults when statistics are missing.
#pragma once

#include <optional>
#include <string>

#include "analyzer/advisor/model.hpp"

namespace pgopt::analyzer::advisor {

// Distinct values of a column (from n_distinct; 200 when unknown, like the planner).
double distinct_values(const TableInfo& table, const ColumnInfo* column);
// Fraction of rows an equality with `literal` (SQL text; nullopt = unknown value) matches.
double eq_selectivity(const TableInfo& table, const ColumnInfo* column, const std::optional<std::string>& literal);
// Fraction of rows the predicate keeps, averaged over its sample literals when it has them.
double selectivity(const TableInfo& table, const PredicateModel& p);
// The literal without quotes and a trailing ::cast ("'2024-01-01'::date" -> "2024-01-01").
std::string literal_value(const std::string& literal);

}  // namespace pgopt::analyzer::advisor
