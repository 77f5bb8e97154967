// Cursor commands that outlive a transaction (DECLARE ... WITH HOLD, CLOSE, DISCARD ALL), so a
// transaction pooler can keep a client on its server while it has such a cursor open.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgopt::sql {

struct CursorCommand {
  enum class Kind {
    DeclareHold,  // DECLARE name ... WITH HOLD: the cursor outlives its transaction if it commits
    Close,        // CLOSE name
    CloseAll,     // CLOSE ALL, DISCARD ALL
  };
  Kind kind = Kind::Close;
  std::string name;  // as PostgreSQL folds it; empty for CloseAll
};

// Cheap lexical gate for the hot path: false means `sql` certainly holds none of these (it looks for
// the words hold, close and discard).
bool may_have_cursor_commands(std::string_view sql);

// From PostgreSQL's grammar, in statement order; nothing for a string that does not parse.
std::vector<CursorCommand> cursor_commands(std::string_view sql);

}  // namespace pgopt::sql
