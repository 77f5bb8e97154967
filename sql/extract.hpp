// What a statement asks of each table (predicates, joins, ordering, columns read, writes) and what a
// schema file declares, in pgopt's own types, for the index and partitioning advisor.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/parser.hpp"

namespace pgopt::sql {

// How a predicate compares its column; decides whether and where a B-tree column can serve it.
enum class PredicateKind {
  Equal,      // col = v, col IS NOT DISTINCT FROM v
  In,         // col IN (...), col = ANY(...)
  Range,      // <, <=, >, >=, BETWEEN
  IsNull,
  IsNotNull,
  LikePrefix,  // LIKE 'abc%' (a B-tree with text_pattern_ops or C collation serves it)
  LikeInfix,   // LIKE '%abc', ILIKE, ~ ...: no B-tree serves it
  Like,        // LIKE $1: the pattern is unknown until a sample shows it
  BoolTrue,    // WHERE flag, flag IS TRUE, flag = true
  BoolFalse,   // WHERE NOT flag, flag IS FALSE, flag = false
  NotEqual,
  Other,       // anything else on the column (function of it, IS DISTINCT FROM, ...)
};
const char* to_string(PredicateKind kind);

// What the column is compared with.
enum class ValueKind { None, Literal, Parameter, Expression };

struct Predicate {
  std::string column;
  PredicateKind kind = PredicateKind::Other;
  std::string op;  // as written, upper-case keywords: "=", ">=", "BETWEEN", "IN", "LIKE", "IS NULL"
  ValueKind value = ValueKind::None;
  // The compared constants as SQL text ('pending', 42, '2024-01-01'::date), in order, when literal.
  std::vector<std::string> literals;
  bool lower_bound = false;  // Range: has a lower / upper bound
  bool upper_bound = false;
  bool under_or = false;     // part of an OR: not a conjunct an index condition can use alone
  // The predicate compares an expression of a column rather than the column itself: the expression
  // as SQL ("lower(email)", "date_trunc($1, created_at)"). When an expression index can serve it
  // (lower/upper of one column: IMMUTABLE), `column` is the index key "(lower(email))" and
  // `base_column` the column inside; otherwise `column` is the column, `kind` is Other and
  // `base_column` is empty.
  std::string expression;
  std::string base_column;
};

struct JoinKey {
  std::string column;
  std::string other_relation;
  std::string other_column;
};

struct SortKey {
  std::string column;
  bool descending = false;
  bool nulls_first = false;  // effective NULLS FIRST (default: DESC puts NULLs first)
};

// One occurrence of a base table in a statement (a self-join gives two).
struct TableAccess {
  std::string relation;  // as PostgreSQL names it: "orders", "sales.orders", "Bar.Foo" (was quoted)
  std::string alias;
  std::vector<Predicate> predicates;
  std::vector<JoinKey> joins;
  std::vector<SortKey> order_by;      // the query's ORDER BY when every key is a column of this table
  std::vector<std::string> group_by;  // GROUP BY columns of this table
  bool has_limit = false;
  std::optional<int64_t> limit;       // the LIMIT when it is a constant
  std::vector<std::string> columns;   // every column of this table the statement reads, sorted
  bool all_columns = false;           // SELECT * / t.*
  bool write_target = false;          // the table an UPDATE/DELETE scans for its rows
};

enum class WriteKind { Insert, Update, Delete, Copy };
const char* to_string(WriteKind kind);

struct TableWrite {
  std::string relation;
  WriteKind kind = WriteKind::Insert;
  std::vector<std::string> set_columns;  // UPDATE: the columns SET changes
  int64_t rows = 1;                      // INSERT ... VALUES: rows per statement; 0: unknown
};

struct Extraction {
  bool ok = false;
  ParseError error;
  std::string command;  // first statement's kind: SELECT, INSERT, UPDATE, DELETE, COPY, UTILITY
  std::vector<TableAccess> reads;
  std::vector<TableWrite> writes;
  std::vector<std::string> unresolved;  // unqualified columns no single table could claim
};

// Answers "does this relation have this column?" so unqualified columns of a join can be
// attributed; without it such columns are attributed only when one table is in scope.
using ColumnOwner = std::function<bool(std::string_view relation, std::string_view column)>;

// Handles multi-statement strings (accesses of all statements are listed). CTE names and
// subquery aliases are never reported as tables; their inner statements are analysed instead.
Extraction extract(std::string_view sql, const ColumnOwner& owner = {});

// ---- Schema files (CREATE TABLE / CREATE INDEX / ALTER TABLE ... ADD CONSTRAINT) ----

struct ColumnDefinition {
  std::string name;
  std::string type;  // lower-case type name as written ("integer", "character varying", "timestamptz")
  bool not_null = false;
};

struct IndexDefinition {
  std::string name;
  std::string relation;
  std::vector<std::string> columns;  // key columns; an expression key is "(expr)"
  std::vector<bool> descending;
  std::vector<std::string> include;
  std::string where;                 // partial index predicate as SQL, empty when none
  std::string method = "btree";
  bool unique = false;
  bool primary = false;
};

struct TableDefinition {
  std::string relation;  // schema-qualified as written, quoted identifiers kept as written
  std::vector<ColumnDefinition> columns;
  std::string partition_by;  // "RANGE (created_at)" when partitioned
  std::string partition_of;  // the parent of CREATE TABLE ... PARTITION OF parent, as written
  std::vector<std::string> inherits;  // the parents of CREATE TABLE ... INHERITS (a, b)
  // "unlogged" or "temporary"; empty for an ordinary table.
  std::string persistence;
};

struct SchemaDefinition {
  std::vector<TableDefinition> tables;
  std::vector<IndexDefinition> indexes;  // includes PRIMARY KEY / UNIQUE constraints
  std::vector<std::string> errors;       // "line N: message" for statements that do not parse
};

// Statements other than tables, indexes and constraints (functions, grants, COPY data ...) are
// skipped; psql meta-commands (lines starting with a backslash) are ignored.
SchemaDefinition parse_schema(std::string_view sql);

}  // namespace pgopt::sql
