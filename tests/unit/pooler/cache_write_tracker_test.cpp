// cache::WriteTracker on reply sequences: writes invalidate at their commit, never before, and a
// rolled-back transaction invalidates nothing it wrote in earlier requests.
#include "pooler/cache/write_tracker.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pgopt::pooler::cache {
namespace {

using Tables = std::vector<std::string>;

void send(WriteTracker& w, Tables tables, bool all = false) {
  w.on_writes(tables, all);
}

TEST(CacheWriteTracker, OutsideABlockEachRequestInvalidatesAtItsReadyForQuery) {
  WriteTracker w;
  send(w, {"orders"});
  w.end_request();
  EXPECT_TRUE(w.on_command_complete("INSERT 0 1").empty());
  Invalidation inv = w.on_ready_for_query('I');
  EXPECT_EQ(inv.tables, Tables{"orders"});
  EXPECT_FALSE(w.pending());
}

TEST(CacheWriteTracker, ABlockInvalidatesAtCommitOnly) {
  WriteTracker w;
  send(w, {});  // BEGIN
  w.end_request();
  EXPECT_TRUE(w.on_ready_for_query('T').empty());
  send(w, {"b", "a"});
  w.end_request();
  EXPECT_TRUE(w.on_command_complete("UPDATE 3").empty());
  EXPECT_TRUE(w.on_ready_for_query('T').empty());  // not committed yet: nothing goes
  send(w, {"c"});
  w.end_request();
  EXPECT_TRUE(w.on_ready_for_query('T').empty());
  EXPECT_TRUE(w.pending());
  w.end_request();  // COMMIT
  Invalidation inv = w.on_command_complete("COMMIT");
  EXPECT_EQ(inv.tables, (Tables{"a", "b", "c"}));
  EXPECT_TRUE(w.on_ready_for_query('I').empty());
  EXPECT_FALSE(w.pending());
}

TEST(CacheWriteTracker, RollbackAndFailedCommitDiscard) {
  for (const char* tag : {"ROLLBACK"}) {
    WriteTracker w;
    w.end_request();
    w.on_ready_for_query('T');
    send(w, {"a"});
    w.end_request();
    w.on_ready_for_query('E');  // the statement failed: the block is aborted
    w.end_request();            // COMMIT, answered ROLLBACK
    EXPECT_TRUE(w.on_command_complete(tag).empty());
    EXPECT_TRUE(w.on_ready_for_query('I').empty());
    EXPECT_FALSE(w.pending());
  }
}

TEST(CacheWriteTracker, RollbackToSavepointDiscardsNothing) {
  WriteTracker w;
  w.end_request();
  w.on_ready_for_query('T');
  send(w, {"a"});
  w.end_request();
  w.on_ready_for_query('T');
  w.end_request();  // ROLLBACK TO s
  EXPECT_TRUE(w.on_command_complete("ROLLBACK").empty());
  EXPECT_TRUE(w.on_ready_for_query('T').empty());
  w.end_request();
  EXPECT_EQ(w.on_command_complete("COMMIT").tables, Tables{"a"});
}

TEST(CacheWriteTracker, WritesAfterCommitInTheSameRequestAreInvalidatedAgainAtReadyForQuery) {
  // "BEGIN; INSERT INTO a ...; COMMIT; INSERT INTO b ..." as one Query.
  WriteTracker w;
  send(w, {"a"});
  send(w, {"b"});
  w.end_request();
  EXPECT_EQ(w.on_command_complete("COMMIT").tables, (Tables{"a", "b"}));
  EXPECT_EQ(w.on_ready_for_query('I').tables, (Tables{"a", "b"}));  // b committed only now
}

TEST(CacheWriteTracker, PipelinedRequestsAreNotFlushedEarly) {
  WriteTracker w;
  send(w, {"a"});
  w.end_request();
  send(w, {"b"});  // already sent, not executed when the first reply comes
  w.end_request();
  EXPECT_EQ(w.on_ready_for_query('I').tables, Tables{"a"});
  EXPECT_EQ(w.on_ready_for_query('I').tables, Tables{"b"});
}

TEST(CacheWriteTracker, ExtendedProtocolReplyBeforeSync) {
  WriteTracker w;
  w.end_request();
  w.on_ready_for_query('T');
  send(w, {"a"});
  w.end_request();
  w.on_ready_for_query('T');
  send(w, {});  // Execute COMMIT, no Sync yet: the server answers it anyway
  EXPECT_EQ(w.on_command_complete("COMMIT").tables, Tables{"a"});
}

TEST(CacheWriteTracker, AllWinsAndServerLossInvalidatesEverythingPending) {
  WriteTracker w;
  w.end_request();
  w.on_ready_for_query('T');
  send(w, {"a"});
  w.end_request();
  w.on_ready_for_query('T');
  send(w, {}, true);  // CALL p()
  w.end_request();
  Invalidation inv = w.on_server_lost();
  EXPECT_TRUE(inv.all);
  EXPECT_TRUE(inv.tables.empty());
  EXPECT_FALSE(w.pending());
  send(w, {"z"});
  EXPECT_EQ(w.on_server_lost().tables, Tables{"z"});  // open request too: a COMMIT may be in it
}

TEST(CacheWriteTracker, PrepareTransactionDoesNotInvalidate) {
  WriteTracker w;
  w.end_request();
  w.on_ready_for_query('T');
  send(w, {"a"});
  w.end_request();
  w.on_ready_for_query('T');
  w.end_request();
  EXPECT_TRUE(w.on_command_complete("PREPARE TRANSACTION").empty());
  EXPECT_TRUE(w.on_ready_for_query('I').empty());  // COMMIT PREPARED is `all` (sql::written_tables)
}

}  // namespace
}  // namespace pgopt::pooler::cache
