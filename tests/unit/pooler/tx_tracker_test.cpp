// What a client's requests owe and where its transaction stands, on message sequences alone: the
// cases the relay gets wrong if a count slips (a server kept forever, or handed on mid-transaction).
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "pooler/session/tx_tracker.hpp"

namespace pgopt::pooler::session {
namespace {

using End = TxTracker::End;

// Feeds client message types in order ("PBES" = Parse, Bind, Execute, Sync); false if any Sync was
// ignored.
bool send(TxTracker& t, std::string_view types) {
  bool all_answered = true;
  for (char c : types) all_answered &= t.on_client(c);
  return all_answered;
}

sql::GucChange set_guc(std::string name) {
  sql::GucChange g;
  g.name = std::move(name);
  g.replay_sql = "SET " + g.name + " = 1";
  return g;
}

std::span<const uint8_t> tag(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size() + 1}; }

TEST(TxTracker, ASimpleQueryOwesOneReadyForQuery) {
  TxTracker t;
  t.start();
  EXPECT_TRUE(t.releasable());
  send(t, "Q");
  EXPECT_TRUE(t.busy());
  EXPECT_FALSE(t.releasable());
  EXPECT_EQ(t.on_ready(TxStatus::Idle).end, End::Committed);
  EXPECT_TRUE(t.releasable());
}

TEST(TxTracker, ExtendedMessagesOweNothingUntilTheirSync) {
  TxTracker t;
  t.start();
  send(t, "PBDE");
  EXPECT_EQ(t.outstanding(), 0);
  EXPECT_EQ(t.unsynced(), 4);
  EXPECT_FALSE(t.releasable());  // the server waits for the rest of the group
  send(t, "S");
  EXPECT_EQ(t.outstanding(), 1);
  EXPECT_EQ(t.unsynced(), 0);
  t.on_ready(TxStatus::Idle);
  EXPECT_TRUE(t.releasable());
}

TEST(TxTracker, APipelineIsReleasableOnlyAfterItsLastReply) {
  TxTracker t;
  t.start();
  send(t, "PBESBESQ");
  EXPECT_EQ(t.outstanding(), 3);
  t.on_ready(TxStatus::Idle);
  t.on_ready(TxStatus::Idle);
  EXPECT_FALSE(t.releasable());
  t.on_ready(TxStatus::Idle);
  EXPECT_TRUE(t.releasable());
}

TEST(TxTracker, InsideATransactionTheServerStays) {
  TxTracker t;
  t.start();
  send(t, "Q");
  EXPECT_EQ(t.on_ready(TxStatus::InTransaction).end, End::Open);
  EXPECT_FALSE(t.busy());
  EXPECT_FALSE(t.releasable());
  send(t, "Q");
  t.on_error();
  EXPECT_EQ(t.on_ready(TxStatus::Failed).end, End::Open);
  send(t, "Q");
  t.on_command_complete(tag("ROLLBACK"));
  EXPECT_EQ(t.on_ready(TxStatus::Idle).end, End::Failed);
  EXPECT_TRUE(t.releasable());
}

TEST(TxTracker, ExtendedCopyFromStdinIgnoresTheSyncSentWithIt) {
  // libpq: Parse/Bind/Execute/Sync, then CopyInResponse, data, CopyDone, Sync.
  TxTracker t;
  t.start();
  EXPECT_TRUE(send(t, "PBES"));
  EXPECT_EQ(t.outstanding(), 1);
  EXPECT_EQ(t.on_copy_in(), 1);  // that Sync arrived during the copy: no reply for it
  EXPECT_EQ(t.outstanding(), 0);
  EXPECT_TRUE(t.copy_in_open());
  EXPECT_FALSE(t.releasable());  // nothing owed, yet the server waits for this client's data
  EXPECT_FALSE(send(t, "dS"));    // a Sync while the copy is known open: ignored at once
  EXPECT_EQ(t.outstanding(), 0);
  EXPECT_TRUE(send(t, "cS"));
  EXPECT_FALSE(t.copy_in_open());
  EXPECT_EQ(t.outstanding(), 1);
  EXPECT_EQ(t.on_ready(TxStatus::Idle).end, End::Committed);
  EXPECT_TRUE(t.releasable());
}

TEST(TxTracker, AHiddenBeginIsAnsweredFirstAndStaysOutOfTheCopyCount) {
  TxTracker t;
  t.start();
  send(t, "PBES");  // the client's statement, noted before the BEGIN is put in front of it
  t.send_hidden_begin();
  EXPECT_TRUE(t.hiding());
  EXPECT_EQ(t.outstanding(), 2);
  EXPECT_EQ(t.on_ready(TxStatus::InTransaction).end, End::Open);  // BEGIN's
  EXPECT_FALSE(t.hiding());
  EXPECT_EQ(t.on_copy_in(), 1);  // the client's Sync, not the BEGIN, fell inside the copy
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(TxTracker, SettingsOfACommittedTransactionAreHandedOver) {
  TxTracker t;
  t.start();
  send(t, "Q");
  t.defer(set_guc("work_mem"));
  t.defer_discard_all();
  EXPECT_EQ(t.on_ready(TxStatus::InTransaction).end, End::Open);
  send(t, "Q");
  auto r = t.on_ready(TxStatus::Idle);
  EXPECT_EQ(r.end, End::Committed);
  ASSERT_EQ(r.settings.size(), 1u);
  EXPECT_EQ(r.settings[0].name, "work_mem");
  EXPECT_TRUE(r.discard_all);
  send(t, "Q");
  auto next = t.on_ready(TxStatus::Idle);  // handed over once
  EXPECT_TRUE(next.settings.empty());
  EXPECT_FALSE(next.discard_all);
}

TEST(TxTracker, SettingsOfAFailedTransactionAreHandedOverAsFailed) {
  TxTracker t;
  t.start();
  send(t, "Q");
  t.defer(set_guc("search_path"));
  t.on_error();
  auto r = t.on_ready(TxStatus::Idle);  // an implicit transaction that failed
  EXPECT_EQ(r.end, End::Failed);
  EXPECT_EQ(r.settings.size(), 1u);
  send(t, "Q");
  EXPECT_EQ(t.on_ready(TxStatus::Idle).end, End::Committed);  // the failure ended with it
}

TEST(TxTracker, AHoldCursorKeepsTheServerUntilClosed) {
  TxTracker t;
  t.start();
  send(t, "Q");
  t.on_statement("DECLARE c CURSOR WITH HOLD FOR SELECT 1");
  t.on_ready(TxStatus::Idle);
  EXPECT_FALSE(t.releasable());
  t.start();  // a new server does not close the client's cursor (it keeps this one anyway)
  EXPECT_TRUE(t.holds_cursors());
  send(t, "Q");
  t.on_statement("CLOSE c");
  t.on_ready(TxStatus::Idle);
  EXPECT_TRUE(t.releasable());
}

TEST(TxTracker, ARolledBackHoldCursorNeverPins) {
  TxTracker t;
  t.start();
  send(t, "Q");
  t.on_statement("DECLARE c CURSOR WITH HOLD FOR SELECT 1");
  t.on_command_complete(tag("ROLLBACK"));
  t.on_ready(TxStatus::Idle);
  EXPECT_TRUE(t.releasable());
}

TEST(TxTracker, ForgottenRequestsOweNothing) {
  TxTracker t;
  t.start();
  send(t, "PBESQ");
  t.send_hidden_begin();
  t.forget_requests();
  EXPECT_FALSE(t.busy());
  EXPECT_FALSE(t.hiding());
  EXPECT_TRUE(t.releasable());
}

TEST(TxTracker, AStrayReadyForQueryNeverMakesTheCountNegative) {
  TxTracker t;
  t.start();
  t.on_ready(TxStatus::Idle);
  EXPECT_EQ(t.outstanding(), 0);
  send(t, "Q");
  EXPECT_EQ(t.outstanding(), 1);
}

TEST(TxTracker, StartForgetsTheLastServersTransaction) {
  TxTracker t;
  t.start();
  send(t, "Q");
  t.on_ready(TxStatus::InTransaction);
  t.on_error();
  t.start();
  EXPECT_EQ(t.status(), TxStatus::Idle);
  send(t, "Q");
  EXPECT_EQ(t.on_ready(TxStatus::Idle).end, End::Committed);
}

}  // namespace
}  // namespace pgopt::pooler::session
