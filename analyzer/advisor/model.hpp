// The advisor's working types: an index definition (existing or hypothetical) and a query group
// reduced to what index selection needs (per-table accesses with sample constants, writes).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/advisor/catalog.hpp"
#include "analyzer/workload.hpp"
#include "sql/extract.hpp"

namespace pgopt::analyzer::advisor {

// Double-quotes an identifier when PostgreSQL would need it ("(expr)" keys are returned as is).
std::string quote_ident(const std::string& s);

// True when index key `key` uses `column`: the column itself, or an expression key such as
// "(lower(email))" that reads it (an UPDATE of the column then changes the key).
bool key_uses(const std::string& key, const std::string& column);
// The column an expression key "(lower(email))" reads ("email"); `key` itself for a plain column.
std::string key_column(const std::string& key);

struct IndexSpec {
  std::string schema = "public";
  std::string table;
  std::vector<std::string> columns;
  std::vector<bool> descending;       // same length as columns
  std::vector<std::string> opclass;   // same length as columns; "" for the default
  std::vector<std::string> include;
  std::string where;                  // partial index predicate, SQL
  std::string method = "btree";
  // A partitioned table's leaf partitions (schema, table): PostgreSQL builds the index on each, so
  // HypoPG gets one hypothetical index per leaf and costs every partition at its own size.
  std::vector<std::pair<std::string, std::string>> leaves;

  std::string relation() const { return schema + "." + table; }
  // Identity for caches and de-duplication (name independent).
  std::string key() const;
  // "orders_customer_id_created_at_idx" (<= 63 bytes, as PostgreSQL would truncate).
  std::string suggested_name() const;
  // An empty name leaves naming to the server (the form HypoPG's hypopg_create_index takes).
  // `only`: ON ONLY the table (a partitioned table's own index, before its partitions' are attached).
  std::string ddl(const std::string& name, bool concurrently = true, bool only = false) const;
  // "(customer_id, created_at DESC) INCLUDE (total) WHERE status = 'new'"
  std::string describe() const;
};

// Rows x entry width at B-tree leaf fill, plus upper levels: what the index would really take
// (HypoPG's own estimate is deliberately 1.7-3x too high).
double estimate_index_bytes(const IndexSpec& index, const TableInfo& table, double partial_fraction);

struct PredicateModel {
  sql::Predicate pred;
  // The same literal in every sample (an application constant): a partial-index candidate.
  std::optional<std::string> constant;
  std::vector<std::string> sample_literals;  // first literal of each sample, for selectivity
  std::vector<std::vector<std::string>> sample_values;  // every literal of each sample (BETWEEN bounds)
  bool leading_wildcard = false;             // LIKE patterns seen in samples start with % or _
};

// The predicate as a partial-index WHERE clause ("status = 'pending'", "deleted_at IS NULL").
std::string partial_predicate_sql(const PredicateModel& p);

struct AccessModel {
  const TableInfo* table = nullptr;
  std::vector<PredicateModel> predicates;
  std::vector<sql::JoinKey> joins;
  std::vector<sql::SortKey> order_by;
  std::vector<std::string> group_by;
  bool has_limit = false;
  std::optional<int64_t> limit;
  std::vector<std::string> columns;
  bool all_columns = false;
  bool write_target = false;
};

struct WriteModel {
  const TableInfo* table = nullptr;
  sql::WriteKind kind = sql::WriteKind::Insert;
  std::vector<std::string> set_columns;
  double rows_per_call = 1;
};

struct QueryModel {
  const QueryGroup* group = nullptr;
  uint64_t fingerprint = 0;
  std::string command;
  double weight = 0;  // calls
  std::vector<AccessModel> accesses;
  std::vector<WriteModel> writes;
  std::vector<std::string> explain_samples;  // statements with real literals to EXPLAIN
  bool explainable = false;                  // a single SELECT/INSERT/UPDATE/DELETE
  // The schemas the logged session resolved unqualified names through (empty: the analyzer's own
  // connection's): what-if EXPLAINs must see the same tables.
  std::vector<std::string> search_path;
  std::vector<std::string> unknown_tables;   // referenced but not in the catalog

  bool touches(const std::string& relation) const;
};

struct ModelBuild {
  std::vector<QueryModel> queries;
  uint64_t unparsable_groups = 0;
  uint64_t utility_groups = 0;
  // DML on no table of the catalog: SELECT 1, functions, system catalogs, unknown tables.
  uint64_t tableless_groups = 0;
  // Groups no index can matter for: SET/SHOW/BEGIN/COMMIT ..., table-less statements that only
  // change session state (a pooler's or driver's `SELECT pg_catalog.set_config($1, $2, $3)`), and
  // pgopt analyze's own statements (kOwnStatementTag) read back from a log or pg_stat_statements.
  std::set<uint64_t> utility;
  std::vector<std::string> unknown_tables;
  // Unlogged and temporary tables the workload names: "schema.name" -> why no advice.
  std::map<std::string, std::string> skipped_tables;
  // Groups that read or write a skipped table: fingerprint -> "schema.name".
  std::map<uint64_t, std::string> skipped_groups;
};

// True when `index` can change the plan of `q`: its leading key is one of the columns q reads from
// its table (a condition, join key, ORDER BY/GROUP BY, or a min()/max()), or q reads nothing from
// the table the index does not hold (a full index-only scan); a partial index also needs a condition
// on a column of its WHERE. Any other index leaves q's plan and cost as they are.
bool can_serve(const IndexSpec& index, const QueryModel& q);

// Parses each group's normalized text for structure and its samples for constants.
ModelBuild build_models(const Workload& workload, const Catalog& catalog, size_t max_explain_samples = 3);

}  // namespace pgopt::analyzer::advisor
