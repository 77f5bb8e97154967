// The read/write router on SQL text alone: one table of statements, client states and expected
// decisions (every write-in-disguise of issue 5, hints, pgopt.route, transaction rules), then the
// properties a table cannot show (rewritten text, messages, caching).
#include "pooler/routing/hints.hpp"
#include "pooler/routing/router.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace pgopt::pooler::routing {
namespace {

// Client state spec: space-separated words; "" is a client outside a transaction in auto mode.
//   tx (in a transaction block), pending (begin_pending), ro (default_transaction_read_only),
//   ser (default serializable), primary / replica / auto (pgopt.route).
ClientState state(const std::string& spec) {
  ClientState s;
  size_t start = 0;
  while (start < spec.size()) {
    size_t end = spec.find(' ', start);
    if (end == std::string::npos) end = spec.size();
    std::string w = spec.substr(start, end - start);
    if (w == "tx") s.in_transaction = true;
    else if (w == "pending") s.begin_pending = true;
    else if (w == "ro") s.default_read_only = true;
    else if (w == "ser") s.default_serializable = true;
    else if (auto r = parse_route(w)) s.route = *r;
    else ADD_FAILURE() << "unknown state word " << w;
    start = end + 1;
  }
  return s;
}

// "replica read", "primary write", "current inside a transaction block", "consume SET primary",
// "consume SHOW replica", "fail 25006".
std::string describe(const Decision& d) {
  switch (d.action) {
    case Decision::Action::Forward:
      return std::string(to_string(d.target)) + " " + std::string(to_string(d.reason));
    case Decision::Action::Consume:
      return "consume " + std::string(d.command_tag) + " " +
             std::string(d.new_route ? to_string(*d.new_route) : d.show_value);
    case Decision::Action::Fail:
      return "fail " + d.error.sqlstate;
  }
  return "?";
}

struct Case {
  const char* sql;
  const char* state;
  const char* expected;
  const char* options = "";  // "" (defaults), "cfg" (issue 5's function lists), "unknown_reads"
};

// Lets gtest name the statement instead of dumping bytes.
[[maybe_unused]] void PrintTo(const Case& c, std::ostream* os) { *os << c.sql << " [" << c.state << "]"; }

const Case kCases[] = {
    // Plain reads and writes outside a transaction.
    {"SELECT 1", "", "replica read"},
    {"select * from accounts where id = $1", "", "replica read"},
    {"VALUES (1), (2)", "", "replica read"},
    {"TABLE accounts", "", "replica read"},
    {"SHOW search_path", "", "replica read"},
    {"WITH t AS (SELECT 1) SELECT * FROM t", "", "replica read"},
    {"SELECT random(), now(), clock_timestamp()", "", "replica read"},
    {"INSERT INTO t VALUES (1)", "", "primary write"},
    {"UPDATE t SET a = 1", "", "primary write"},
    {"DELETE FROM t", "", "primary write"},
    {"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "", "primary write"},
    {"CREATE TABLE x (a int)", "", "primary write"},
    {"TRUNCATE t", "", "primary write"},
    // Writes in disguise.
    {"SELECT nextval('s')", "", "primary write"},
    {"SELECT setval('s', 10)", "", "primary write"},
    {"SELECT currval('s')", "", "primary write"},
    {"SELECT pg_advisory_lock(1)", "", "primary write"},
    {"SELECT pg_try_advisory_xact_lock(1)", "", "primary write"},
    {"SELECT pg_advisory_unlock_all()", "", "primary write"},
    {"SELECT txid_current()", "", "primary write"},
    {"SELECT pg_current_xact_id()", "", "primary write"},
    {"SELECT lo_create(0)", "", "primary write"},
    {"SELECT lo_unlink(42)", "", "primary write"},
    {"SELECT pg_notify('ch', 'x')", "", "primary write"},
    {"SELECT set_config('search_path', 'x', false)", "", "primary write"},
    {"SELECT set_config('search_path', 'x', true)", "", "replica read"},
    {"CALL do_things()", "", "primary write"},
    {"DO $$BEGIN PERFORM 1; END$$", "", "primary write"},
    {"SELECT * INTO copy_t FROM t", "", "primary write"},
    {"SELECT * FROM t FOR UPDATE", "", "primary write"},
    {"SELECT * FROM t FOR NO KEY UPDATE", "", "primary write"},
    {"SELECT * FROM t FOR SHARE", "", "primary write"},
    {"SELECT * FROM t FOR KEY SHARE SKIP LOCKED", "", "primary write"},
    {"SELECT * FROM (SELECT * FROM t FOR UPDATE) s", "", "primary write"},
    {"LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "", "primary write"},
    {"WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d", "", "primary write"},
    {"WITH u AS (UPDATE t SET a = a + 1 RETURNING a) SELECT * FROM u", "", "primary write"},
    {"EXPLAIN ANALYZE DELETE FROM t", "", "primary write"},
    {"EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", "", "primary write"},
    {"EXPLAIN DELETE FROM t", "", "replica read"},
    {"EXPLAIN ANALYZE SELECT * FROM t", "", "replica read"},
    {"COPY t FROM STDIN", "", "primary write"},
    {"COPY t TO STDOUT", "", "replica read"},
    {"COPY (SELECT * FROM t) TO STDOUT", "", "replica read"},
    {"NOTIFY ch", "", "primary write"},
    {"EXECUTE stmt(1)", "", "primary write"},
    {"VACUUM t", "", "primary maintenance command"},
    {"ANALYZE t", "", "primary maintenance command"},
    // User functions: unknown ones might write; the config lists say otherwise.
    {"SELECT app.price_for(1)", "", "primary write"},
    {"SELECT app.price_for(1)", "", "replica read", "cfg"},
    {"SELECT audit.log_event('x')", "", "primary write", "cfg"},
    {"SELECT log_event('x')", "", "primary write", "cfg"},
    {"SELECT my_func()", "", "replica read", "unknown_reads"},
    {"SELECT nextval('s')", "", "primary write", "unknown_reads"},
    {"SELECT upper(name), count(*) FROM t GROUP BY 1", "", "replica read"},
    // Unparsable text: the primary reports the error.
    {"SELEC 1", "", "primary does not parse"},
    {"SELECT 'unterminated", "", "primary does not parse"},
    {"/* pgopt:replica */ SELEC 1", "", "primary does not parse"},
    // Session state and cursor commands.
    {"SET search_path = app", "", "primary session state"},
    {"SET LOCAL work_mem = '64MB'", "", "primary session state"},
    {"RESET ALL", "", "primary session state"},
    {"LISTEN ch", "", "primary session state"},
    {"DISCARD ALL", "", "primary session state"},
    {"PREPARE p AS SELECT 1", "", "primary session state"},
    {"DECLARE c CURSOR WITH HOLD FOR SELECT 1", "", "primary session state"},
    {"FETCH 10 FROM c", "", "primary cursor command outside a transaction block"},
    {"close c", "", "primary cursor command outside a transaction block"},
    // Transactions: where BEGIN goes decides where the whole transaction runs.
    {"BEGIN", "", "primary read-write transaction"},
    {"START TRANSACTION", "", "primary read-write transaction"},
    {"BEGIN READ WRITE", "", "primary read-write transaction"},
    {"BEGIN READ ONLY", "", "replica read-only transaction"},
    {"begin transaction read only", "", "replica read-only transaction"},
    {"START TRANSACTION READ ONLY", "", "replica read-only transaction"},
    {"START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", "", "replica read-only transaction"},
    {"BEGIN READ ONLY ISOLATION LEVEL SERIALIZABLE", "", "primary serializable isolation"},
    {"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", "", "primary serializable isolation"},
    {"BEGIN", "ro", "replica read-only transaction"},
    {"BEGIN READ WRITE", "ro", "primary read-write transaction"},
    {"BEGIN READ ONLY", "ser", "primary serializable isolation"},
    {"BEGIN READ ONLY; SELECT 1; COMMIT", "", "replica read-only transaction"},
    {"BEGIN; SELECT 1; COMMIT", "", "primary read-write transaction"},
    {"BEGIN; COMMIT; BEGIN READ ONLY", "", "primary read-write transaction"},
    {"BEGIN READ ONLY; SELECT 1; COMMIT; BEGIN", "", "primary read-write transaction"},
    {"BEGIN; SET TRANSACTION READ ONLY; SELECT 1", "", "replica read-only transaction"},
    {"BEGIN; SELECT 1; SET TRANSACTION READ ONLY", "", "primary read-write transaction"},
    {"BEGIN READ ONLY; SELECT 1; COMMIT AND CHAIN", "", "replica read-only transaction"},
    {"BEGIN READ ONLY; INSERT INTO t VALUES (1); COMMIT", "", "primary write"},
    {"COMMIT", "", "primary transaction control"},
    {"ROLLBACK", "", "primary transaction control"},
    {"SAVEPOINT a", "", "primary transaction control"},
    {"PREPARE TRANSACTION 'x'", "", "primary transaction control"},
    {"COMMIT PREPARED 'x'", "", "primary write"},
    {"SET TRANSACTION READ ONLY", "", "primary transaction control"},
    // A bare BEGIN the caller held back: this first statement decides.
    {"SET TRANSACTION READ ONLY", "pending", "replica read-only transaction"},
    {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY", "pending", "primary serializable isolation"},
    {"SET TRANSACTION READ WRITE", "pending", "primary read-write transaction"},
    {"SELECT 1", "pending", "primary read-write transaction"},
    {"SELECT 1", "pending ro", "replica read-only transaction"},
    {"INSERT INTO t VALUES (1)", "pending ro", "primary write"},
    // Held-back BEGIN: the statement is inside the transaction, so hints are ignored.
    {"/* pgopt:replica */ SELECT 1", "pending", "primary read-write transaction"},
    {"/* pgopt:replica */ INSERT INTO t VALUES (1)", "pending", "primary write"},
    {"/* pgopt:primary */ SET TRANSACTION READ ONLY", "pending", "replica read-only transaction"},
    // Client defaults.
    {"SELECT 1", "ser", "primary serializable isolation"},
    {"SELECT 1", "ro", "replica read"},
    // Inside a transaction block nothing is routed.
    {"SELECT 1", "tx", "current inside a transaction block"},
    {"INSERT INTO t VALUES (1)", "tx", "current inside a transaction block"},
    {"/* pgopt:replica */ UPDATE t SET a = 1", "tx", "current inside a transaction block"},
    {"COMMIT", "tx", "current inside a transaction block"},
    // Hints.
    {"/* pgopt:primary */ SELECT 1", "", "primary hint pgopt:primary"},
    {"/*pgopt:replica*/ SELECT 1", "", "replica hint pgopt:replica"},
    {"  /*  PGOPT : Replica  */\nSELECT 1", "", "replica hint pgopt:replica"},
    {"-- app comment\n/* pgopt:primary */ SELECT 1", "", "primary hint pgopt:primary"},
    {"/* app */ /* pgopt:replica */ SELECT 1", "", "replica hint pgopt:replica"},
    {"SELECT /* pgopt:primary */ 1", "", "replica read"},
    {"/* pgopt rocks */ SELECT 1", "", "replica read"},
    {"/* outer /* pgopt:primary */ */ SELECT 1", "", "replica read"},
    {"/* pgopt:replica */ SELECT my_report()", "", "replica hint pgopt:replica"},
    {"/* pgopt:replica */ BEGIN", "", "replica hint pgopt:replica"},
    {"/* pgopt:replica */ SET search_path = app", "", "replica hint pgopt:replica"},
    {"/* pgopt:replica */ INSERT INTO t VALUES (1)", "", "fail 25006"},
    {"/* pgopt:replica */ SELECT nextval('s')", "", "fail 25006"},
    {"/* pgopt:replica */ SELECT * FROM t FOR UPDATE", "", "fail 25006"},
    {"/* pgopt:replica */ SELECT audit.log_event('x')", "", "fail 25006", "cfg"},
    {"/* pgopt:replica */ VACUUM t", "", "fail 25006"},
    {"/* pgopt:primary */ INSERT INTO t VALUES (1)", "", "primary hint pgopt:primary"},
    {"/* pgopt:standby */ SELECT 1", "", "fail 22023"},
    {"/* pgopt:primary */ /* pgopt:replica */ SELECT 1", "", "fail 22023"},
    {"/* pgopt:primary */ /* PGOPT:PRIMARY */ SELECT 1", "", "primary hint pgopt:primary"},
    {"/* pgopt:primary */ SELECT 1", "replica", "primary hint pgopt:primary"},
    {"/* pgopt:replica */ SELECT 1", "primary", "replica hint pgopt:replica"},
    // The session's pgopt.route.
    {"SELECT 1", "primary", "primary pgopt.route = primary"},
    {"INSERT INTO t VALUES (1)", "replica", "fail 25006"},
    {"SELECT 1", "replica", "replica pgopt.route = replica"},
    {"SELECT my_report()", "replica", "replica pgopt.route = replica"},
    {"BEGIN", "replica", "replica pgopt.route = replica"},
    {"SELECT 1", "auto", "replica read"},
    {"SELEC 1", "replica", "primary does not parse"},
    // SET / RESET / SHOW pgopt.route: answered by the pooler.
    {"SET pgopt.route = 'replica'", "", "consume SET replica"},
    {"SET pgopt.route TO 'primary'", "", "consume SET primary"},
    {"SET pgopt.route TO replica", "", "consume SET replica"},
    // PRIMARY is a reserved word: unquoted, PostgreSQL's grammar (and so the primary) rejects it.
    {"SET pgopt.route TO primary", "", "primary does not parse"},
    {"set PGOPT.ROUTE = 'Auto';", "primary", "consume SET auto"},
    {"SET SESSION pgopt.route = 'primary'", "", "consume SET primary"},
    {"SET pgopt.route TO DEFAULT", "replica", "consume SET auto"},
    {"RESET pgopt.route", "replica", "consume RESET auto"},
    {"SET pgopt.route FROM CURRENT", "replica", "consume SET replica"},
    {"SHOW pgopt.route", "primary", "consume SHOW primary"},
    {"SET pgopt.route = 'replica'", "tx", "consume SET replica"},
    {"/* pgopt:primary */ SET pgopt.route = replica", "", "consume SET replica"},
    {"SET pgopt.route = ' Replica '", "", "consume SET replica"},
    {"SET pgopt.route = 'standby'", "", "fail 22023"},
    {"SET pgopt.route = 1", "", "fail 22023"},
    {"SET pgopt.route = 'primary', 'replica'", "", "fail 42601"},
    {"SET LOCAL pgopt.route = 'primary'", "tx", "fail 0A000"},
    {"SET pgopt.rout = 'primary'", "", "fail 42704"},
    {"SHOW pgopt.nothing", "", "fail 42704"},
    {"SET pgopt.route = 'replica'; SELECT 1", "", "fail 0A000"},
    {"SELECT 1; SET pgopt.route = 'replica'", "", "fail 0A000"},
    {"SELECT 1;\n  -- then\n  SET pgopt.route = 'replica'", "", "fail 0A000"},
    {"SELECT 1 ;  \n", "", "replica read"},  // a trailing semicolon is not a second statement
    {"SET pgopt.route = 'primary';", "", "consume SET primary"},
    {"SELECT * FROM pgopt_stats", "", "replica read"},
    {"SET application_name = 'pgopt'", "", "primary session state"},
};

Router& router_for(const std::string& options) {
  static Router plain(RouterOptions{});
  static Router cfg([] {
    RouterOptions o;
    o.write_functions = {"audit.log_event"};
    o.read_only_functions = {"app.price_for"};
    return o;
  }());
  static Router unknown_reads([] {
    RouterOptions o;
    o.unknown_functions_are_reads = true;
    return o;
  }());
  if (options == "cfg") return cfg;
  if (options == "unknown_reads") return unknown_reads;
  EXPECT_EQ(options, "");
  return plain;
}

class RouterTable : public ::testing::TestWithParam<Case> {};

TEST_P(RouterTable, Decides) {
  const Case& c = GetParam();
  Decision d = router_for(c.options).decide(c.sql, state(c.state));
  EXPECT_EQ(describe(d), c.expected) << c.sql << " [" << c.state << "]"
                                     << (d.action == Decision::Action::Fail ? " error: " + d.error.message : "");
  // Whatever the decision, no hint ever reaches a server.
  if (d.action == Decision::Action::Forward && d.rewritten) {
    EXPECT_EQ(d.rewritten->find("pgopt:"), std::string::npos) << *d.rewritten;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, RouterTable, ::testing::ValuesIn(kCases));

TEST(RouterTableSize, CoversEnoughCases) { EXPECT_GE(std::size(kCases), 150u); }

// ---- properties beyond the table --------------------------------------------------------------

TEST(Router, HintIsBlankedKeepingOffsets) {
  Router r({});
  const std::string sql = "/* pgopt:replica */\nSELECT 1";
  Decision d = r.decide(sql, {});
  ASSERT_TRUE(d.rewritten);
  EXPECT_EQ(*d.rewritten, std::string(19, ' ') + "\nSELECT 1");
  EXPECT_EQ(d.rewritten->size(), sql.size());
  EXPECT_EQ(d.hint, Hint::Replica);
  EXPECT_TRUE(d.forced());
}

TEST(Router, OtherCommentsStayAndOnlyHintsGo) {
  Router r({});
  Decision d = r.decide("/* app:checkout */ /* pgopt:primary */ SELECT 1", {});
  ASSERT_TRUE(d.rewritten);
  EXPECT_EQ(*d.rewritten, "/* app:checkout */                     SELECT 1");
}

TEST(Router, MultiLineHintKeepsLineBreaks) {
  Router r({});
  Decision d = r.decide("/*\n pgopt:primary\n*/SELECT 1", {});
  ASSERT_TRUE(d.rewritten);
  EXPECT_EQ(*d.rewritten, "  \n              \n  SELECT 1");
  EXPECT_EQ(d.target, Target::Primary);
}

TEST(Router, HintInsideATransactionIsStrippedToo) {
  Router r({});
  Decision d = r.decide("/* pgopt:replica */ SELECT 1", state("tx"));
  EXPECT_EQ(d.target, Target::Current);
  ASSERT_TRUE(d.rewritten);
  EXPECT_EQ(d.rewritten->find("pgopt"), std::string::npos);
}

TEST(Router, NoHintMeansNoCopy) {
  Router r({});
  Decision d = r.decide("-- just a comment\nSELECT 1", {});
  EXPECT_FALSE(d.rewritten);
  EXPECT_EQ(d.hint, Hint::None);
  EXPECT_FALSE(d.forced());
}

TEST(Router, ReplicaHintOnWriteSaysWhy) {
  Router r({});
  Decision d = r.decide("/* pgopt:replica */ INSERT INTO t VALUES (nextval('s'))", {});
  ASSERT_EQ(d.action, Decision::Action::Fail);
  EXPECT_EQ(d.error.sqlstate, "25006");
  EXPECT_EQ(d.error.message, "cannot route a write to a replica: INSERT");
  EXPECT_NE(d.error.detail.find("/* pgopt:replica */"), std::string::npos);
  EXPECT_FALSE(d.error.hint.empty());
  EXPECT_FALSE(d.rewritten);  // nothing is sent
}

TEST(Router, RouteReplicaOnWriteNamesTheSetting) {
  Router r({});
  Decision d = r.decide("UPDATE t SET a = 1", state("replica"));
  ASSERT_EQ(d.action, Decision::Action::Fail);
  EXPECT_EQ(d.reason, Reason::RouteReplica);
  EXPECT_NE(d.error.detail.find("pgopt.route"), std::string::npos);
}

TEST(Router, InvalidRouteValueReadsLikePostgres) {
  Router r({});
  Decision d = r.decide("SET pgopt.route = 'standby'", {});
  ASSERT_EQ(d.action, Decision::Action::Fail);
  EXPECT_EQ(d.error.message, "invalid value for parameter \"pgopt.route\": \"standby\"");
  EXPECT_EQ(d.error.hint, "Available values: auto, primary, replica.");
  Decision u = r.decide("SET pgopt.rout = 'primary'", {});
  EXPECT_EQ(u.error.message, "unrecognized configuration parameter \"pgopt.rout\"");
}

TEST(Router, BadHintNamesTheWord) {
  Router r({});
  EXPECT_EQ(r.decide("/* pgopt:standby */ SELECT 1", {}).error.message, "unknown pgopt hint \"pgopt:standby\"");
  EXPECT_EQ(r.decide("/* pgopt:primary */ /* pgopt:replica */ SELECT 1", {}).error.message,
            "conflicting pgopt hints: pgopt:primary and pgopt:replica");
}

TEST(Router, CacheHintIsLeftToTheResultCache) {
  // The result cache's hint is not a routing hint and not an unknown one: the statement routes as
  // without it, and a routing hint beside it still counts.
  Router r({});
  EXPECT_TRUE(r.decide("/* pgopt:cache ttl=5s */ SELECT 1", {}).error.message.empty());
  EXPECT_TRUE(r.decide("/* pgopt:CACHE ttl=5s */ /* pgopt:primary */ SELECT 1", {}).error.message.empty());
  EXPECT_EQ(r.decide("/* pgopt:cached */ SELECT 1", {}).error.message, "unknown pgopt hint \"pgopt:cached\"");
  HintScan h = scan_hints("/* pgopt:cache ttl=5s */ /* pgopt:primary */ SELECT 1");
  EXPECT_EQ(h.hint, Hint::Primary);
  EXPECT_TRUE(h.error.empty());
}

TEST(Router, ShowAnswersTheSessionValue) {
  Router r({});
  for (Route route : {Route::Auto, Route::Primary, Route::Replica}) {
    ClientState s;
    s.route = route;
    Decision d = r.decide("SHOW pgopt.route", s);
    EXPECT_EQ(d.action, Decision::Action::Consume);
    EXPECT_EQ(d.command_tag, "SHOW");
    EXPECT_EQ(d.show_value, to_string(route));
    EXPECT_FALSE(d.new_route);
  }
}

TEST(Router, ClassificationExplainsTheDecision) {
  Router r({});
  Decision d = r.decide("WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x", {});
  ASSERT_NE(d.classification, nullptr);
  EXPECT_EQ(d.classification->kind, sql::StatementKind::Write);
  ASSERT_FALSE(d.classification->reasons.empty());
  EXPECT_EQ(d.classification->reasons.front(), "DML in CTE");
  EXPECT_EQ(r.decide("SET pgopt.route = 'primary'", {}).classification, nullptr);
}

TEST(Router, RepeatedStatementsHitTheCache) {
  Router r({});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.decide("SELECT * FROM t WHERE id = $1", {}).target, Target::Replica);
  EXPECT_EQ(r.cache().misses(), 1u);
  EXPECT_EQ(r.cache().hits(), 4u);
  // A hinted statement is cached by the text sent, which is the same for every repetition.
  for (int i = 0; i < 3; ++i) r.decide("/* pgopt:primary */ SELECT 2", {});
  EXPECT_EQ(r.cache().misses(), 2u);
  // Inside a transaction nothing is classified at all.
  r.decide("SELECT 3", state("tx"));
  EXPECT_EQ(r.cache().misses(), 2u);
}

TEST(Router, TransactionDecisionsAreStableAcrossCalls) {
  Router r({});
  // The steps cache must not mix up the client states that change the answer.
  EXPECT_EQ(describe(r.decide("BEGIN; SELECT 1; COMMIT", state("ro"))), "replica read-only transaction");
  EXPECT_EQ(describe(r.decide("BEGIN; SELECT 1; COMMIT", {})), "primary read-write transaction");
  EXPECT_EQ(describe(r.decide("BEGIN; SELECT 1; COMMIT", state("ro"))), "replica read-only transaction");
}

TEST(Route, ParseAndPrint) {
  EXPECT_EQ(parse_route(" Replica "), Route::Replica);
  EXPECT_EQ(parse_route("PRIMARY"), Route::Primary);
  EXPECT_EQ(parse_route("auto"), Route::Auto);
  EXPECT_FALSE(parse_route("replicas"));
  EXPECT_FALSE(parse_route(""));
  for (Route r : {Route::Auto, Route::Primary, Route::Replica}) EXPECT_EQ(parse_route(to_string(r)), r);
}

TEST(Hints, ScanStopsAtTheFirstToken) {
  HintScan s = scan_hints("  -- x\n /* y */ SELECT /* pgopt:primary */ 1");
  EXPECT_EQ(s.hint, Hint::None);
  EXPECT_EQ(s.body, std::string("  -- x\n /* y */ ").size());
  EXPECT_EQ(first_word("  -- x\n /* y */ SELECT 1", s.body), "SELECT");
}

TEST(Hints, UnterminatedCommentIsNotAHint) {
  HintScan s = scan_hints("/* pgopt:primary SELECT 1");
  EXPECT_EQ(s.hint, Hint::None);
  EXPECT_TRUE(s.error.empty());
}

TEST(Hints, LineCommentIsNotAHint) {
  EXPECT_EQ(scan_hints("-- pgopt:primary\nSELECT 1").hint, Hint::None);
}

}  // namespace
}  // namespace pgopt::pooler::routing
