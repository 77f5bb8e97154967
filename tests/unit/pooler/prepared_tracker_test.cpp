// The prepared-statement tracker on message sequences alone: what it sends for each client message
// and what it does with each server reply, with no socket and no server.
#include <gtest/gtest.h>

#include "pooler/prepared/tracker.hpp"

namespace pgopt::pooler::prepared {
namespace {

namespace proto = pgopt::protocol;

std::string msg(char type, const std::string& body) {
  std::string out;
  proto::Writer(out).begin(type).raw(body).end();
  return out;
}
std::string z(const std::string& s) { return s + '\0'; }
std::string parse(const std::string& name, const std::string& q) { return msg('P', z(name) + z(q) + std::string(2, '\0')); }
std::string bind(const std::string& name) { return msg('B', z("") + z(name) + std::string(6, '\0')); }
std::string describe_stmt(const std::string& name) { return msg('D', "S" + z(name)); }
std::string close_stmt(const std::string& name) { return msg('C', "S" + z(name)); }
std::string execute() { return msg('E', z("") + std::string(4, '\0')); }
std::string sync() { return msg('S', ""); }
std::string query(const std::string& q) { return msg('Q', z(q)); }

proto::Frame frame(const std::string& bytes) {
  auto r = proto::decode_frame({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, 1 << 20);
  EXPECT_EQ(r.status, proto::DecodeStatus::Frame);
  return r.frame;
}
std::span<const uint8_t> bytes_of(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// Message types in a byte stream, with statement names for P/B/D/C: "P(pgopt_1) B(pgopt_1) E S".
std::string describe_stream(const std::string& out) {
  std::string s;
  size_t pos = 0;
  while (pos < out.size()) {
    auto r = proto::decode_frame(bytes_of(out).subspan(pos), 1 << 20);
    if (r.status != proto::DecodeStatus::Frame) return s + " <bad>";
    if (!s.empty()) s += ' ';
    s += r.frame.type;
    proto::Reader rd(r.frame.body);
    if (r.frame.type == 'P') s += "(" + std::string(rd.cstr()) + ")";
    if (r.frame.type == 'B') {
      rd.cstr();
      s += "(" + std::string(rd.cstr()) + ")";
    }
    if (r.frame.type == 'D' || r.frame.type == 'C') {
      rd.u8();
      s += "(" + std::string(rd.cstr()) + ")";
    }
    pos += r.frame.size;
  }
  return s;
}

struct PreparedTracker : ::testing::Test {
  StatementRegistry registry;
  ServerStatements server;
  // Feeds client messages as one batch; returns what went to the server.
  std::string send(Tracker& t, std::vector<std::string> msgs, size_t capacity = 200) {
    std::string out;
    for (const auto& m : msgs) t.on_client_message(frame(m), bytes_of(m), server, capacity, &out);
    return out;
  }
  // A named Parse and Sync, answered as by a server that lacked the statement.
  void prepare(Tracker& t, const std::string& name, const std::string& sql) {
    send(t, {parse(name, sql), sync()});
    EXPECT_EQ(reply(t, '1').action, ReplyAction::Forward);
    EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  }
  ReplyDecision reply(Tracker& t, char type, const std::string& body = {}) {
    return t.on_server_message(type, bytes_of(body), server);
  }
  static std::string error_body(const std::string& code) {
    std::string e;
    proto::error_response(e, "ERROR", code, "boom");
    return e.substr(5);
  }
};

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
}  // namespace pgopt::pooler::prepared

// ---- issue 22: errors before the Sync, and prepared-statement commands by the extended protocol ----

namespace pgopt::pooler::prepared {
namespace {

std::string describe_portal() { return msg('D', "P" + z("")); }
// The query text of the first Parse in `out`.
std::string parse_text(const std::string& out) {
  size_t pos = 0;
  while (pos < out.size()) {
    auto r = proto::decode_frame(bytes_of(out).subspan(pos), 1 << 20);
    if (r.status != proto::DecodeStatus::Frame) break;
    if (r.frame.type == 'P') return std::string(proto::parse_parse(r.frame.body)->query);
    pos += r.frame.size;
  }
  return "<no Parse>";
}
std::string complete(const std::string& tag) {
  std::string out;
  proto::command_complete(out, tag);
  return out;
}

TEST_F(PreparedTracker, WhatTheClientSendsAfterAnErrorCameBackIsSkippedUpToItsSync) {
  Tracker t(registry);
  prepare(t, "s", "INSERT INTO t VALUES ($1)");
  // A pipeline (psycopg's executemany): the server fails the first Execute while the client is still sending.
  send(t, {bind("s"), execute(), bind("s"), execute()});
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'E', error_body("23505")).action, ReplyAction::Forward);
  // Sent after the error came back: PostgreSQL ignores all of it until the Sync, including this Parse.
  send(t, {bind("s"), execute(), parse("late", "SELECT 9"), bind("late"), execute(), sync()});
  EXPECT_EQ(reply(t, 'Z', "E").action, ReplyAction::Forward);  // not a desync
  EXPECT_TRUE(t.idle());
  EXPECT_EQ(t.name_count(), 1u);  // "late" was never made
  // After the Sync everything is answered again.
  send(t, {bind("s"), execute(), sync()});
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'C', "INSERT 0 1").action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_TRUE(t.idle());
}

TEST_F(PreparedTracker, DeallocateByTheExtendedProtocolDropsTheClientsNameOnly) {
  Tracker a(registry), b(registry);
  prepare(a, "_pg3_1", "SELECT $1::int");
  send(b, {parse("other", "SELECT $1::int"), sync()});  // shares a's statement
  EXPECT_EQ(reply(b, '3').action, ReplyAction::Skip);
  EXPECT_EQ(reply(b, 'Z', "I").action, ReplyAction::Replace);
  EXPECT_TRUE(Tracker::needs_rewrite(frame(parse("", "DEALLOCATE _pg3_1"))));
  std::string out = send(a, {parse("", "DEALLOCATE _pg3_1"), bind(""), describe_portal(), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "P() B() D() E S");
  EXPECT_EQ(parse_text(out), "");  // runs nothing on the server
  EXPECT_EQ(reply(a, '1').action, ReplyAction::Forward);
  EXPECT_EQ(reply(a, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(a, 'n').action, ReplyAction::Forward);
  auto d = reply(a, 'I');
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), complete("DEALLOCATE"));
  EXPECT_EQ(reply(a, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_EQ(a.name_count(), 0u);
  EXPECT_EQ(server.size(), 1u);  // still there for b
  EXPECT_EQ(describe_stream(send(b, {bind("other"), execute(), sync()})), "B(" + b.statement_for("other")->server_name + ") E S");
  // The name is free again, and a second DEALLOCATE is PostgreSQL's own 26000 naming it.
  out = send(a, {parse("", "DEALLOCATE _pg3_1"), bind(""), execute(), sync()});
  EXPECT_EQ(parse_text(out), "DEALLOCATE _pg3_1");
}

TEST_F(PreparedTracker, DeallocateAllSkippedAfterAnErrorLeavesTheNames) {
  Tracker t(registry);
  prepare(t, "s", "SELECT 1");
  send(t, {bind("s"), execute(), parse("", "DEALLOCATE ALL"), bind(""), execute(), sync()});
  EXPECT_EQ(t.name_count(), 0u);  // in effect from the moment it is sent...
  EXPECT_EQ(reply(t, 'E', error_body("57014")).action, ReplyAction::Forward);
  EXPECT_EQ(t.name_count(), 1u);  // ...and undone when the server skips it
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  send(t, {parse("", "DEALLOCATE ALL"), bind(""), execute(), sync()});
  reply(t, '1');
  reply(t, '2');
  auto d = reply(t, 'I');
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), complete("DEALLOCATE ALL"));
  EXPECT_EQ(t.name_count(), 0u);
}

TEST_F(PreparedTracker, PooledStatementNamesAreOutOfTheClientsReach) {
  Tracker owner(registry), t(registry);
  prepare(owner, "s", "SELECT 1");
  const std::string shared = owner.statement_for("s")->server_name;
  ASSERT_TRUE(reserved_statement_name(shared));
  for (const std::string& sql : {"DEALLOCATE " + shared, "EXECUTE " + shared}) {
    std::string out = send(t, {parse("", sql), bind(""), describe_portal(), execute(), sync()});
    EXPECT_EQ(parse_text(out), "DEALLOCATE pgopt_none") << sql;
    EXPECT_EQ(reply(t, '1').action, ReplyAction::Forward);
    EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
    EXPECT_EQ(reply(t, 'n').action, ReplyAction::Forward);
    auto d = reply(t, 'E', error_body("26000"));
    ASSERT_EQ(d.action, ReplyAction::Replace) << sql;
    EXPECT_NE(std::string(d.replacement).find("prepared statement \"" + shared + "\" does not exist"), std::string::npos);
    EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  }
  // Several statements in one string go to the server as they are: not this one.
  std::string out = send(t, {query("SELECT 1; DEALLOCATE " + shared)});
  EXPECT_EQ(out, query("DEALLOCATE pgopt_none"));
  auto d = reply(t, 'E', error_body("26000"));
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_NE(std::string(d.replacement).find(shared), std::string::npos);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  out = send(t, {query("SELECT 1; PREPARE " + shared + " AS SELECT 2")});
  EXPECT_EQ(out, query("DEALLOCATE pgopt_none"));
  d = reply(t, 'E', error_body("26000"));
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_NE(std::string(d.replacement).find("42939"), std::string::npos);
  reply(t, 'Z', "I");
  // Nor as the text of a named statement.
  out = send(t, {parse("x", "DEALLOCATE " + shared), sync()});
  EXPECT_EQ(describe_stream(out), "P(pgopt_none) S");
  EXPECT_EQ(reply(t, 'E', error_body("42601")).action, ReplyAction::Replace);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_TRUE(t.idle());
}

TEST_F(PreparedTracker, SqlPrepareByTheExtendedProtocolAndProtocolCloseOfIt) {
  Tracker t(registry);
  std::string out = send(t, {parse("", "PREPARE p AS SELECT 5"), bind(""), execute(), sync()});
  auto stmt = registry.intern_sql("PREPARE ", " AS SELECT 5");
  EXPECT_EQ(parse_text(out), "PREPARE " + stmt->server_name + " AS SELECT 5");
  reply(t, '1');
  reply(t, '2');
  EXPECT_EQ(reply(t, 'C', "PREPARE").action, ReplyAction::Forward);
  reply(t, 'Z', "I");
  EXPECT_EQ(t.statement_for("p"), stmt.get());
  out = send(t, {parse("", "EXECUTE p"), bind(""), execute(), sync()});
  EXPECT_EQ(parse_text(out), "EXECUTE " + stmt->server_name);
  for (char c : {'1', '2', 'D'}) reply(t, c);
  reply(t, 'C', "SELECT 1");
  reply(t, 'Z', "I");
  // The reverse: a protocol Close of the SQL-prepared name drops it for this client only.
  out = send(t, {close_stmt("p"), sync()});
  EXPECT_EQ(describe_stream(out), "C(pgopt_none) S");
  reply(t, '3');
  reply(t, 'Z', "I");
  EXPECT_EQ(t.statement_for("p"), nullptr);
  EXPECT_EQ(server.size(), 1u);
  // Preparing it again where the server has it runs nothing and answers PREPARE.
  out = send(t, {parse("", "PREPARE p AS SELECT 5"), bind(""), execute(), sync()});
  EXPECT_EQ(parse_text(out), "");
  reply(t, '1');
  reply(t, '2');
  auto d = reply(t, 'I');
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), complete("PREPARE"));
  EXPECT_EQ(t.statement_for("p"), stmt.get());
}

