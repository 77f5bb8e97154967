// Partitioning advice for large tables: RANGE on a time column most statements filter by range,
// LIST/HASH on a tenant column nearly every statement pins by equality.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/advisor/model.hpp"

namespace pgopt::analyzer::advisor {

struct PartitionAdvice {
  std::string relation;
  std::string column;
  std::string strategy;  // RANGE | LIST | HASH
  std::string interval;  // RANGE: "1 day" | "1 week" | "1 month" | "1 year"; HASH: "modulus 16"
  double table_bytes = 0;
  double statement_share = 0;  // of the table's statements (by calls) that filter on the column
  std::string reason;
  std::vector<std::pair<uint64_t, double>> pruned;  // fingerprint -> expected share of partitions skipped
  std::string ddl;                                  // a sketch to adapt, not to run as is
  std::vector<std::string> migration;
};

// Tables smaller than this are not worth the operational cost of partitioning.
inline constexpr double kPartitionMinBytes = 10.0 * 1024 * 1024 * 1024;

std::vector<PartitionAdvice> advise_partitioning(const std::vector<QueryModel>& queries, const Catalog& catalog,
                                                 double min_bytes = kPartitionMinBytes);

// Days since 1970-01-01 of an ISO date/timestamp's date part; nullopt when it is not one.
std::optional<double> iso_days(const std::string& text);

}  // namespace pgopt::analyzer::advisor
