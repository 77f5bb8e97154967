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
};

struct SessionEffects {
  std::vector<GucChange> gucs;  // in statement order
  // State the pooler cannot carry to another server (LISTEN, session advisory locks, temporary
  // objects, WITH HOLD cursors, SQL PREPARE, LOAD, set_config with non-constant arguments ...):
  // the server connection must be reset before anyone else uses it.
  bool dirty = false;
  std::vector<std::string> dirty_reasons;
  bool discard_all = false;  // DISCARD ALL: the client's whole session state is back to defaults
  bool parse_failed = false;
  bool any() const { return !gucs.empty() || dirty || discard_all; }
};

// Cheap lexical test run on every statement: false means the statement certainly has no session
// effects, so the hot path skips the parser. May say true for statements that have none.
bool may_have_session_effects(std::string_view sql);

// Full answer from the parse tree; handles multi-statement strings. A statement that does not parse
// is reported with parse_failed and nothing else (the server will reject it too).
SessionEffects session_effects(std::string_view sql);

}  // namespace pgopt::sql
