// The result cache through the relay (issue 21, docs/result-cache.md) on the real cluster: hits
// served without a server, invalidation by writes through the pooler at commit (and not on
// rollback), none inside a transaction block, the extended protocol with its Bind values in the key,
// the key separating users, search_path and output settings, TTL expiry, the cache off by default,
// and the admin console's and /metrics' view.
// A write made directly on the primary is how a test tells a cached answer from a fresh one: the
// pooler does not see it, so only a hit can still give the old value.
#include "admin_harness.hpp"
#include "harness.hpp"
#include "http_client.hpp"

namespace pgopt::test {
namespace {

// `db_extra`: more [databases.pgopt_test] lines.
PoolerOptions cache_options(const std::string& cache_toml, const std::string& db_extra = "") {
  PoolerOptions o;
  o.pooler_extra = "admin_users = [\"postgres\"]\n";
  o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " +
                std::to_string(ClusterEnv::instance().primary_port) + "\n" + db_extra +
                "\n[cache]\nenabled = true\n" + cache_toml;
  return o;
}

// One-shot extended-protocol read (Parse, Bind, Describe, Execute, Sync): the first column of the
// first row, "<error SQLSTATE>" on failure. `binary`: results in binary format.
std::string value_params(PGconn* c, const std::string& sql, const std::vector<const char*>& params,
                         bool binary = false) {
  Result r(PQexecParams(c, sql.c_str(), int(params.size()), nullptr, params.data(), nullptr, nullptr, binary ? 1 : 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return "<error " + sqlstate(r.get()) + ">";
  if (PQntuples(r.get()) == 0) return {};
  return std::string(PQgetvalue(r.get(), 0, 0), size_t(PQgetlength(r.get(), 0, 0)));
}

// Counters of one SHOW CACHE row, by rule name.
std::map<std::string, std::string> cache_row(const Pooler& p, const std::string& rule) {
  Conn adm = admin(p);
  auto rows = show(adm.get(), "SHOW CACHE").where({{"rule", rule}});
  return rows.empty() ? std::map<std::string, std::string>{} : rows.front();
}
int counter(const Pooler& p, const std::string& rule, const std::string& column) {
  auto row = cache_row(p, rule);
  return row.count(column) ? std::atoi(row[column].c_str()) : -1;
}

class ResultCache : public ::testing::Test {
 protected:
  void SetUp() override {
    Conn d = direct();
    ok(d.get(), "DROP TABLE IF EXISTS cache_t; CREATE TABLE cache_t (id int PRIMARY KEY, v text)");
    ok(d.get(), "INSERT INTO cache_t VALUES (1, 'a'), (2, 'b')");
  }
  void TearDown() override {
    Conn d = direct();
    ok(d.get(), "DROP TABLE IF EXISTS cache_t");
  }
  static constexpr const char* kRule = "[[cache.rules]]\nname = \"t\"\ntables = [\"cache_t\"]\nttl = \"60s\"\n";
  static constexpr const char* kRead = "SELECT v FROM cache_t WHERE id = 1";
  static void direct_set(const std::string& v) {
    Conn d = direct();
    ok(d.get(), "UPDATE cache_t SET v = '" + v + "' WHERE id = 1");
  }
};

TEST_F(ResultCache, HitIsServedWithoutAServer) {
  Pooler p(cache_options(kRule));
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), kRead), "a");  // miss: filled from the primary
  direct_set("z");                         // unseen by the pooler
  EXPECT_EQ(value(c.get(), kRead), "a");  // the cached answer: no server ran it
  EXPECT_EQ(counter(p, "t", "hits"), 1);
  EXPECT_EQ(counter(p, "t", "misses"), 1);
  EXPECT_EQ(counter(p, "t", "entries"), 1);
  // Another text is another key; a statement no rule matches is never cached.
  EXPECT_EQ(value(c.get(), "SELECT v FROM cache_t WHERE id = 1 "), "z");
  const std::string volatile_read = "SELECT v FROM cache_t WHERE id = 1 AND random() >= 0";
  EXPECT_EQ(value(c.get(), volatile_read), "z");
  direct_set("y");
  EXPECT_EQ(value(c.get(), volatile_read), "y");
  // CACHE CLEAR drops it: the next read goes to the server.
  Conn adm = admin(p);
  ok(adm.get(), "CACHE CLEAR");
  EXPECT_EQ(counter(p, "t", "entries"), 0);
  EXPECT_EQ(value(c.get(), kRead), "y");
  EXPECT_EQ(counter(p, "t", "entries"), 1);
}

TEST_F(ResultCache, EveryKindOfWriteThroughThePoolerInvalidates) {
  Pooler p(cache_options(kRule));
  Conn reader = connect_ok(p.conninfo());
  Conn writer = connect_ok(p.conninfo());
  const std::string count = "SELECT count(*) FROM cache_t";
  EXPECT_EQ(value(reader.get(), count), "2");
  ok(writer.get(), "INSERT INTO cache_t VALUES (3, 'c')");
  EXPECT_EQ(value(reader.get(), count), "3");
  EXPECT_EQ(value(reader.get(), kRead), "a");
  ok(writer.get(), "UPDATE cache_t SET v = 'u' WHERE id = 1");
  EXPECT_EQ(value(reader.get(), kRead), "u");
  ok(writer.get(), "DELETE FROM cache_t WHERE id = 3");
  EXPECT_EQ(value(reader.get(), count), "2");
  ok(writer.get(), "TRUNCATE cache_t");
  EXPECT_EQ(value(reader.get(), count), "0");
  // A prepared (extended-protocol) write invalidates too.
  EXPECT_EQ(value(reader.get(), count), "0");
  Result r(PQexecParams(writer.get(), "INSERT INTO cache_t VALUES ($1, 'p')", 1, nullptr,
                        std::vector<const char*>{"7"}.data(), nullptr, nullptr, 0));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQerrorMessage(writer.get());
  EXPECT_EQ(value(reader.get(), count), "1");
  EXPECT_GE(counter(p, "t", "invalidations"), 5);
}

TEST_F(ResultCache, RolledBackWriteDoesNotInvalidate) {
  Pooler p(cache_options(kRule));
  Conn reader = connect_ok(p.conninfo());
  Conn writer = connect_ok(p.conninfo());
  EXPECT_EQ(value(reader.get(), kRead), "a");
  direct_set("z");  // so that only the cached entry still says "a"
  ok(writer.get(), "BEGIN");
  ok(writer.get(), "UPDATE cache_t SET v = 'w' WHERE id = 1");
  ok(writer.get(), "ROLLBACK");
  EXPECT_EQ(value(reader.get(), kRead), "a");
  EXPECT_EQ(counter(p, "t", "invalidations"), 0);
}

TEST_F(ResultCache, WriteInABlockInvalidatesAtCommit) {
  Pooler p(cache_options(kRule));
  Conn reader = connect_ok(p.conninfo());
  Conn writer = connect_ok(p.conninfo());
  EXPECT_EQ(value(reader.get(), kRead), "a");
  ok(writer.get(), "BEGIN");
  ok(writer.get(), "UPDATE cache_t SET v = 'w' WHERE id = 1");
  EXPECT_EQ(value(reader.get(), kRead), "a");  // not committed: the entry still holds
  EXPECT_EQ(counter(p, "t", "invalidations"), 0);
  ok(writer.get(), "COMMIT");
  EXPECT_EQ(counter(p, "t", "invalidations"), 1);  // before the writer heard COMMIT
  EXPECT_EQ(value(reader.get(), kRead), "w");
  EXPECT_EQ(value(writer.get(), kRead), "w");
}

TEST_F(ResultCache, KeySeparatesUsersAndSearchPath) {
  Conn d = direct();
  ok(d.get(),
     "DROP SCHEMA IF EXISTS cache_s1 CASCADE; DROP SCHEMA IF EXISTS cache_s2 CASCADE; "
     "CREATE SCHEMA cache_s1; CREATE SCHEMA cache_s2; "
     "CREATE TABLE cache_s1.cache_k (v text); INSERT INTO cache_s1.cache_k VALUES ('one'); "
     "CREATE TABLE cache_s2.cache_k (v text); INSERT INTO cache_s2.cache_k VALUES ('two'); "
     "GRANT USAGE ON SCHEMA cache_s2 TO trust_user");
  {
    Pooler p(cache_options("[[cache.rules]]\nname = \"k\"\ntables = [\"cache_k\"]\nttl = \"60s\"\n"));
    Conn a = connect_ok(p.conninfo());
    Conn b = connect_ok(p.conninfo());
    Conn u = connect_ok(p.conninfo("trust_user"));
    ok(a.get(), "SET search_path = cache_s1");
    ok(b.get(), "SET search_path = cache_s2");
    ok(u.get(), "SET search_path = cache_s2");
    const std::string read = "SELECT v FROM cache_k";
    EXPECT_EQ(value(a.get(), read), "one");
    EXPECT_EQ(value(b.get(), read), "two");
    EXPECT_EQ(value(a.get(), read), "one");
    EXPECT_EQ(value(b.get(), read), "two");
    // Same text, same search_path, another user, who may not read the table: never b's answer.
    EXPECT_EQ(error_of(u.get(), read), "42501");
    EXPECT_EQ(counter(p, "k", "misses"), 3);
    EXPECT_EQ(counter(p, "k", "hits"), 2);
    EXPECT_EQ(counter(p, "k", "entries"), 2);
    // The same session as another role: not a's answer either.
    // (cache_s1 is not trust_user's to search: the name does not resolve for it.)
    ok(a.get(), "SET ROLE trust_user");
    EXPECT_EQ(error_of(a.get(), read), "42P01");
    ok(a.get(), "RESET ROLE");
    EXPECT_EQ(value(a.get(), read), "one");
    EXPECT_EQ(counter(p, "k", "hits"), 3);
  }
  ok(d.get(), "DROP SCHEMA cache_s1 CASCADE; DROP SCHEMA cache_s2 CASCADE");
}

TEST_F(ResultCache, HintedStatementExpiresAfterItsTtl) {
  Pooler p(cache_options(""));  // no rules: only the hint opts in
  Conn c = connect_ok(p.conninfo());
  const std::string read = "/* pgopt:cache ttl=300ms */ SELECT v FROM cache_t WHERE id = 2";
  EXPECT_EQ(value(c.get(), read), "b");
  EXPECT_EQ(counter(p, "hint", "entries"), 1);
  Conn d = direct();
  ok(d.get(), "UPDATE cache_t SET v = 'y' WHERE id = 2");
  EXPECT_TRUE(eventually([&] { return value(c.get(), read) == "y"; }));
  EXPECT_GE(counter(p, "hint", "expirations"), 1);
  // Without the hint the statement is not cached at all.
  EXPECT_EQ(value(c.get(), "SELECT v FROM cache_t WHERE id = 2"), "y");
}

TEST_F(ResultCache, NotUsedInsideATransactionBlock) {
  Pooler p(cache_options(kRule));
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), kRead), "a");
  direct_set("z");
  EXPECT_EQ(value(c.get(), kRead), "a");  // between transactions: the cached answer
  ok(c.get(), "BEGIN");
  EXPECT_EQ(value(c.get(), kRead), "z");  // inside a block: the server's
  ok(c.get(), "COMMIT");
  ok(c.get(), "BEGIN READ ONLY");
  EXPECT_EQ(value(c.get(), kRead), "z");
  ok(c.get(), "COMMIT");
  EXPECT_EQ(counter(p, "t", "hits"), 1);
  // Nor filled from inside one: there the answer may show the block's own uncommitted writes.
  const std::string other = "SELECT v FROM cache_t WHERE id = 2";
  ok(c.get(), "BEGIN");
  ok(c.get(), "UPDATE cache_t SET v = 'own' WHERE id = 2");
  EXPECT_EQ(value(c.get(), other), "own");
  ok(c.get(), "ROLLBACK");
  EXPECT_EQ(value(c.get(), other), "b");
  EXPECT_EQ(value(c.get(), other), "b");
  EXPECT_EQ(counter(p, "t", "hits"), 2);
}

