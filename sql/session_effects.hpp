// What a statement does to session state, so a transaction pooler can keep that state per client.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgopt::sql {

// A session-level GUC change (SET LOCAL and SET TRANSACTION are transaction-scoped and not listed).
struct GucChange {
  enum class Kind { Set, Reset, ResetAll };
  Kind kind = Kind::Set;
  std::string name;        // lower-case GUC name ("search_path", "role", "session_authorization")
  std::string replay_sql;  // for Set: a statement that re-applies it on another connection
  // For a Set of search_path only: the new setting in the server's own syntax (SET's names each
  // double-quoted, as the server quotes them; set_config's value as given), so the analyzer can
  // resolve a session's later unqualified names the way the server did.
  std::string search_path;
};

struct SessionEffects {
  std::vector<GucChange> gucs;  // in statement order
  // State the pooler cannot carry to another server (LISTEN, session advisory locks, temporary
  // objects, WITH HOLD cursors, SQL PREPARE, LOAD, set_config with non-constant arguments ...):
  // the server connection must be reset before anyone else uses it.
  bool dirty = false;
  std::vector<std::string> dirty_reasons;
  bool discard_all = false;  // DISCARD ALL: the client's whole session state is back to defaults
  // Effects the text cannot show: a call of a function that is not a pg_catalog built-in, DO,
  // CALL, EXECUTE, set_config whose arguments are known only when it runs. What such a statement
  // did to the session must be asked of the server (the pooler's session check) before the
  // connection serves anyone else.
  std::vector<std::string> unknown_reasons;
  // Creates code that later statements may run without naming it (a function or procedure, a
  // trigger, a rule, an event trigger): from now on writes may run it too.
  bool defines_code = false;
  bool parse_failed = false;
  bool unknown() const { return !unknown_reasons.empty(); }
  bool any() const { return !gucs.empty() || dirty || discard_all || unknown() || defines_code; }
};

// Statements longer than this are not analysed at all, by the parser or by the lexical tests below
// (a 50 MB statement must not cost a worker thread more than a short one): they are reported as
// having unknown effects and as possibly writing, so the pooler asks the server afterwards.
size_t max_analyzed_length();

// Cheap lexical test run on every statement: false means the statement certainly has no session
// effects (none of SessionEffects' fields would be set), so the hot path skips the parser. May say
// true for statements that have none.
bool may_have_session_effects(std::string_view sql);

// Names of custom settings (`x.y`) the text may set: after `set_config(` and a quote (also a doubled
// one, inside a DO body or a function's source), or after a SET [SESSION] word, wherever they
// stand, strings and comments included. For the pooler's session check, which must name a custom
// setting to read it; a false find costs nothing there.
std::vector<std::string> custom_setting_names(std::string_view sql);

// Cheap lexical test: false means the statement certainly writes no table (no INSERT, UPDATE,
// DELETE, MERGE, COPY or TRUNCATE word outside comments), so no trigger, rule or column default
// of the database can run because of it. May say true for statements that write nothing.
bool may_write_tables(std::string_view sql);

// Full answer from the parse tree; handles multi-statement strings. A statement that does not parse
// is reported with parse_failed and nothing else (the server will reject it too).
SessionEffects session_effects(std::string_view sql);

}  // namespace pgopt::sql
