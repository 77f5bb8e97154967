// The prepared-statement tracker on message sequences alone: what it sends for each client message
// and what it does with each server reply, with no socket and no server.
#include "prepared_tracker_support.hpp"

namespace pgopt::pooler::prepared::test {
namespace {

TEST_F(PreparedTracker, OnlyNamedStatementsNeedRewriting) {
  EXPECT_TRUE(Tracker::needs_rewrite(frame(parse("s", "SELECT 1"))));
  EXPECT_FALSE(Tracker::needs_rewrite(frame(parse("", "SELECT 1"))));
  EXPECT_TRUE(Tracker::needs_rewrite(frame(bind("s"))));
  EXPECT_FALSE(Tracker::needs_rewrite(frame(bind(""))));
  EXPECT_TRUE(Tracker::needs_rewrite(frame(describe_stmt("s"))));
  EXPECT_FALSE(Tracker::needs_rewrite(frame(msg('D', "P" + z("s")))));  // portals are per transaction
  EXPECT_TRUE(Tracker::needs_rewrite(frame(close_stmt("s"))));
  EXPECT_FALSE(Tracker::needs_rewrite(frame(execute())));
  EXPECT_TRUE(Tracker::needs_rewrite(frame(query("DEALLOCATE s"))));
  EXPECT_FALSE(Tracker::needs_rewrite(frame(query("SELECT 1"))));
}

TEST_F(PreparedTracker, ParseThenBindUseTheSharedNameAndRepliesPassThrough) {
  Tracker t(registry);
  std::string out = send(t, {parse("mine", "SELECT 1"), bind("mine"), execute(), sync()});
  auto stmt = registry.intern("SELECT 1", {});
  EXPECT_EQ(describe_stream(out), "P(" + stmt->server_name + ") B(" + stmt->server_name + ") E S");
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'D').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'C', "SELECT 1\0").action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_TRUE(t.idle());
}

TEST_F(PreparedTracker, SecondClientWithTheSameTextSharesTheStatement) {
  Tracker a(registry), b(registry);
  send(a, {parse("x", "SELECT 2"), sync()});
  reply(a, '1');
  reply(a, 'Z', "I");
  // The server has it: b's Parse becomes a harmless Close whose reply turns into ParseComplete.
  std::string out = send(b, {parse("y", "SELECT 2"), sync()});
  EXPECT_EQ(describe_stream(out), "C(pgopt_none) S");
  // Held back until the next reply (see StaleSharedStatement*), then sent just before it.
  EXPECT_EQ(reply(b, '3').action, ReplyAction::Skip);
  auto d = reply(b, 'Z', "I");
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), msg('1', "") + msg('Z', "I"));
  EXPECT_EQ(server.size(), 1u);
}

TEST_F(PreparedTracker, BindOnAServerWithoutTheStatementInjectsItsParse) {
  Tracker t(registry);
  send(t, {parse("s", "SELECT 3"), sync()});
  reply(t, '1');
  reply(t, 'Z', "I");
  server.clear();  // as if the next transaction ran on another server
  std::string out = send(t, {bind("s"), execute(), sync()});
  auto stmt = registry.intern("SELECT 3", {});
  EXPECT_EQ(describe_stream(out), "P(" + stmt->server_name + ") B(" + stmt->server_name + ") E S");
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);  // the client never sent that Parse
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
}

TEST_F(PreparedTracker, UnknownNameGetsPostgresErrorWithTheClientsName) {
  Tracker t(registry);
  std::string out = send(t, {bind("nope"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "B(pgopt_none) E S");
  auto d = reply(t, 'E', error_body("26000"));
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), missing_statement_error("nope"));
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);  // the Execute was skipped with it
  EXPECT_TRUE(t.idle());
}

TEST_F(PreparedTracker, DuplicateNameBecomesARejectedParse) {
  Tracker t(registry);
  prepare(t, "s", "SELECT 1");
  std::string out = send(t, {parse("s", "SELECT 9"), bind("s"), execute(), sync()});
  EXPECT_EQ(describe_stream(out).substr(0, 14), "P(pgopt_none) ");
  auto d = reply(t, 'E', error_body("42601"));
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), duplicate_statement_error("s"));
  reply(t, 'Z', "I");
  EXPECT_EQ(t.name_count(), 1u);
}

