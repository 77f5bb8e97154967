// What a server sends before it answers, judged by position and content alone
// (pooler/session/early_replies.hpp): PostgreSQL 15's idle-time messages are nobody's, a request's
// own notices and setting reports stay its own.
#include <gtest/gtest.h>

#include <string>

#include "pooler/protocol/codec.hpp"
#include "pooler/session/early_replies.hpp"

namespace pgopt::pooler::session {
namespace {

namespace proto = pgopt::protocol;

// The type byte and body of the one message `bytes` holds.
Early judge(const std::string& bytes, const TxTracker& tx) {
  auto body = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()).subspan(5);
  return judge_early(bytes[0], body, tx);
}

sql::GucChange change(sql::GucChange::Kind kind, std::string name) {
  sql::GucChange g;
  g.kind = kind;
  g.name = std::move(name);
  return g;
}

TEST(EarlyReplies, NotificationsAreNobodys) {
  TxTracker tx;
  std::string m;
  proto::notification_response(m, 42, "chan", "payload");
  EXPECT_EQ(judge(m, tx), Early::Nobodys);
}

TEST(EarlyReplies, AFatalIsTheServerLeavingAnErrorIsTheReply) {
  TxTracker tx;
  std::string fatal, panic, error;
  proto::error_response(fatal, "FATAL", "57P05", "terminating connection due to idle-session timeout");
  proto::error_response(panic, "PANIC", "XX000", "boom");
  proto::error_response(error, "ERROR", "42601", "syntax error");
  EXPECT_EQ(judge(fatal, tx), Early::ServerLeaving);
  EXPECT_EQ(judge(panic, tx), Early::ServerLeaving);
  EXPECT_EQ(judge(error, tx), Early::Reply);
}

TEST(EarlyReplies, OnlyClass57NoticesAreDyingWords) {
  TxTracker tx;
  std::string crash, immediate, own, truncated;
  proto::warning_response(crash, "57P02", "terminating connection because of crash of another server process");
  proto::warning_response(immediate, "57P01", "terminating connection due to immediate shutdown command");
  proto::notice_response(own, "00000", "table \"t\" does not exist, skipping");
  proto::notice_response(truncated, "42622", "identifier will be truncated");
  EXPECT_EQ(judge(crash, tx), Early::DyingWords);
  EXPECT_EQ(judge(immediate, tx), Early::DyingWords);
  EXPECT_EQ(judge(own, tx), Early::ClientsOwn);
  EXPECT_EQ(judge(truncated, tx), Early::ClientsOwn);
}

TEST(EarlyReplies, AParameterStatusIsTheServersUnlessTheRequestChangesThatSetting) {
  std::string tz;
  proto::parameter_status(tz, "TimeZone", "Europe/Paris");
  TxTracker idle;
  idle.start();
  EXPECT_EQ(judge(tz, idle), Early::ServerSetting);

  TxTracker sets;  // SET timezone ...: PostgreSQL 13 and older report it before CommandComplete
  sets.start();
  sets.defer(change(sql::GucChange::Kind::Set, "timezone"));
  EXPECT_EQ(judge(tz, sets), Early::ClientsOwn);

  TxTracker other;
  other.start();
  other.defer(change(sql::GucChange::Kind::Set, "search_path"));
  EXPECT_EQ(judge(tz, other), Early::ServerSetting);

  TxTracker reset_all;
  reset_all.start();
  reset_all.defer(change(sql::GucChange::Kind::ResetAll, ""));
  EXPECT_EQ(judge(tz, reset_all), Early::ClientsOwn);

  TxTracker discard;
  discard.start();
  discard.defer_discard_all();
  EXPECT_EQ(judge(tz, discard), Early::ClientsOwn);
}

TEST(EarlyReplies, ReplyMessagesBeginTheAnswer) {
  TxTracker tx;
  std::string cc, rd, rfq;
  proto::command_complete(cc, "SELECT 1");
  proto::row_description(rd, {"x"});
  proto::ready_for_query(rfq, 'I');
  EXPECT_EQ(judge(cc, tx), Early::Reply);
  EXPECT_EQ(judge(rd, tx), Early::Reply);
  EXPECT_EQ(judge(rfq, tx), Early::Reply);
}

TEST(EarlyReplies, EachAttachmentAwaitsItsAnswerAgain) {
  TxTracker tx;
  tx.start();
  EXPECT_EQ(tx.answer(), TxTracker::Answer::Awaited);
  tx.on_answer();
  EXPECT_EQ(tx.answer(), TxTracker::Answer::Begun);
  tx.forget_requests();  // a retry on another server goes through start() again
  EXPECT_EQ(tx.answer(), TxTracker::Answer::Begun);
  tx.start();
  EXPECT_EQ(tx.answer(), TxTracker::Answer::Awaited);
}

}  // namespace
}  // namespace pgopt::pooler::session
