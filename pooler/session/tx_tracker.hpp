// Where one client's conversation with its server stands: requests not yet answered, the
// transaction status, and what the end of a transaction decides.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pooler/protocol/message_types.hpp"
#include "pooler/session/copy_syncs.hpp"
#include "pooler/session/hold_cursors.hpp"
#include "sql/session_effects.hpp"

namespace pgopt::pooler::session {

using protocol::TxStatus;

// Socket-free, like the codec: the relay feeds it, in stream order, every client message it
// forwards to the server and every server reply, also those it hides from the client. Its rules
// are PostgreSQL's:
//  - A Query, a FunctionCall and a Sync are each answered by one ReadyForQuery ("outstanding"
//    until then). The other extended-protocol messages (Parse, Bind, Describe, Execute, Close,
//    Flush) are "unsynced" until the next Sync and owe nothing on their own.
//  - A Sync sent while a COPY FROM STDIN runs is ignored by the server, and so are the Syncs sent
//    before its CopyInResponse came (CopySyncs): they owe nothing.
//  - A BEGIN the pooler sends ahead of a client's statement (a bare BEGIN it answered itself,
//    client_split.cpp) is "hidden": every reply up to and including its ReadyForQuery is the
//    pooler's, not the client's. It goes first, so its replies come first; it is no request of the
//    client's and stays out of CopySyncs.
//  - Settings changed by SET / RESET / DISCARD ALL inside a transaction take effect only if it
//    commits: they are deferred to ReadyForQuery 'I' and handed over with the transaction's end. A
//    transaction that saw an ErrorResponse or a ROLLBACK ended without committing.
//  - The server may go back to the pool (releasable) only when nothing is outstanding or
//    unsynced, the status is Idle, no COPY FROM STDIN waits for the client's data and no WITH HOLD
//    cursor is open.
//  - Until the first reply message of an attachment (anything but NoticeResponse, ParameterStatus
//    and NotificationResponse) the server has not begun answering (Answer::Awaited): what it sends
//    then may have been sent while it idled in the pool (early_replies.hpp).
class TxTracker {
 public:
  enum class End { Open, Committed, Failed };
  // Whether the attached server has begun answering (see the rules above).
  enum class Answer : uint8_t { Awaited, Begun };
  // What a ReadyForQuery decided. `settings`/`discard_all`: what the transaction deferred, handed
  // over when it ended (End::Committed: apply them; End::Failed: they may or may not stand).
  struct Ready {
    End end = End::Open;
    std::vector<sql::GucChange> settings;
    bool discard_all = false;
  };

  // Attached to a server: nothing owed, not in a transaction. Deferred settings and hold cursors
  // stay: they are the client's session, not this server's.
  void start();
  // The requests will never be answered (the batch did not go, the server is gone).
  void forget_requests();

  // ---- client -> server
  // A client message on its way to the server. False: a Sync the server will ignore.
  bool on_client(char type);
  // The text of a statement it runs (WITH HOLD cursors are declared and closed by statements).
  void on_statement(std::string_view sql) { hold_cursors_.on_statement(sql); }
  void on_statement(std::string_view sql, const sql::StatementInfo& info) { hold_cursors_.on_statement(sql, info); }
  void defer(sql::GucChange g) { deferred_.push_back(std::move(g)); }
  void defer_discard_all() { discard_all_ = true; }
  void send_hidden_begin();

  // ---- server -> client
  bool hiding() const { return hidden_ > 0; }  // the next replies are a hidden BEGIN's
  Ready on_ready(TxStatus status);
  // CopyInResponse: the Syncs that now owe nothing (the prepared-statement tracker is told too).
  int on_copy_in();
  void on_error() { failed_ = true; }
  void on_command_complete(std::span<const uint8_t> tag);
  void on_answer() { answer_ = Answer::Begun; }
  Answer answer() const { return answer_; }
  // Whether a request not yet answered sets or resets setting `name` (any case), RESET ALL and
  // DISCARD ALL included: a ParameterStatus of it may be that request's own report.
  bool defers_setting(std::string_view name) const;

  TxStatus status() const { return status_; }
  int outstanding() const { return outstanding_; }
  int unsynced() const { return unsynced_; }
  bool busy() const { return outstanding_ > 0 || unsynced_ > 0; }  // the server owes or awaits something
  bool releasable() const {
    return !busy() && status_ == TxStatus::Idle && !copy_syncs_.copy_in_open() && !hold_cursors_.any();
  }
  bool copy_in_open() const { return copy_syncs_.copy_in_open(); }
  bool holds_cursors() const { return hold_cursors_.any(); }

 private:
  int outstanding_ = 0;  // Queries, FunctionCalls and Syncs sent whose ReadyForQuery has not come
  int unsynced_ = 0;     // extended-protocol messages since the last Sync
  int hidden_ = 0;       // of outstanding_: hidden BEGINs
  TxStatus status_ = TxStatus::Idle;
  Answer answer_ = Answer::Awaited;
  bool failed_ = false;       // an ErrorResponse or ROLLBACK since the transaction began
  bool discard_all_ = false;  // DISCARD ALL, deferred
  std::vector<sql::GucChange> deferred_;
  CopySyncs copy_syncs_;
  HoldCursors hold_cursors_;
};

}  // namespace pgopt::pooler::session
