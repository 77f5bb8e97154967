// Which Syncs the server ignores during COPY FROM STDIN, on message sequences alone.
#include <gtest/gtest.h>

#include "pooler/session/copy_syncs.hpp"

namespace pgopt::pooler::session {
namespace {

TEST(CopySyncs, LibpqExtendedCopyOwesOneReadyForQuery) {
  CopySyncs c;
  EXPECT_TRUE(c.on_client('S'));   // sent with Parse/Bind/Execute, before the copy starts
  EXPECT_EQ(c.on_copy_in(), 1);    // ... so the server will ignore it
  c.on_client('d');
  c.on_client('c');
  EXPECT_TRUE(c.on_client('S'));   // the copy is over: this one is answered
  c.on_ready();
  EXPECT_TRUE(c.on_client('S'));   // sent with the next COPY's Execute: ignored again
  EXPECT_EQ(c.on_copy_in(), 1);
}

TEST(CopySyncs, SyncSentWhileTheCopyIsKnownOpenIsIgnoredAtOnce) {
  CopySyncs c;
  c.on_client('Q');
  EXPECT_EQ(c.on_copy_in(), 0);    // a simple-query copy: the Query still gets its ReadyForQuery
  EXPECT_FALSE(c.on_client('S'));  // during copy-in
  c.on_client('f');                // CopyFail ends it too
  EXPECT_TRUE(c.on_client('S'));
}

TEST(CopySyncs, SyncsAfterTheCopyEndSurvive) {
  CopySyncs c;
  c.on_client('S');  // pipelined: Execute(COPY) Sync, data, CopyDone, Sync, Query, Sync
  c.on_client('d');
  c.on_client('c');
  c.on_client('S');
  c.on_client('Q');
  c.on_client('S');
  EXPECT_EQ(c.on_copy_in(), 1);
  c.on_ready();
  c.on_ready();
  c.on_ready();
  EXPECT_EQ(c.on_copy_in(), 0);
}

TEST(CopySyncs, AnIdleClientHoldsNoMemory) {
  CopySyncs c;
  EXPECT_EQ(c.capacity(), 0u);
  c.on_ready();  // nothing owed: no effect
  EXPECT_EQ(c.owed(), 0u);
}

TEST(CopySyncs, APipelineThatNeverDrainsStaysBounded) {
  CopySyncs c;
  for (int i = 0; i < 8; ++i) c.on_client('S');
  for (int i = 0; i < 100000; ++i) {  // always 8 Syncs in flight: one answered, one more sent
    c.on_ready();
    c.on_client(i % 2 ? 'S' : 'Q');
  }
  EXPECT_EQ(c.owed(), 8u);
  EXPECT_LE(c.capacity(), 256u);
  // Order kept across the compactions: the oldest owed ones are answered first, and a copy voids
  // only the Syncs still owed.
  EXPECT_EQ(c.on_copy_in(), 4);
  for (int i = 0; i < 4; ++i) c.on_ready();
  EXPECT_EQ(c.owed(), 0u);
}

}  // namespace
}  // namespace pgopt::pooler::session
