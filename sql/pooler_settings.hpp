// SET / RESET / SHOW of the pooler's own parameters (pgopt.route ...), found with PostgreSQL's grammar
// so the pooler can answer them itself and never forward them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgopt::sql {

struct PoolerSettingCommand {
  enum class Kind {
    None,            // no statement of the string names a parameter with the prefix
    Set,             // SET [SESSION] name = / TO value [, ...]
    SetLocal,        // SET LOCAL name ...
    SetDefault,      // SET name TO DEFAULT
    Reset,           // RESET name
    SetFromCurrent,  // SET name FROM CURRENT (keeps the current value)
    Show,            // SHOW name
    NotAlone,        // such a statement among other statements in one string
  };
  Kind kind = Kind::None;
  std::string name;                 // lower-cased, as PostgreSQL compares GUC names: "pgopt.route"
  std::vector<std::string> values;  // Set/SetLocal: each value as text (literal, word or number)
};

// Cheap lexical gate for the hot path: false means the string certainly names no parameter with
// the prefix "pgopt" (it looks for the word anywhere, case-insensitively, and for U&"..." names).
bool may_name_pooler_setting(std::string_view sql);

// Full answer from the grammar. `prefix` is the parameter class ("pgopt."), compared
// case-insensitively. A string that does not parse is Kind::None: the primary will report it.
PoolerSettingCommand pooler_setting_command(std::string_view sql, std::string_view prefix = "pgopt.");

}  // namespace pgopt::sql
