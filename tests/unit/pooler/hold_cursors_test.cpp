// Which WITH HOLD cursors keep a transaction-mode client on its server, from statement texts alone.
#include <gtest/gtest.h>

#include "pooler/session/hold_cursors.hpp"

namespace pgopt::pooler::session {
namespace {

TEST(HoldCursors, ACommittedHoldCursorPinsUntilClosed) {
  HoldCursors h;
  EXPECT_FALSE(h.any());
  h.on_statement("DECLARE c CURSOR WITH HOLD FOR SELECT 1");
  EXPECT_TRUE(h.any());  // inside its transaction already
  h.on_transaction_end(true);
  EXPECT_TRUE(h.any());
  h.on_statement("FETCH 10 FROM c");
  h.on_transaction_end(true);
  EXPECT_TRUE(h.any());
  h.on_statement("close C");  // folded as PostgreSQL folds it
  EXPECT_FALSE(h.any());
}

TEST(HoldCursors, ARolledBackDeclarationLeavesNothing) {
  HoldCursors h;
  h.on_statement("BEGIN; DECLARE c CURSOR WITH HOLD FOR SELECT 1");
  h.on_transaction_end(false);
  EXPECT_FALSE(h.any());
  h.on_statement("DECLARE plain CURSOR FOR SELECT 1");  // without HOLD: gone at commit anyway
  h.on_transaction_end(true);
  EXPECT_FALSE(h.any());
}

TEST(HoldCursors, CloseAllAndDiscardAllCloseEverything) {
  HoldCursors h;
  h.on_statement("DECLARE a CURSOR WITH HOLD FOR SELECT 1; DECLARE \"B\" NO SCROLL CURSOR WITH HOLD FOR SELECT 2");
  h.on_transaction_end(true);
  h.on_statement("CLOSE a");
  EXPECT_TRUE(h.any());
  h.on_statement("CLOSE ALL");
  EXPECT_FALSE(h.any());
  h.on_statement("DECLARE a CURSOR WITH HOLD FOR SELECT 1");
  h.on_transaction_end(true);
  h.on_statement("DISCARD ALL");
  EXPECT_FALSE(h.any());
  // Words in literals and other statements are not commands.
  h.on_statement("SELECT 'close all', 'with hold' AS hold");
  EXPECT_FALSE(h.any());
}

}  // namespace
}  // namespace pgopt::pooler::session