std::string error_msg(const std::string& code, const std::string& text) {
  std::string e;
  proto::error_response(e, "ERROR", code, text);
  return e;
}

// A new client prepares, in one batch with its Execute, a text whose shared statement went stale on
// this server (ALTER TABLE since): the server's 0A000 never reaches it, the group runs again with a
// fresh statement, and the ParseComplete it gets is the retry's.
TEST_F(PreparedTracker, StaleSharedStatementPreparedAndRunInOneBatchIsRetriedFresh) {
  Tracker a(registry), b(registry);
  prepare(a, "s", "SELECT * FROM t");
  const std::string old_name = a.statement_for("s")->server_name;
  std::string out = send(b, {parse("n", "SELECT * FROM t"), bind("n"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "C(pgopt_none) B(" + old_name + ") E S");
  EXPECT_EQ(reply(b, '3').action, ReplyAction::Skip);
  std::string err = error_msg("0A000", "cached plan must not change result type");
  EXPECT_EQ(reply(b, 'E', err.substr(5)).action, ReplyAction::Skip);
  auto d = reply(b, 'Z', "I");
  ASSERT_EQ(d.action, ReplyAction::Retry);
  std::string again;
  b.replay(bytes_of(std::string(d.replacement)), server, 200, again);
  const std::string fresh = b.statement_for("n")->server_name;
  EXPECT_NE(fresh, old_name);
  EXPECT_EQ(describe_stream(again), "P(" + fresh + ") B(" + fresh + ") E S");
  for (char c : {'1', '2', 'D'}) EXPECT_EQ(reply(b, c).action, ReplyAction::Forward);
  EXPECT_EQ(reply(b, 'C', "SELECT 1").action, ReplyAction::Forward);
  EXPECT_EQ(reply(b, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_TRUE(b.idle());
  // a's name moves to the fresh statement on its next use.
  EXPECT_EQ(describe_stream(send(a, {bind("s"), execute(), sync()})), "B(" + fresh + ") E S");
}

// A parameter type dropped and re-created: the statement the server has keeps the old type's OID.
TEST_F(PreparedTracker, StaleParameterTypeIsRetriedWithAFreshStatement) {
  Tracker a(registry);
  prepare(a, "ins", "INSERT INTO t (m) VALUES ($1)");
  const std::string old_name = a.statement_for("ins")->server_name;
  send(a, {bind("ins"), execute(), sync()});
  std::string err = error_msg("XX000", "cache lookup failed for type 16390");
  EXPECT_EQ(reply(a, 'E', err.substr(5)).action, ReplyAction::Skip);
  auto d = reply(a, 'Z', "I");
  ASSERT_EQ(d.action, ReplyAction::Retry);
  std::string again;
  a.replay(bytes_of(std::string(d.replacement)), server, 200, again);
  const std::string fresh = a.statement_for("ins")->server_name;
  EXPECT_NE(fresh, old_name);
  EXPECT_EQ(describe_stream(again), "P(" + fresh + ") B(" + fresh + ") E S");
  EXPECT_EQ(reply(a, '1').action, ReplyAction::Skip);  // the injected Parse
  // Other XX000 errors are the server's business.
  Tracker c(registry);
  prepare(c, "x", "SELECT 42");
  send(c, {bind("x"), execute(), sync()});
  err = error_msg("XX000", "could not open file");
  EXPECT_EQ(reply(c, 'E', err.substr(5)).action, ReplyAction::Forward);
}

// A held ParseComplete goes out before an error that is not about staleness.
TEST_F(PreparedTracker, HeldParseCompleteGoesOutBeforeAnOrdinaryError) {
  Tracker a(registry), b(registry);
  prepare(a, "s", "SELECT $1::int");
  send(b, {parse("n", "SELECT $1::int"), bind("n"), execute(), sync()});
  EXPECT_EQ(reply(b, '3').action, ReplyAction::Skip);
  std::string err = error_msg("22P02", "invalid input syntax for type integer");
  auto d = reply(b, 'E', err.substr(5));
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), msg('1', "") + err);
  EXPECT_EQ(reply(b, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_NE(b.statement_for("n"), nullptr);  // the Parse itself succeeded
}

// The client's own pg_prepared_statements: its names and texts, never another client's.
TEST_F(PreparedTracker, PgPreparedStatementsShowsTheClientsOwnStatements) {
  Tracker a(registry), b(registry);
  prepare(a, "secret", "SELECT 'a''s text'");
  prepare(b, "mine", "SELECT 2");
  const std::string q = "SELECT name, statement FROM pg_prepared_statements";
  EXPECT_TRUE(Tracker::needs_rewrite(frame(query(q))));
  std::string out = send(b, {query(q)});
  auto body = frame(out).body;
  std::string sent(reinterpret_cast<const char*>(body.data()), body.size() - 1);
  EXPECT_NE(sent.find("(VALUES ('mine', 'SELECT 2', '" + b.statement_for("mine")->server_name + "', false))"),
            std::string::npos) << sent;
  EXPECT_NE(sent.find("WHERE name !~ '^pgopt_'"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("secret"), std::string::npos) << sent;
  EXPECT_EQ(reply(b, 'T').action, ReplyAction::Forward);
  EXPECT_EQ(reply(b, 'C', "SELECT 1").action, ReplyAction::Forward);
  EXPECT_EQ(reply(b, 'Z', "I").action, ReplyAction::Forward);
  // A quote in a text stays a quote; an unnamed Parse gets the same view.
  out = send(a, {parse("", "SELECT count(*) FROM pg_catalog.pg_prepared_statements"), sync()});
  EXPECT_NE(parse_text(out).find("('secret', 'SELECT ''a''''s text''',"), std::string::npos) << parse_text(out);
}

// A named statement that reads pg_prepared_statements (psycopg prepares any text it runs
// prepare_threshold times: its test_auto_prepare counts the view in a pipeline) reads it as of each
// Execute, as directly: itself included, and statements the client prepared after it. It is never
// prepared on a server (the view's text changes with the client's names); its Parse is checked by
// the server through the unnamed statement.
TEST_F(PreparedTracker, NamedStatementReadingTheViewSeesTheClientsNamesAtEachExecute) {
  Tracker t(registry), other(registry);
  prepare(other, "secret", "SELECT 'other'");
  const std::string q = "SELECT count(*) FROM pg_prepared_statements WHERE name != ''";
  std::string out = send(t, {parse("_pg3_0", q), bind("_pg3_0"), execute(), sync()});
  // The Parse checks the text through the unnamed statement; the Bind runs it again from there.
  EXPECT_EQ(describe_stream(out), "P() P() B() E S");
  EXPECT_NE(parse_text(out).find("(VALUES ('_pg3_0', 'SELECT count(*) FROM pg_prepared_statements"), std::string::npos)
      << parse_text(out);
  EXPECT_EQ(out.find("secret"), std::string::npos);
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Forward);  // the client's own Parse
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);     // the one in front of its Bind
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'D').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'C', "SELECT 1").action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_EQ(server.size(), 1u);  // only the other client's statement: the view is never shared

  // A statement prepared later shows at the next Execute, and in a Describe of the statement.
  prepare(t, "later", "SELECT 2");
  out = send(t, {describe_stmt("_pg3_0"), bind("_pg3_0"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "P() D() P() B() E S");
  EXPECT_NE(out.find("('later', 'SELECT 2', "), std::string::npos);
  EXPECT_NE(out.find("('_pg3_0', "), std::string::npos);
  EXPECT_EQ(out.find("secret"), std::string::npos);
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, 't').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'T').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'D').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'C', "SELECT 1").action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);

  // SQL EXECUTE of it runs a shared statement of the view as of that EXECUTE, not the bare text.
  out = send(t, {query("EXECUTE _pg3_0")});
  const std::string text = parse_text(out);
  EXPECT_NE(text.find("('later', "), std::string::npos) << text;
  EXPECT_NE(text.find("WHERE name !~ '^pgopt_'"), std::string::npos) << text;
  EXPECT_EQ(out.find("secret"), std::string::npos);
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, 'T').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'C', "SELECT 1").action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);

  // SQL PREPARE of such a text: the client's view as of the PREPARE (the server runs it under a
  // pgopt_* name, where the bare view would list every client's statements and texts).
  out = send(t, {query("PREPARE sqlview AS SELECT name, statement FROM pg_prepared_statements")});
  EXPECT_NE(out.find("PREPARE pgopt_"), std::string::npos) << out;
  EXPECT_NE(out.find("WHERE name !~ '^pgopt_'"), std::string::npos) << out;
  EXPECT_NE(out.find("('later', 'SELECT 2', "), std::string::npos) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos);
  EXPECT_EQ(reply(t, 'C', "PREPARE").action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  ASSERT_NE(t.statement_for("sqlview"), nullptr);

  // A text the server refuses at its Parse leaves no name behind, as directly.
  out = send(t, {parse("bad", "SELECT nope FROM pg_prepared_statements"), sync()});
  EXPECT_EQ(describe_stream(out), "P() S");
  EXPECT_EQ(reply(t, 'E', error_body("42703")).action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_EQ(t.statement_for("bad"), nullptr);
  EXPECT_TRUE(t.idle());
}

// A named statement whose text is DEALLOCATE / PREPARE / EXECUTE (psycopg prepares any text it runs
// prepare_threshold times, or with prepare=True): never prepared on the server, where it would act
// on pgopt_* names; each Execute of it acts on the client's names, as each Execute does directly.
TEST_F(PreparedTracker, NamedStatementsOfPrepareExecuteDeallocateActOnTheClientsNames) {
  Tracker t(registry), other(registry);
  prepare(t, "mine", "SELECT 1");
  const std::string shared = t.statement_for("mine")->server_name;
  std::string out = send(t, {parse("d", "DEALLOCATE mine"), sync()});
  EXPECT_EQ(describe_stream(out), "C(pgopt_none) S");  // answered as a Parse the server has
  EXPECT_EQ(reply(t, '3').action, ReplyAction::Skip);
  auto d = reply(t, 'Z', "I");
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), msg('1', "") + msg('Z', "I"));
  EXPECT_EQ(server.size(), 1u);

  out = send(t, {bind("d"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "P() B() E S");
  EXPECT_EQ(parse_text(out), "");
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);  // the client sent no Parse
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
  d = reply(t, 'I');
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), complete("DEALLOCATE"));
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  EXPECT_EQ(t.statement_for("mine"), nullptr);
  EXPECT_EQ(server.size(), 1u);  // the shared statement stays for everyone else

  // Run again: "mine" is gone, so PostgreSQL's own 26000 naming it.
  out = send(t, {bind("d"), execute(), sync()});
  EXPECT_EQ(parse_text(out), "DEALLOCATE mine");
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'E', error_body("26000")).action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);

  // PREPARE by a named statement: the server runs it under a shared name, the client gets "mine".
  out = send(t, {parse("p", "PREPARE mine AS SELECT 1"), bind("p"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "C(pgopt_none) P() B() E S");
  auto sql_stmt = registry.intern_sql("PREPARE ", " AS SELECT 1");
  EXPECT_EQ(parse_text(out), "PREPARE " + sql_stmt->server_name + " AS SELECT 1");
  EXPECT_EQ(reply(t, '3').action, ReplyAction::Skip);  // ParseComplete held for the next reply
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);
  d = reply(t, '2');
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), msg('1', "") + msg('2', ""));
  EXPECT_EQ(reply(t, 'C', "PREPARE").action, ReplyAction::Forward);
  reply(t, 'Z', "I");
  EXPECT_EQ(t.statement_for("mine"), sql_stmt.get());
  EXPECT_EQ(server.size(), 2u);

  // EXECUTE by a named statement (and its Describe) runs the shared statement.
  out = send(t, {parse("e", "EXECUTE mine"), describe_stmt("e"), bind("e"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "C(pgopt_none) P() D() P() B() E S");
  EXPECT_EQ(parse_text(out), "EXECUTE " + t.statement_for("mine")->server_name);
  for (char c : {'3', '1'}) EXPECT_EQ(reply(t, c).action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, 't').action, ReplyAction::Replace);  // after the held ParseComplete
  EXPECT_EQ(reply(t, 'T').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, '1').action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'D').action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'C', "SELECT 1").action, ReplyAction::Forward);
  EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);

  // DEALLOCATE ALL by a named statement: all the client's names, itself included; the server's
  // statements stay.
  out = send(t, {parse("a", "DEALLOCATE ALL"), bind("a"), execute(), sync()});
  EXPECT_EQ(parse_text(out), "");
  for (char c : {'3', '1'}) EXPECT_EQ(reply(t, c).action, ReplyAction::Skip);
  EXPECT_EQ(reply(t, '2').action, ReplyAction::Replace);
  d = reply(t, 'I');
  ASSERT_EQ(d.action, ReplyAction::Replace);
  EXPECT_EQ(std::string(d.replacement), complete("DEALLOCATE ALL"));
  reply(t, 'Z', "I");
  EXPECT_EQ(t.name_count(), 0u);
  EXPECT_EQ(server.size(), 2u);
  EXPECT_TRUE(t.idle());

  // The pooler's names stay out of reach of these too.
  out = send(other, {parse("x", "DEALLOCATE " + shared), sync()});
  EXPECT_EQ(describe_stream(out), "P(pgopt_none) S");
  EXPECT_EQ(reply(other, 'E', error_body("42601")).action, ReplyAction::Replace);
  EXPECT_EQ(reply(other, 'Z', "I").action, ReplyAction::Forward);
}

