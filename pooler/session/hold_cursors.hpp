// The WITH HOLD cursors a client has open in transaction mode: while there is one, the client keeps
// its server (a hold cursor lives in that server's session), and lets it go once they are closed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgopt::sql {
class StatementInfo;
}

namespace pgopt::pooler::session {

// Socket-free: the relay feeds it each statement text sent to the server and each transaction end.
// Rules, as PostgreSQL's: DECLARE ... WITH HOLD opens a cursor that outlives its transaction only
// if that transaction commits; CLOSE name, CLOSE ALL and DISCARD ALL close them, whenever sent (a
// CLOSE that fails leaves the cursor to the server reset that the dirty server gets anyway).
class HoldCursors {
 public:
  void on_statement(std::string_view sql);
  // The same with the text's analysis (sql::analyze) already at hand: no scan of the text unless it
  // may hold a cursor command.
  void on_statement(std::string_view sql, const sql::StatementInfo& info);
  // ReadyForQuery 'I': the transaction that declared cursors committed, or not.
  void on_transaction_end(bool committed);
  bool any() const { return !open_.empty() || !declared_.empty(); }

 private:
  void close(std::string_view name);
  std::vector<std::string> open_;      // committed, still open
  std::vector<std::string> declared_;  // in the current transaction
};

}  // namespace pgopt::pooler::session
