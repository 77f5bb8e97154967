// SQL-level prepared-statement commands (PREPARE, EXECUTE, DEALLOCATE) found in a query string, so a
// transaction pooler can keep them per client.
#pragma once

#include <cstddef>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "sql/parser.hpp"

namespace pgopt::sql {

struct PreparedCommand {
  enum class Kind {
    None,           // no such command in the string
    Prepare,        // PREPARE name [(types)] AS statement
    Execute,        // EXECUTE name [(args)]
    Deallocate,     // DEALLOCATE [PREPARE] name
    DeallocateAll,  // DEALLOCATE [PREPARE] ALL
    Mixed,          // one of them among other statements in a multi-statement string
  };
  Kind kind = Kind::None;
  std::string name;  // the statement name as PostgreSQL folds it (lower-cased unless quoted)
  // Byte range of the name in the string, so it can be replaced by another name.
  size_t name_begin = 0, name_end = 0;
};

// Cheap lexical gate for the hot path: false means the string is certainly none of these commands
// (it looks for the words prepare, execute and deallocate anywhere).
bool may_be_prepared_command(std::string_view sql);

// Full answer from PostgreSQL's grammar. A string that does not parse is Kind::None: the server
// will reject it too.
PreparedCommand prepared_command(std::string_view sql);

// The PREPARE, EXECUTE and DEALLOCATE statements anywhere in `sql`, names folded as PostgreSQL does, for a string that goes to the server as it is (several statements, or a
// protocol-level Parse): a pooler must not let them reach its own server-side names.
// Kind and name of each (no byte ranges); DEALLOCATE ALL is left out.
std::vector<PreparedCommand> prepared_commands_in(std::string_view sql);

// What PostgreSQL would say about preparing `sql` (a protocol Parse) before looking at any table: a
// syntax error, or more than one statement. nullopt when the grammar accepts it.
struct PrepareError {
  std::string sqlstate, message;
  int cursor = 0;  // 1-based character position, 0 when none
};
std::optional<PrepareError> check_preparable(std::string_view sql);

}  // namespace pgopt::sql