TEST_F(ResultCache, ExtendedProtocolKeysOnBindValues) {
  Pooler p(cache_options(kRule));
  Conn c = connect_ok(p.conninfo());
  const std::string read = "SELECT v FROM cache_t WHERE id = $1";
  EXPECT_EQ(value_params(c.get(), read, {"1"}), "a");
  EXPECT_EQ(value_params(c.get(), read, {"2"}), "b");
  Conn d = direct();
  ok(d.get(), "UPDATE cache_t SET v = v || '2'");  // unseen by the pooler
  EXPECT_EQ(value_params(c.get(), read, {"1"}), "a");  // each value its own entry
  EXPECT_EQ(value_params(c.get(), read, {"2"}), "b");
  EXPECT_EQ(counter(p, "t", "hits"), 2);
  EXPECT_EQ(counter(p, "t", "misses"), 2);
  // Binary results are another key.
  EXPECT_EQ(value_params(c.get(), read, {"1"}, true), "a2");
  // A named statement of the same text is the same key: answered after its Bind, no server.
  Result prep(PQprepare(c.get(), "by_id", read.c_str(), 0, nullptr));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  const char* one[] = {"1"};
  Result r(PQexecPrepared(c.get(), "by_id", 1, one, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), "a");
  EXPECT_EQ(counter(p, "t", "hits"), 3);
  // The client's own extended-protocol write: its next read sees it (and the direct one with it).
  EXPECT_EQ(value_params(c.get(), "UPDATE cache_t SET v = $1 WHERE id = 2 RETURNING v", {"w"}), "w");
  EXPECT_EQ(value_params(c.get(), read, {"1"}), "a2");
  EXPECT_EQ(value_params(c.get(), read, {"2"}), "w");
  EXPECT_EQ(value_params(c.get(), read, {"3"}), "");  // no row is an answer too
  EXPECT_EQ(value_params(c.get(), read, {"x"}), "<error 22P02>");  // an error is never kept
  EXPECT_EQ(value_params(c.get(), read, {"x"}), "<error 22P02>");
}

