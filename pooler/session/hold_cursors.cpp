// The WITH HOLD cursors a client has open in transaction mode (see hold_cursors.hpp).
#include "pooler/session/hold_cursors.hpp"

#include <algorithm>

#include "sql/cursor_commands.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::pooler::session {

void HoldCursors::on_statement(std::string_view sql) { on_statement(sql, sql::analyze(sql)); }

void HoldCursors::on_statement(std::string_view sql, const sql::StatementInfo& info) {
  if (!info.may(sql::Mark::CursorCommand)) return;
  for (auto& c : sql::cursor_commands(sql)) {
    switch (c.kind) {
      case sql::CursorCommand::Kind::DeclareHold:
        declared_.push_back(std::move(c.name));
        break;
      case sql::CursorCommand::Kind::Close:
        close(c.name);
        break;
      case sql::CursorCommand::Kind::CloseAll:
        open_.clear();
        declared_.clear();
        break;
    }
  }
}

void HoldCursors::on_transaction_end(bool committed) {
  if (committed) open_.insert(open_.end(), declared_.begin(), declared_.end());
  declared_.clear();
}

void HoldCursors::close(std::string_view name) {
  std::erase(open_, name);
  std::erase(declared_, name);
}

}  // namespace pgopt::pooler::session
