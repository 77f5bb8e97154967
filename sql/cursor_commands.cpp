// Cursor commands that outlive a transaction (DECLARE ... WITH HOLD, CLOSE, DISCARD ALL).
#include "sql/cursor_commands.hpp"

#include "sql/deep_stack.hpp"
#include "sql/parse_tree.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::sql {
namespace {

constexpr int kCursorOptHold = 0x0020;  // CURSOR_OPT_HOLD in PostgreSQL's parsenodes.h

}  // namespace

bool may_have_cursor_commands(std::string_view sql) { return analyze(sql).may(Mark::CursorCommand); }

namespace {

std::vector<CursorCommand> parse_commands(std::string_view sql) {
  std::vector<CursorCommand> out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) return out;
  for (size_t i = 0; i < tree.statement_count(); ++i) {
    const PgQuery__Node* n = tree.statement(i)->stmt;
    if (!n) continue;
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
        if (n->declare_cursor_stmt->options & kCursorOptHold)
          out.push_back({CursorCommand::Kind::DeclareHold, n->declare_cursor_stmt->portalname});
        break;
      case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT: {
        const char* name = n->close_portal_stmt->portalname;
        if (name && *name)
          out.push_back({CursorCommand::Kind::Close, name});
        else
          out.push_back({CursorCommand::Kind::CloseAll, {}});
        break;
      }
      case PG_QUERY__NODE__NODE_DISCARD_STMT:
        if (n->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL)
          out.push_back({CursorCommand::Kind::CloseAll, {}});
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace

// Long statements parse on a big stack (deep_stack.hpp); beyond what is analysed at all, none found.
std::vector<CursorCommand> cursor_commands(std::string_view sql) {
  auto r = detail::call_with_stack_for(sql.size(), [&] { return parse_commands(sql); });
  return r ? std::move(*r) : std::vector<CursorCommand>{};
}

}  // namespace pgopt::sql