TEST_F(ResultCache, KeySeparatesOutputSettings) {
  Conn d = direct();
  ok(d.get(),
     "DROP TABLE IF EXISTS cache_o; CREATE TABLE cache_o (d date, t timestamptz, f float8, b bytea); "
     "INSERT INTO cache_o VALUES ('2026-12-07', '2026-12-07 10:00:00+00', 1.0 / 3, '\\x01ff')");
  {
    Pooler p(cache_options("[[cache.rules]]\nname = \"o\"\ntables = [\"cache_o\"]\nttl = \"60s\"\n"));
    Conn c = connect_ok(p.conninfo());
    struct Case {
      std::string column, setting, a, a_value, b, b_value;
    };
    const Case cases[] = {
        {"d", "DateStyle", "'ISO, MDY'", "2026-12-07", "'German'", "07.12.2026"},
        {"t", "TimeZone", "'UTC'", "2026-12-07 10:00:00+00", "'Asia/Tokyo'", "2026-12-07 19:00:00+09"},
        {"f", "extra_float_digits", "1", "0.3333333333333333", "0", "0.333333333333333"},
        {"b", "bytea_output", "'hex'", "\\x01ff", "'escape'", "\\001\\377"},
    };
    for (const Case& k : cases) {
      const std::string read = "SELECT " + k.column + " FROM cache_o";
      ok(c.get(), "SET " + k.setting + " = " + k.a);
      EXPECT_EQ(value(c.get(), read), k.a_value) << k.setting;
      ok(c.get(), "SET " + k.setting + " = " + k.b);
      EXPECT_EQ(value(c.get(), read), k.b_value) << k.setting << ": another key, not the cached answer";
      ok(c.get(), "SET " + k.setting + " = " + k.a);
      EXPECT_EQ(value(c.get(), read), k.a_value) << k.setting;
    }
    EXPECT_EQ(counter(p, "o", "hits"), 4);
    EXPECT_EQ(counter(p, "o", "misses"), 8);
  }
  ok(d.get(), "DROP TABLE cache_o");
}