// An idle client's named Parse of such a text, answered here, is marked as well.
TEST_F(PreparedTracker, LocallyAnsweredNamedDeallocateActsOnTheClientsNames) {
  Tracker t(registry);
  prepare(t, "mine", "SELECT 1");
  std::vector<proto::Frame> batch;
  std::string p = parse("d", "DEALLOCATE mine"), s = sync();
  batch = {frame(p), frame(s)};
  ASSERT_TRUE(Tracker::can_answer_locally(batch));
  std::string local;
  t.answer_locally(batch, local);
  EXPECT_EQ(local, msg('1', "") + msg('Z', "I"));
  std::string out = send(t, {bind("d"), execute(), sync()});
  EXPECT_EQ(parse_text(out), "");
  reply(t, '1');
  reply(t, '2');
  EXPECT_EQ(reply(t, 'I').action, ReplyAction::Replace);
  reply(t, 'Z', "I");
  EXPECT_EQ(t.statement_for("mine"), nullptr);
}

// Which server replies count as a schema change (server_statements.hpp), for every server of the
// database: an outdated copy is one prepared before the change and not used since the last Sync.
TEST(SchemaEpoch, DropAlterAndUndoneCreatesOutdateStatements) {
  StatementRegistry registry;
  auto stmt = registry.intern("SELECT $1::prepenum", {});
  struct Case {
    std::vector<std::string> replies;  // "C:tag", "E", "Z:status"
    bool outdated;
  };
  const std::vector<Case> cases = {
      {{"C:SELECT 1", "Z:I"}, false},
      {{"C:DROP TYPE", "Z:I"}, true},
      {{"C:BEGIN", "C:ALTER TABLE", "Z:T"}, true},
      {{"C:BEGIN", "C:CREATE TYPE", "C:CREATE TABLE", "Z:T", "C:COMMIT", "Z:I"}, false},
      {{"C:BEGIN", "C:CREATE TYPE", "Z:T"}, false},  // nobody else sees it yet, nothing is gone
      {{"C:BEGIN", "C:CREATE TYPE", "Z:T", "C:ROLLBACK", "Z:I"}, true},
      {{"C:CREATE TYPE", "E", "Z:I"}, true},  // a failed implicit transaction undid it
      {{"C:SAVEPOINT", "C:CREATE TYPE", "C:ROLLBACK", "Z:T"}, true},  // ROLLBACK TO SAVEPOINT
      {{"C:ROLLBACK", "Z:I"}, false},
      {{"E", "Z:I"}, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto epoch = registry.schema_epoch("db" + std::to_string(i));
    ServerStatements user, ddl;  // two server connections to the same database
    user.watch(epoch);
    ddl.watch(epoch);
    std::vector<StatementPtr> none;
    user.add(stmt, 10, none);
    user.next_group();
    for (const auto& r : cases[i].replies) {
      if (r == "E") ddl.on_error();
      else if (r.starts_with("C:")) ddl.on_command_complete(r.substr(2));
      else ddl.on_ready(r[2]);
    }
    EXPECT_EQ(user.outdated(*stmt), cases[i].outdated) << "case " << i;
    EXPECT_EQ(user.has(*stmt), !cases[i].outdated) << "case " << i;
  }
  // Another database's changes are not this one's.
  ServerStatements other;
  other.watch(registry.schema_epoch("elsewhere"));
  std::vector<StatementPtr> none;
  other.add(stmt, 10, none);
  other.next_group();
  ServerStatements ddl;
  ddl.watch(registry.schema_epoch("db1"));
  ddl.on_command_complete("DROP TABLE");
  EXPECT_FALSE(other.outdated(*stmt));
}

TEST(SchemaEpoch, CopyUsedInTheCurrentGroupOrUnwatchedIsNeverOutdated) {
  StatementRegistry registry;
  auto stmt = registry.intern("SELECT 1", {});
  std::vector<StatementPtr> none;
  ServerStatements unwatched;
  unwatched.add(stmt, 10, none);
  unwatched.next_group();
  unwatched.on_command_complete("DROP TYPE");
  EXPECT_FALSE(unwatched.outdated(*stmt));

  ServerStatements s;
  s.watch(registry.schema_epoch("db"));
  s.add(stmt, 10, none);
  const std::string tag("DROP TYPE\0", 10);  // as the relay passes a CommandComplete's body
  s.on_server_message('C', bytes_of(tag));
  EXPECT_FALSE(s.outdated(*stmt));  // a portal of this group may still use it
  s.next_group();
  EXPECT_TRUE(s.outdated(*stmt));
  EXPECT_FALSE(s.has(*stmt));
  // A Close of it that never ran puts it back, still outdated.
  s.restore_outdated(stmt);
  EXPECT_TRUE(s.outdated(*stmt));
  s.add(stmt, 10, none);  // prepared again: current
  s.next_group();
  EXPECT_FALSE(s.outdated(*stmt));
  EXPECT_EQ(s.reprepares, 2u);
}

// psycopg's test_change_type inside one transaction block: the client's statement names a type
// that a DROP made stale. Its next Bind re-prepares the shared statement under the same name first,
// so the server never runs the stale copy (whose XX000 would abort the client's transaction).
TEST_F(PreparedTracker, StatementPreparedBeforeASchemaChangeIsPreparedAgainBeforeUse) {
  server.watch(registry.schema_epoch("db"));
  Tracker a(registry);
  prepare(a, "ins", "INSERT INTO preptable (bar) VALUES ($1::prepenum[])");
  const std::string name = a.statement_for("ins")->server_name;
  EXPECT_EQ(describe_stream(send(a, {bind("ins"), execute(), sync()})), "B(" + name + ") E S");
  for (char t : {'2', 'C', 'Z'}) reply(a, t, t == 'C' ? z("INSERT 0 1") : t == 'Z' ? "T" : "");
  // Another server of the database (another client) drops the type; the transaction goes on.
  ServerStatements other;
  other.watch(registry.schema_epoch("db"));
  other.on_command_complete("DROP TYPE");
  std::string out = send(a, {bind("ins"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "C(" + name + ") P(" + name + ") B(" + name + ") E S");
  EXPECT_EQ(reply(a, '3').action, ReplyAction::Skip);
  EXPECT_EQ(reply(a, '1').action, ReplyAction::Skip);
  EXPECT_EQ(reply(a, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(a, 'C', z("INSERT 0 1")).action, ReplyAction::Forward);
  EXPECT_EQ(reply(a, 'Z', "T").action, ReplyAction::Forward);
  EXPECT_TRUE(a.idle());
  // Once prepared again it is current: no more Closes.
  EXPECT_EQ(describe_stream(send(a, {bind("ins"), execute(), sync()})), "B(" + name + ") E S");
  for (char t : {'2', 'C', 'Z'}) reply(a, t, t == 'C' ? z("INSERT 0 1") : t == 'Z' ? "T" : "");

  // A new client's Parse of the same text after another change: the Parse goes to the server (not
  // answered as one of a statement the server has), after the Close of the old copy.
  other.on_command_complete("ALTER TYPE");
  Tracker b(registry);
  out = send(b, {parse("p", "INSERT INTO preptable (bar) VALUES ($1::prepenum[])"), sync()});
  EXPECT_EQ(describe_stream(out), "C(" + name + ") P(" + name + ") S");
  EXPECT_EQ(reply(b, '3').action, ReplyAction::Skip);
  EXPECT_EQ(reply(b, '1').action, ReplyAction::Forward);
  EXPECT_EQ(reply(b, 'Z', "T").action, ReplyAction::Forward);
  EXPECT_EQ(b.statement_for("p")->server_name, name);
}

// The Close of an outdated copy that the server skips (an earlier error in the group) leaves the
// copy on the server: it is still known there, and still outdated.
TEST_F(PreparedTracker, SkippedCloseOfAnOutdatedCopyKeepsItOutdated) {
  server.watch(registry.schema_epoch("db"));
  Tracker a(registry);
  prepare(a, "s", "SELECT $1::prepenum");
  const std::string name = a.statement_for("s")->server_name;
  server.on_command_complete("DROP TYPE");
  server.next_group();
  std::string out = send(a, {parse("", "SELEC"), bind("s"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "P() C(" + name + ") P(" + name + ") B(" + name + ") E S");
  EXPECT_EQ(reply(a, 'E', error_body("42601")).action, ReplyAction::Forward);
  EXPECT_EQ(reply(a, 'Z', "I").action, ReplyAction::Forward);
  out = send(a, {bind("s"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "C(" + name + ") P(" + name + ") B(" + name + ") E S");
}

}  // namespace
}  // namespace pgopt::pooler::prepared
