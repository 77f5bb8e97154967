// Internal to sql/: what pgopt knows about PostgreSQL 15's built-in (pg_catalog) functions.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace pgopt::sql::detail {

enum class Volatility : char { Immutable = 'i', Stable = 's', Volatile = 'v' };

// Volatility of the most volatile overload of pg_catalog.<name>; nullopt when no such function
// exists. From builtin_functions.inc, generated from the real catalog by
// sql/scripts/gen_builtin_functions.sh.
std::optional<Volatility> builtin_volatility(std::string_view name);
size_t builtin_function_count();

// Hand-curated built-ins that must run on the primary: they write (nextval, lo_create, pg_notify,
// pg_switch_wal ...), take locks other sessions must see (the advisory lock family, also the _xact_
// variants), assign a transaction id (txid_current), read session state that only exists where the
// writes ran (currval, lastval), or run a query given as text (query_to_xml). Every other built-in,
// volatile or not (random, clock_timestamp, pg_sleep ...), counts as a read. set_config is not
// here: whether it matters depends on its is_local argument. Sorted bytewise.
bool is_builtin_writer(std::string_view name);
std::span<const std::string_view> builtin_writers();

// Stable built-ins whose only input beyond their arguments is a setting the result cache's key holds
// (DateStyle, TimeZone, IntervalStyle, extra_float_digits, lc_*, search_path): the same key gives
// the same answer, so a statement calling them may be cached (sql/cacheability.hpp). Every other
// stable built-in reads the clock (now), the catalog (has_table_privilege, to_regclass) or other
// settings (current_setting). Sorted bytewise.
bool is_key_stable_builtin(std::string_view name);
std::span<const std::string_view> key_stable_builtins();

}  // namespace pgopt::sql::detail