TEST_F(ResultCache, WritingFunctionsAndDdlInvalidate) {
  Conn d = direct();
  const std::string body = " RETURNS void LANGUAGE sql AS $$ UPDATE cache_t SET v = v || '+' WHERE id = 1 $$";
  ok(d.get(), "CREATE OR REPLACE FUNCTION cache_bump()" + body);
  ok(d.get(), "CREATE OR REPLACE FUNCTION cache_unknown()" + body);
  {
    Pooler p(cache_options(kRule, "write_functions = [\"cache_bump\"]\n"));
    Conn reader = connect_ok(p.conninfo());
    Conn writer = connect_ok(p.conninfo());
    EXPECT_EQ(value(reader.get(), kRead), "a");
    ok(writer.get(), "SELECT cache_bump()");  // declared writing
    EXPECT_EQ(value(reader.get(), kRead), "a+");
    ok(writer.get(), "SELECT cache_unknown()");  // a user function pgopt knows nothing of
    EXPECT_EQ(value(reader.get(), kRead), "a++");
    // The protocol's FunctionCall names a function by OID only: it may write anything.
    const Oid fn = Oid(std::stoul(value(d.get(), "SELECT 'cache_bump'::regproc::oid")));
    int result = 0, result_len = 0;
    Result call(PQfn(writer.get(), fn, &result, &result_len, 1, nullptr, 0));
    EXPECT_EQ(PQresultStatus(call.get()), PGRES_COMMAND_OK) << PQerrorMessage(writer.get());
    EXPECT_EQ(value(reader.get(), kRead), "a+++");
    ok(writer.get(), "ALTER TABLE cache_t ALTER COLUMN v TYPE varchar(10) USING v || '!'");
    EXPECT_EQ(value(reader.get(), kRead), "a+++!");
    EXPECT_EQ(counter(p, "t", "hits"), 0);
    EXPECT_EQ(counter(p, "t", "invalidations"), 4);
  }
  ok(d.get(), "DROP FUNCTION cache_bump(); DROP FUNCTION cache_unknown()");
}

