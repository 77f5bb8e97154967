// The database as the advisor sees it: tables, column statistics, existing indexes and write counts,
// loaded from a live server (libpq) or from a schema file (no statistics).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/extract.hpp"

typedef struct pg_conn PGconn;

namespace pgopt::analyzer::advisor {

struct ColumnInfo {
  std::string name;
  std::string type;
  bool not_null = false;
  // A collation that sorts bytewise (C, POSIX): a plain B-tree serves LIKE 'prefix%' on it.
  bool bytewise_collation = false;
  bool has_stats = false;  // pg_stats row present
  double avg_width = 8;    // bytes
  double n_distinct = 0;   // pg_stats semantics: > 0 a count, < 0 minus a fraction of rows, 0 unknown
  double null_frac = 0;
  double correlation = 0;
  std::vector<std::string> mcv;  // most common values, as text
  std::vector<double> mcf;       // their frequencies
  std::vector<std::string> histogram;  // histogram bounds, as text (used for time spans)
};

struct IndexInfo {
  std::string name;      // unqualified
  std::string schema;
  std::vector<std::string> columns;  // key columns; expressions as "(expr)"
  std::vector<bool> descending;
  std::vector<std::string> include;
  std::string where;     // partial predicate as SQL, empty when none
  std::string method = "btree";
  bool unique = false;
  bool primary = false;
  bool constraint = false;  // backs a PRIMARY KEY / UNIQUE / EXCLUDE constraint
  bool valid = true;
  // A partition's index attached to its parent's partitioned index: PostgreSQL refuses to drop it
  // on its own, and it cannot be attached to another.
  bool attached = false;
  double size_bytes = 0;
  long long idx_scan = -1;  // -1: unknown (no statistics)
  std::string definition;   // pg_get_indexdef or the DDL we built
};

struct TableInfo {
  std::string schema = "public";
  std::string name;
  double reltuples = -1;  // -1: never analysed / unknown
  double relpages = 0;
  double total_bytes = 0;
  std::vector<ColumnInfo> columns;
  std::vector<IndexInfo> indexes;
  // pg_stat_user_tables counters since the last statistics reset (-1: unknown)
  double n_tup_ins = -1, n_tup_upd = -1, n_tup_hot_upd = -1, n_tup_del = -1;
  std::string partition_by;  // non-empty for partitioned tables
  bool is_partition = false;
  // Declarative partitioning: a partitioned table's direct partitions and a partition's parent,
  // qualified as qualified() spells them (Catalog::find takes them).
  std::vector<std::string> partitions;
  std::string parent;
  // Legacy inheritance (CREATE TABLE ... INHERITS): the tables inheriting from this one. A
  // statement on this table reads them too, but an index here does not cover them.
  std::vector<std::string> inheritors;

  std::string qualified() const { return schema + "." + name; }
  const ColumnInfo* column(std::string_view name) const;
  // Rows to assume when statistics are missing: the planner's own guess is similar (10 pages).
  double rows() const;
  double pages() const;
};

// A (non-materialized) view: a query over base tables the planner inlines where a statement names it.
struct ViewInfo {
  std::string schema, name;
  std::string definition;  // SELECT ..., every name schema-qualified, no trailing ';'
};

// A table the advisor leaves out on purpose, with the reason the report gives.
struct SkippedTable {
  std::string schema, name;
  std::string reason;
};

struct Catalog {
  std::vector<TableInfo> tables;  // tables, partitioned tables and materialized views
  std::vector<ViewInfo> views;
  // Unlogged and temporary tables: not in `tables` (no candidate, no costing), named in the report.
  std::vector<SkippedTable> skipped;
  bool has_statistics = false;   // pg_stats / reltuples available
  std::string source;            // "database" or "schema file"
  std::optional<std::string> stats_reset;  // when index usage counters started counting
  bool stats_since_start = false;          // never reset: counting since the server started
  std::optional<double> stats_age_days;
  std::vector<std::string> search_path = {"public"};
  // search_path settings as written ("\"$user\", public"): per role (ALTER ROLE ... [IN DATABASE
  // this one] SET search_path), and what a role without one starts with (the database's setting or
  // the server's). Empty default: use `search_path` (a schema file).
  std::map<std::string, std::string> role_search_path;
  std::string default_search_path;

  // The schemas an unqualified name of a session of `role` resolves through ($user expanded);
  // `search_path` for an unknown role ("").
  std::vector<std::string> search_path_for(const std::string& role) const;
  // The schemas of a search_path `setting` a session of `role` SET itself ($user expanded).
  static std::vector<std::string> search_path_of(const std::string& setting, const std::string& role);

  // "orders" or "sales.orders" (as extracted) -> table; unqualified names follow `path`
  // (search_path when none is given).
  const TableInfo* find(std::string_view relation, const std::vector<std::string>* path = nullptr) const;
  TableInfo* find(std::string_view relation);
  const SkippedTable* find_skipped(std::string_view relation, const std::vector<std::string>* path = nullptr) const;
  const ViewInfo* find_view(std::string_view relation, const std::vector<std::string>* path = nullptr) const;
  // The leaf partitions under a partitioned table, at any depth; empty for any other table.
  std::vector<const TableInfo*> leaves(const TableInfo& table) const;
  // The table and every table inheriting from it (INHERITS), at any depth; just the table itself
  // when none does.
  std::vector<const TableInfo*> inheritance_tree(const TableInfo& table) const;
};

// Why unlogged and temporary tables get no advice (the report's wording, shared by --db and --schema).
extern const char* const kUnloggedReason;
extern const char* const kTemporaryReason;

// Builds a catalog from parsed DDL; with no statistics every table gets the planner's defaults.
// PARTITION OF and INHERITS link the tables as the database's pg_inherits would (a partition's
// columns are its parent's); unlogged and temporary tables go to `skipped`.
Catalog catalog_from_schema(const sql::SchemaDefinition& schema);

struct CatalogLoad {
  Catalog catalog;
  std::string error;  // empty on success
};
// Reads user tables, pg_stats, indexes and usage counters over an open connection.
CatalogLoad load_catalog(PGconn* conn);

}  // namespace pgopt::analyzer::advisor
