// Candidate indexes per query access (composite B-trees, their prefixes, covering and partial
// variants) and the accesses no B-tree can serve.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "analyzer/advisor/model.hpp"

namespace pgopt::analyzer::advisor {

struct Candidate {
  IndexSpec index;
  const TableInfo* table = nullptr;
  double size_bytes = 0;
  double partial_fraction = 1;          // share of the table's rows the index holds
  std::vector<std::string> reasons;     // why each column is there, in column order, then extras
  std::set<uint64_t> sources;           // fingerprints that produced it
};

struct Unserved {
  uint64_t fingerprint = 0;
  std::string relation;
  std::string column;
  std::string why;
  std::string suggestion;
  // A GIN index that would serve it (trigram for LIKE '%x%' / ILIKE / regex, the default operator
  // class for jsonb and array containment), which HypoPG cannot cost: --verify measures it. No
  // columns when there is none.
  IndexSpec gin;
};

struct CandidateSet {
  std::vector<Candidate> candidates;
  std::vector<Unserved> unserved;
};

// Skips candidates an existing index already serves (its key columns are a prefix of an existing
// B-tree's, with no or the same WHERE).
CandidateSet generate_candidates(const std::vector<QueryModel>& queries, const Catalog& catalog);

// True when `existing` serves every lookup `c` could: same leading columns, or `existing` is unique
// and `c` starts with all of its columns (a point lookup either way).
bool served_by(const IndexSpec& c, const IndexInfo& existing);

}  // namespace pgopt::analyzer::advisor