TEST_F(ResultCache, SessionModeWritesInvalidateAndSessionModeReadsAreNotCached) {
  const std::string port = std::to_string(ClusterEnv::instance().primary_port);
  Pooler p(cache_options(kRule, "\n[databases.cache_session]\nhost = \"127.0.0.1\"\nport = " + port +
                                    "\ndbname = \"pgopt_test\"\npool_mode = \"session\"\n"));
  Conn reader = connect_ok(p.conninfo());
  Conn session = connect_ok(p.conninfo("postgres", "cache_session"));
  EXPECT_EQ(value(reader.get(), kRead), "a");
  ok(session.get(), "UPDATE cache_t SET v = 's' WHERE id = 1");
  EXPECT_EQ(value(reader.get(), kRead), "s");
  EXPECT_EQ(value(session.get(), kRead), "s");
  direct_set("z");
  EXPECT_EQ(value(session.get(), kRead), "z");  // a session-mode client always asks its server
  EXPECT_EQ(counter(p, "t", "hits"), 0);
}

TEST_F(ResultCache, OffByDefault) {
  PoolerOptions o;
  o.pooler_extra = "admin_users = [\"postgres\"]\n";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  const std::string read = "/* pgopt:cache ttl=60s */ SELECT v FROM cache_t WHERE id = 1";
  EXPECT_EQ(value(c.get(), read), "a");
  direct_set("z");
  EXPECT_EQ(value(c.get(), read), "z");
  Conn adm = admin(p);
  EXPECT_TRUE(show(adm.get(), "SHOW CACHE").rows.empty());
}

