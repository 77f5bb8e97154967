// Whether a statement's result may be served from the pooler's result cache (issue 21,
// docs/result-cache.md): provably the same answer for the same key until one of its tables is
// written, the tables it reads, and its `/* pgopt:cache ttl=5s */` hint.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::sql {

struct CacheabilityOptions {
  // User functions the operator vouches for: same arguments, same answer, no writes, for as long as
  // the tables the statement names do not change ("name" or "schema.name"; an unqualified entry
  // matches the name in any schema, a qualified one only that qualified call; case-insensitive).
  std::vector<std::string> stable_functions;
};

// A leading `/* pgopt:cache ttl=<duration> */` comment. Durations: an integer with ms, s, min or
// h (`5s`, `250ms`, `2min`, `1h`), at least 1 ms. A comment that says `pgopt:cache` with anything
// else is an error, so a mistyped hint is reported instead of silently not caching.
struct CacheHint {
  std::chrono::milliseconds ttl{0};
  std::string error;  // set when the hint is malformed; ttl is then 0
};

// Scans only the comments before the first token, as the routing hints do
// (pooler/routing/hints.hpp): nullopt when none of them is a `pgopt:cache` hint. Lexical, no
// parse, no allocation unless a hint is found.
std::optional<CacheHint> cache_hint(std::string_view sql);

struct Cacheability {
  bool cacheable = false;
  // Why not, for the first obstacle found ("calls volatile function random()", "SELECT ... FOR
  // UPDATE", "not a single statement"); empty when cacheable.
  std::string reason;
  // Every relation the statement names in a FROM clause (at any depth, CTE bodies and subqueries
  // included), as written: "schema.name" when qualified, else "name"; unquoted names lower-cased
  // by the parser, quoted ones as quoted. Sorted, unique. It may include the names of CTEs (a
  // reference to a CTE looks like a table reference): an extra name only costs an extra
  // invalidation, a missing one would serve stale data. Filled even when not cacheable.
  std::vector<std::string> tables;
  std::optional<CacheHint> hint;  // cache_hint(sql)
};

// Cacheable means all of:
// - the text parses and holds exactly one statement, a SELECT, VALUES or TABLE;
// - no SELECT INTO, no FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE, no data-modifying CTE;
// - no TABLESAMPLE without REPEATABLE (a different sample each run);
// - no CURRENT_DATE / CURRENT_TIME / CURRENT_TIMESTAMP / LOCALTIME / LOCALTIMESTAMP;
// - every function call is an immutable pg_catalog built-in, a stable built-in whose only outside
//   input is a setting in the cache key (to_char, date_trunc, format, to_json ...; the list is in
//   builtin_functions.cpp), or a name in `stable_functions`. So volatile built-ins (random(),
//   clock_timestamp(), nextval(), txid_current(), pg_advisory_lock(), set_config() ...), stable ones
//   that read the clock, the catalog or other settings (now(), current_setting(), age(x),
//   has_table_privilege() ...) and unlisted user functions are not cacheable;
// - no relation in pg_catalog, information_schema or pg_temp*, and no unqualified relation whose
//   name starts with `pg_` (system views such as pg_stat_activity change without any write).
// Not seen, as everywhere in sql/: what views, rules and functions do inside; see the blind spots in
// docs/result-cache.md. Statements over 256 KiB are not analysed (not cacheable).
Cacheability cacheability(std::string_view sql, const CacheabilityOptions& options);

}  // namespace pgopt::sql
