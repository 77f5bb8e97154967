// What a statement may write, for the result cache's invalidation (issue 21,
// docs/result-cache.md): the tables by name, or "anything" when the text cannot tell.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sql/classify.hpp"

namespace pgopt::sql {

struct WrittenTables {
  // Tables (and sequences) the statements write, as written: "schema.name" or "name" (unquoted
  // names lower-cased by the parser). Sorted, unique.
  std::vector<std::string> tables;
  // The text may write tables it does not name: every cached entry must go when it commits.
  bool all = false;
  std::string reason;  // why `all` ("DDL: ALTER VIEW", "CALL", "calls unknown function app.f()")
  bool any() const { return all || !tables.empty(); }
};

// Over every statement of the string:
// - INSERT / UPDATE / DELETE / MERGE (also inside CTEs, at any depth), COPY FROM, TRUNCATE: their
//   target tables; SELECT INTO and CREATE TABLE AS: the new table (it may shadow another of that
//   name in search_path);
// - nextval() / setval() with a constant sequence name: that sequence;
// - `all`: DDL of any other kind (a view, a function, a privilege can change any answer), CALL, DO,
//   EXECUTE, COMMIT PREPARED (its writes are unknown here), calls of functions in write_functions,
//   and of user functions unless listed in read_only_functions or unknown_functions_are_reads
//   (the same rules as classify()); a string that does not parse or is too long to analyse.
// - nothing: reads, SET/SHOW, transaction control, LISTEN/NOTIFY, LOCK, VACUUM/ANALYZE/CLUSTER/
//   REINDEX (they do not change results), plain EXPLAIN.
// Writes made by triggers, rules, foreign-key actions and inside functions listed as read-only are
// not seen (docs/result-cache.md, "blind spots").
WrittenTables written_tables(std::string_view sql, const ClassifierOptions& options);

}  // namespace pgopt::sql
