// Asking a server what its session holds, after statements whose effects the text does not show.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/guc_state.hpp"

namespace pgopt::pooler {

// Socket-free: the relay runs session_check_sql() on the server (one round trip, simple protocol:
// the question, then RESET ALL) and hands the row to parse_session_facts(); carry_session() then
// decides. The rules:
//   - The server's settings are wiped (RESET ALL) whatever the answer: PostgreSQL lists custom
//     settings (app.tenant) nowhere, so a function may have left one the pooler cannot see, and
//     only a reset makes sure the next client does not. The next attach syncs its own settings.
//   - The client keeps what can be seen: every session-level setting in pg_settings (source
//     'session') and every custom setting whose name the pooler knows (from the client's own SETs,
//     from statement texts and bind values, from the bodies of the database's functions: see
//     custom_setting_names()) becomes a replayed setting of the client, as if it had SET it; a
//     setting the client had that the server no longer has is dropped.
//   - The role is carried the same way: current_user differing from session_user means a SET ROLE
//     is in force (however it was reached), replayed as SET ROLE for this client only.
//   - Reported settings (ParameterStatus: client_encoding, DateStyle, TimeZone ...) are left to
//     ParameterStatus, which tracks them already.
//   - Anything else cannot follow a client to another server and forces a reset (DISCARD ALL)
//     before the connection is reused: a session_user other than the pool's login user (SET
//     SESSION AUTHORIZATION), temporary objects, session advisory locks, LISTEN channels, open
//     (WITH HOLD) cursors, and more prepared statements than the pooler made there itself.
struct SessionFacts {
  std::string current_user, session_user;
  std::vector<std::pair<std::string, std::string>> settings;  // pg_settings name, setting
  // The custom settings asked for, in the order asked; nullopt or empty: not set.
  std::vector<std::pair<std::string, std::optional<std::string>>> customs;
  long prepared = 0;                                         // rows of pg_prepared_statements
  bool temp_objects = false, advisory_locks = false, listening = false, cursors = false;
};

// One row: current_user, session_user, names[], settings[], prepared count, four booleans, and the
// values of `custom_names` (names that are not plain dotted identifiers are left out); then RESET ALL.
std::string session_check_sql(const std::vector<std::string>& custom_names);
// nullopt when the row is not what session_check_sql() returns (the caller resets to be safe).
// `custom_names` as given to session_check_sql().
std::optional<SessionFacts> parse_session_facts(const std::vector<std::optional<std::string>>& row,
                                                const std::vector<std::string>& custom_names);
// Whether `name` can be a custom setting's name the check asks for: identifier.identifier[...],
// ASCII letters, digits, `_` and `$`, at most 127 bytes.
bool is_custom_setting_name(std::string_view name);

struct CarryResult {
  std::vector<std::string> carried;  // names of the client's settings that changed ("role" included)
  std::string reset_reason;          // empty: nothing left that needs a reset
};
// Makes `want` (the client's settings) match what the server's session holds, and says whether
// the server must be reset anyway. `login_user` is who the pool logs in as; `own_statements` is
// how many prepared statements the pooler itself made on this server.
CarryResult carry_session(const SessionFacts& facts, GucState& want, std::string_view login_user,
                          size_t own_statements);

// PostgreSQL's array output ({a,"b c",NULL}) as text values; nullopt if malformed. NULL elements
// come back as nullopt.
std::optional<std::vector<std::optional<std::string>>> parse_text_array(std::string_view text);

// Whether the database has code that statements can run without naming it, which decides what the
// relay can trust the text of a statement for (ClientSession::note_session_effects):
//   None        no user functions, no rules, no triggers: the text tells everything
//   Writes      user functions, triggers or rules exist: a write may run them (triggers, rules,
//               column defaults, check constraints)
//   Everything  a view calls a user function: a plain SELECT may run one too
// Extension members do not count (pg_stat_statements' view calls its own function).
enum class CodeReach : unsigned char { Unknown, None, Writes, Everything };
// Also lists the custom setting names the database's own functions set (set_config('x.y', ...),
// SET x.y in their bodies), for the session check: parse_code_reach_names().
const std::string& code_reach_sql();
CodeReach parse_code_reach(const std::vector<std::optional<std::string>>& row);
std::vector<std::string> parse_code_reach_names(const std::vector<std::optional<std::string>>& row);
std::string_view to_string(CodeReach r);

// SET ROLE with the name quoted as an identifier.
std::string set_role_sql(std::string_view role);

}  // namespace pgopt::pooler
