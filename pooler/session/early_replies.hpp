// What a server sends after it was attached and before it has begun answering: in transaction
// mode the server sat in the pool just before, and some of these messages were sent while it idled
// there, for nobody. Socket-free: the relay's judge (client_replies.cpp) asks per message.
#pragma once

#include <cstdint>
#include <span>

#include "pooler/session/tx_tracker.hpp"

namespace pgopt::pooler::session {

// Why position decides (PostgreSQL 15, src/backend/tcop/postgres.c): a backend sends on its own
// only while it waits for a command (PostgresMain's ReadCommand with DoingCommandRead set:
// ProcessClientReadInterrupt -> ProcessNotifyInterrupt(true) sends NotificationResponse, and
// CHECK_FOR_INTERRUPTS -> ProcessInterrupts sends the FATAL of pg_terminate_backend 57P01,
// idle_session_timeout 57P05 or a recovery conflict, then exits), or from quickdie() at any time
// (SIGQUIT: a WARNING_CLIENT_ONLY NoticeResponse, 57P02 crash of another process or 57P01
// immediate shutdown, then exit). A SIGHUP is applied only after the next command was read
// (step 6, ProcessConfigFile) and its ParameterStatus goes out with that command's ReadyForQuery
// (ReportChangedGUCOptions); notifications that come during a command are sent just before its
// ReadyForQuery, after its results. So, before the first reply message of an attachment's first
// request (a RowDescription, CommandComplete, ErrorResponse, ParseComplete, ... anything but the
// three asynchronous types):
//   NotificationResponse       was sent while the server idled: nobody's, dropped. (A transaction-
//                              mode client's LISTEN resets the server before reuse.)
//   ErrorResponse FATAL/PANIC  the server is going away; whether it had read the request first
//                              cannot be told, so the request goes as on any server lost before
//                              its reply (retried only when the batch is retriable).
//   NoticeResponse, class 57   the server's dying words (quickdie); dropped, the close follows.
//   other NoticeResponse       the request's own (DROP ... IF EXISTS, RAISE NOTICE in DO or CALL
//                              and "there is no transaction in progress" all come before their
//                              CommandComplete): forwarded. PostgreSQL sends no other notice
//                              while idle; one that did could not be told from these by position.
//   ParameterStatus            the server's own change (PostgreSQL 13 and older report a SIGHUP
//                              at once, after reading the command) unless the request sets or
//                              resets that setting (those versions also report a SET at once):
//                              the server's settings learn it, the client's stay the client's.
enum class Early : uint8_t {
  Reply,          // the answer has begun: from here on everything is the client's
  Nobodys,        // drop
  DyingWords,     // drop; the server closes next
  ServerSetting,  // a ParameterStatus for the server's settings only
  ServerLeaving,  // a FATAL: the server is gone for this request
  ClientsOwn,     // forwarded as usual; the answer has not begun yet
};
Early judge_early(char type, std::span<const uint8_t> body, const TxTracker& tx);

}  // namespace pgopt::pooler::session