TEST_F(ResultCache, CacheClearOneRule) {
  Pooler p(cache_options(kRule));
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), kRead), "a");
  EXPECT_EQ(value(c.get(), "/* pgopt:cache ttl=60s */ SELECT 41 + 1"), "42");  // no rule's table: the hint's
  EXPECT_EQ(counter(p, "t", "entries"), 1);
  EXPECT_EQ(counter(p, "hint", "entries"), 1);
  Conn adm = admin(p);
  ok(adm.get(), "CACHE CLEAR t");
  EXPECT_EQ(counter(p, "t", "entries"), 0);
  EXPECT_EQ(counter(p, "hint", "entries"), 1);
  direct_set("z");
  EXPECT_EQ(value(c.get(), kRead), "z");
  ok(adm.get(), "CACHE CLEAR hint");
  EXPECT_EQ(counter(p, "hint", "entries"), 0);
  EXPECT_EQ(counter(p, "t", "entries"), 1);
  EXPECT_EQ(error_of(adm.get(), "CACHE CLEAR nope"), "42704");
}

TEST_F(ResultCache, MetricsCountPerRule) {
  PoolerOptions o = cache_options(kRule);
  const int port = quiet_port();
  o.pooler_extra += "metrics_port = " + std::to_string(port) + "\n";
  Pooler p(o);
  ASSERT_TRUE(eventually([&] { return port_open(port); })) << p.log();
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), kRead), "a");
  EXPECT_EQ(value(c.get(), kRead), "a");
  ok(c.get(), "UPDATE cache_t SET v = 'x' WHERE id = 1");
  const std::string page = "\n" + get(port, "/metrics").body;
  EXPECT_EQ(metric(page, "pgopt_cache_hits_total{rule=\"t\"}"), 1) << page;
  EXPECT_EQ(metric(page, "pgopt_cache_misses_total{rule=\"t\"}"), 1);
  EXPECT_EQ(metric(page, "pgopt_cache_invalidations_total{rule=\"t\"}"), 1);
  EXPECT_EQ(metric(page, "pgopt_cache_entries{rule=\"t\"}"), 0);
  EXPECT_EQ(metric(page, "pgopt_cache_entries{rule=\"hint\"}"), 0);
}

TEST_F(ResultCache, SetPgoptCacheOffBypassesItForThatClientOnly) {
  Pooler p(cache_options(kRule));
  Conn c = connect_ok(p.conninfo());
  Conn other = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), "SHOW pgopt.cache"), "on");
  EXPECT_EQ(value(c.get(), kRead), "a");  // filled
  direct_set("z");
  EXPECT_EQ(value(c.get(), kRead), "a");  // a hit
  ok(c.get(), "SET pgopt.cache = off");
  EXPECT_EQ(value(c.get(), "SHOW pgopt.cache"), "off");
  EXPECT_EQ(value(c.get(), kRead), "z");      // not looked up
  EXPECT_EQ(value(other.get(), kRead), "a");  // another client still gets the entry
  // Wrong values are refused and change nothing; SET LOCAL has no meaning for it.
  EXPECT_EQ(error_of(c.get(), "SET pgopt.cache = sometimes"), "22023");
  EXPECT_EQ(error_of(c.get(), "SET LOCAL pgopt.cache = on"), "0A000");
  EXPECT_EQ(error_of(c.get(), "SET pgopt.cache = on; SELECT 1"), "0A000");
  EXPECT_EQ(value(c.get(), "SHOW pgopt.cache"), "off");
  EXPECT_EQ(value(c.get(), kRead), "z");
  ok(c.get(), "RESET pgopt.cache");
  EXPECT_EQ(value(c.get(), kRead), "a");  // on again: the entry other clients kept
  ok(c.get(), "SET pgopt.cache TO 'OFF'");
  EXPECT_EQ(value(c.get(), kRead), "z");
  ok(c.get(), "DISCARD ALL");  // like RESET ALL, the pooler's settings go back to their defaults
  EXPECT_EQ(value(c.get(), "SHOW pgopt.cache"), "on");
  // A client with the cache off still invalidates with its writes.
  ok(c.get(), "SET pgopt.cache = false");
  ok(c.get(), "UPDATE cache_t SET v = 'w' WHERE id = 1");
  EXPECT_EQ(value(other.get(), kRead), "w");
}

