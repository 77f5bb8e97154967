// The prepared-statement tracker (issue 22): errors before the Sync, statement commands by the
// extended protocol, pooled names out of the clients' reach, and the client's own statement view.
#include "prepared_tracker_support.hpp"

namespace pgopt::pooler::prepared::test {
namespace {

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

}  // namespace
}  // namespace pgopt::pooler::prepared::test