TEST_F(PreparedTracker, MessagesSkippedAfterAnErrorLeaveNoTrace) {
  Tracker t(registry);
  send(t, {parse("early", "SELECT 1"), bind("early"), execute(), parse("late", "SELECT 2"), sync()});
  reply(t, '1');
  reply(t, '2');
  reply(t, 'E', error_body("22012"));  // the Execute failed: the Parse of "late" never ran
  reply(t, 'Z', "I");
  EXPECT_EQ(t.name_count(), 1u);
  EXPECT_FALSE(server.has(*registry.intern("SELECT 2", {})));
  EXPECT_TRUE(server.has(*registry.intern("SELECT 1", {})));
}

TEST_F(PreparedTracker, EvictionClosesTheOldestButNeverOneUsedSinceTheLastSync) {
  Tracker t(registry);
  for (int i = 0; i < 3; ++i) {
    std::string out = send(t, {parse("s" + std::to_string(i), "SELECT " + std::to_string(i)), sync()}, 2);
    if (i == 2) {
      EXPECT_EQ(describe_stream(out), "C(pgopt_1) P(pgopt_3) S");
      EXPECT_EQ(reply(t, '3').action, ReplyAction::Skip);  // the client never asked for that Close
    }
    EXPECT_EQ(reply(t, '1').action, ReplyAction::Forward);
    EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  }
  EXPECT_EQ(server.size(), 2u);
  EXPECT_EQ(server.evictions, 1u);
  // Three statements in one sync group: none may go until the Sync, so the set grows past 2.
  ServerStatements fresh;
  std::vector<StatementPtr> evicted;
  for (int i = 0; i < 3; ++i) fresh.add(registry.intern("SELECT 1" + std::to_string(i), {}), 2, evicted);
  EXPECT_TRUE(evicted.empty());
  EXPECT_EQ(fresh.size(), 3u);
  fresh.next_group();
  fresh.add(registry.intern("SELECT 99", {}), 2, evicted);
  EXPECT_EQ(evicted.size(), 2u);
}

TEST_F(PreparedTracker, ResultTypeChangeRetiresTheStatement) {
  Tracker t(registry);
  prepare(t, "s", "SELECT * FROM t");
  auto before = registry.intern("SELECT * FROM t", {});
  send(t, {bind("s"), execute(), sync()});
  reply(t, 'E', error_body("0A000"));
  reply(t, 'Z', "I");
  std::string out = send(t, {bind("s"), execute(), sync()});
  auto after = registry.intern("SELECT * FROM t", {});
  EXPECT_NE(before->server_name, after->server_name);
  EXPECT_EQ(describe_stream(out), "P(" + after->server_name + ") B(" + after->server_name + ") E S");
}

TEST_F(PreparedTracker, AReplyNobodyAskedForIsADesync) {
  Tracker t(registry);
  send(t, {parse("s", "SELECT 1"), sync()});
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Desync);
}

TEST_F(PreparedTracker, DiscardAllEmptiesServerAndNames) {
  Tracker t(registry);
  prepare(t, "s", "SELECT 1");
  send(t, {query("DISCARD ALL")});
  reply(t, 'C', std::string("DISCARD ALL\0", 12));
  reply(t, 'Z', "I");
  EXPECT_EQ(server.size(), 0u);
  EXPECT_EQ(t.name_count(), 0u);
}

TEST_F(PreparedTracker, DeallocateIsAnsweredForTheClientOnly) {
  Tracker t(registry);
  prepare(t, "s", "SELECT 1");
  std::string out = send(t, {query("DEALLOCATE s")});
  EXPECT_EQ(out, query(""));
  auto d = reply(t, 'I');
  ASSERT_EQ(d.action, ReplyAction::Replace);
  std::string tag;
  proto::command_complete(tag, "DEALLOCATE");
  EXPECT_EQ(std::string(d.replacement), tag);
  reply(t, 'Z', "I");
  EXPECT_EQ(t.name_count(), 0u);
  EXPECT_EQ(server.size(), 1u);  // the shared statement stays for others
}

