// Which Syncs the server ignores during COPY FROM STDIN, on message sequences alone.
#include <gtest/gtest.h>

#include "pooler/copy_syncs.hpp"

namespace pgopt::pooler {
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

}  // namespace
}  // namespace pgopt::pooler