TEST_F(ResultCache, MalformedHintIsReportedAndTheStatementRunsUncached) {
  Pooler p(cache_options(""));  // hints only
  Conn c = connect_ok(p.conninfo());
  std::vector<std::string> notices;
  PQsetNoticeReceiver(
      c.get(),
      [](void* arg, const PGresult* r) {
        const char* sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
        const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        static_cast<std::vector<std::string>*>(arg)->push_back(std::string(sev ? sev : "") + ": " + (msg ? msg : ""));
      },
      &notices);
  const std::string bad = "/* pgopt:cache ttl=5parsecs */ SELECT v FROM cache_t WHERE id = 1";
  EXPECT_EQ(value(c.get(), bad), "a");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_TRUE(notices[0].starts_with("WARNING: pgopt: the statement's cache hint is not valid")) << notices[0];
  direct_set("z");
  EXPECT_EQ(value(c.get(), bad), "z");  // never cached
  EXPECT_EQ(notices.size(), 2u);
  // A good hint gives no warning.
  EXPECT_EQ(value(c.get(), "/* pgopt:cache ttl=5s */ SELECT v FROM cache_t WHERE id = 1"), "z");
  EXPECT_EQ(notices.size(), 2u);
}

// A temporary table that shadows a cached one never lives across the transaction-mode client's
// transactions (the server that has it is reset before anyone else uses it), and inside the block
// that made it nothing is looked up or filled: so its rows reach no other client, and not this one
// later either.
TEST_F(ResultCache, ATemporaryTableThatShadowsACachedOneReachesNoOne) {
  Pooler p(cache_options(kRule));
  Conn a = connect_ok(p.conninfo());
  Conn b = connect_ok(p.conninfo());
  ok(a.get(), "BEGIN");
  ok(a.get(), "CREATE TEMP TABLE cache_t (id int, v text)");
  ok(a.get(), "INSERT INTO cache_t VALUES (1, 'temp')");
  EXPECT_EQ(value(a.get(), kRead), "temp");  // in the block: the server's own answer
  ok(a.get(), "COMMIT");
  EXPECT_EQ(counter(p, "t", "entries"), 0);
  EXPECT_EQ(value(b.get(), kRead), "a");
  // Outside a block (the INSERT names cache_t, so it also invalidates: too much, never too little).
  ok(a.get(), "CREATE TEMP TABLE cache_t (id int, v text); INSERT INTO cache_t VALUES (1, 'temp2')");
  EXPECT_EQ(value(a.get(), kRead), "a");  // refilled from a server without the temporary table
  EXPECT_EQ(counter(p, "t", "hits"), 0);
  EXPECT_EQ(value(b.get(), kRead), "a");
  EXPECT_EQ(counter(p, "t", "hits"), 1);
}

// A hit is recorded as a cache hit of its fingerprint, never as a call: `pgopt analyze` must not
// take a statement the cache answers in microseconds for a cheap one.
TEST_F(ResultCache, CaptureCountsHitsApartFromCalls) {
  Pooler p(cache_options(kRule));  // capture is on by default
  Conn c = connect_ok(p.conninfo());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(value(c.get(), kRead), "a");  // 1 miss, 2 hits
  Conn adm = admin(p);
  auto rows = show(adm.get(), "SHOW QUERIES").rows;
  const auto it = std::find_if(rows.begin(), rows.end(),
                               [](auto& r) { return r["query"] == "SELECT v FROM cache_t WHERE id = $1"; });
  ASSERT_NE(it, rows.end());
  EXPECT_EQ((*it)["calls"], "1");
  EXPECT_EQ((*it)["cache_hits"], "2");
}

}  // namespace
}  // namespace pgopt::test