TEST_F(PreparedTracker, IdleParsesAreAnsweredLocallyWithGrammarErrors) {
  Tracker t(registry);
  std::vector<std::string> batch = {parse("a", "SELECT 1"), parse("b", "SELEC 1"), parse("c", "SELECT 2"), sync(),
                                    parse("d", "SELECT 1; SELECT 2"), sync(), parse("a", "SELECT 5"), sync()};
  std::vector<proto::Frame> frames;
  for (const auto& m : batch) frames.push_back(frame(m));
  ASSERT_TRUE(Tracker::can_answer_locally(frames));
  std::string reply;
  t.answer_locally(frames, reply);
  // a ok; b a syntax error, so c is skipped up to the Sync; d is two statements; a is taken.
  std::string types;
  size_t pos = 0;
  std::vector<std::string> codes;
  while (pos < reply.size()) {
    auto r = proto::decode_frame(bytes_of(reply).subspan(pos), 1 << 20);
    types += r.frame.type;
    if (r.frame.type == 'E') codes.emplace_back(proto::error_field(*proto::parse_error_fields(r.frame.body), 'C'));
    pos += r.frame.size;
  }
  EXPECT_EQ(types, "1EZEZEZ");
  EXPECT_EQ(codes, (std::vector<std::string>{"42601", "42601", "42P05"}));
  EXPECT_EQ(t.name_count(), 1u);
  // Anything else, or no Sync at the end, needs the server.
  const std::string p = parse("x", "SELECT 1"), b = bind("x"), s = sync();
  std::vector<proto::Frame> with_bind = {frame(p), frame(b), frame(s)};
  EXPECT_FALSE(Tracker::can_answer_locally(with_bind));
  std::vector<proto::Frame> no_sync = {frame(p)};
  EXPECT_FALSE(Tracker::can_answer_locally(no_sync));
}

TEST_F(PreparedTracker, ResultTypeChangeOutsideATransactionIsRetriedOnce) {
  Tracker t(registry);
  prepare(t, "s", "SELECT * FROM t");
  std::vector<std::string> group = {bind("s"), execute(), sync()};
  send(t, group);
  EXPECT_EQ(reply(t, 'E', error_body("0A000")).action, ReplyAction::Skip);  // held back
  auto d = reply(t, 'Z', "I");
  ASSERT_EQ(d.action, ReplyAction::Retry);
  EXPECT_EQ(std::string(d.replacement), group[0] + group[1] + group[2]);
  std::string again;
  t.replay(bytes_of(std::string(d.replacement)), server, 200, again);
  auto fresh = registry.intern("SELECT * FROM t", {});
  EXPECT_EQ(describe_stream(again), "P(" + fresh->server_name + ") B(" + fresh->server_name + ") E S");
  // A second failure of the retried group reaches the client: no retry loops.
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, 'E', error_body("0A000")).action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
}

TEST_F(PreparedTracker, ResultTypeChangeInsideATransactionReachesTheClient) {
  Tracker t(registry);
  send(t, {parse("s", "SELECT * FROM t"), sync()});
  reply(t, '1');
  reply(t, 'Z', "T");
  send(t, {bind("s"), execute(), sync()});
  EXPECT_EQ(reply(t, 'E', error_body("0A000")).action, ReplyAction::Skip);
  auto d = reply(t, 'Z', "E");  // the transaction block failed: nothing may be re-run
  ASSERT_EQ(d.action, ReplyAction::Replace);
  std::string expected;
  proto::error_response(expected, "ERROR", "0A000", "boom");
  proto::ready_for_query(expected, 'E');
  EXPECT_EQ(std::string(d.replacement), expected);
}


}  // namespace
}  // namespace pgopt::pooler::prepared::test
