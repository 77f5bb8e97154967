// The statements that build a recommended index, under a name no existing index has.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "analyzer/advisor/catalog.hpp"
#include "analyzer/advisor/model.hpp"

namespace pgopt::analyzer::advisor {

// `base`, or base with a number before "_idx", so that "schema.name" is not in `taken` (within
// PostgreSQL's 63 bytes); the result is added to `taken`.
std::string unique_index_name(const std::string& base, const std::string& schema, std::set<std::string>& taken);

// CREATE INDEX CONCURRENTLY on a plain table. PostgreSQL refuses CONCURRENTLY on a partitioned
// table, and a plain CREATE INDEX there locks every partition against writes for the whole build:
// instead CREATE INDEX ... ON ONLY the parent (instant, invalid until complete), each partition's
// own index CONCURRENTLY (or an equal existing one reused), then ALTER INDEX ... ATTACH PARTITION;
// recursively for sub-partitioned partitions. The parent's index turns valid with the last attach.
// A table others inherit from (INHERITS): its index, then one CONCURRENTLY on each descendant
// (an equal existing one skips it), since an index never covers another table.
// Each statement without its ';'. The partitions' index names are added to `taken`.
// A non-empty `prefix` (--verify's trial builds) leads every partition's index name, and no existing
// partition index is attached: dropping the trial parent index then drops only what was built.
std::vector<std::string> index_build_statements(const IndexSpec& index, const std::string& name, const Catalog& catalog,
                                                std::set<std::string>& taken, const std::string& prefix = "");

// `prefix` + `base`, cut to PostgreSQL's 63 bytes keeping base's "_idx" ending.
std::string prefixed_index_name(const std::string& prefix, const std::string& base);

}  // namespace pgopt::analyzer::advisor
