// may_have_session_effects(): never false when session_effects() finds something, and false for
// the ordinary traffic it exists to wave through.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sql/session_effects.hpp"

namespace pgopt::sql {
namespace {

TEST(Prefilter, OrdinaryTrafficSkipsTheParser) {
  for (const char* sql : {
           "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
           "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
           "update t set a = 1",
           "UPDATE t\nSET a = 1\nWHERE id = 2",
           "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 2, 3, 4, CURRENT_TIMESTAMP)",
           "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET v = excluded.v",
           "WITH u AS (UPDATE t SET v = 1 RETURNING *) SELECT * FROM u",
           "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v",
           "DELETE FROM t WHERE id = 1",
           "SELECT * FROM t ORDER BY a LIMIT 10 OFFSET 20",
           "SELECT payload, dataset, threshold FROM settings",
           "BEGIN", "COMMIT", "ROLLBACK", "",
           // Calls of built-ins and keywords that take parentheses.
           "SELECT count(*), lower(name), now(), pg_catalog.upper(x) FROM t GROUP BY 2",
           "SELECT coalesce(a, 0), nullif(b, 1), greatest(c, d) FROM t WHERE id IN (1, 2) AND EXISTS (SELECT 1)",
           "SELECT x::numeric(10, 2), CAST(y AS varchar(20)), ARRAY(SELECT 1), ROW(1, 2)",
           "SELECT * FROM t WHERE a = ANY ($1) AND (b OR c) AND NOT (d)",
           "INSERT INTO public.t (a, b) VALUES (1, 2)",
           "SELECT count(*) OVER (PARTITION BY a) FROM t",
           "SELECT 1 /* trailing comment */", "SELECT lower /* c */ (name) FROM t",
       }) {
    EXPECT_FALSE(may_have_session_effects(sql)) << sql;
  }
}

TEST(Prefilter, TriggerWordsInAnyCase) {
  for (const char* sql : {
           "set search_path = a", "SeT x TO 1", "RESET ALL", "listen ch", "LOAD 'x'", "discard all",
           "PREPARE p AS SELECT 1", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "CREATE TEMP TABLE t()",
           "CREATE TEMPORARY TABLE t()", "CREATE TABLE pg_temp.t()", "SELECT 1 INTO TEMP t",
           "SELECT PG_ADVISORY_LOCK(1)", "select pg_catalog.set_config('a','b',false)",
           "SELECT \"pg_try_advisory_lock\"(1)", "SELECT U&\"\\0070g_advisory_lock\"(1)",
           // Code the pooler cannot read: user functions, DO, CALL, EXECUTE, and code definitions.
           "SELECT set_tenant('A')", "SELECT app.lower(x)", "SELECT public.now()", "SELECT \"MyFunc\"(1)",
           "SELECT my$func(1)", "SELECT f /* c */ (1)", "SELECT f\n(1)", "do $$ begin end $$",
           "/* c */ DO $$BEGIN END$$", "SELECT 1; DO $$BEGIN END$$", "CALL p()", "EXECUTE q(1)",
           "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "CREATE PROCEDURE p() LANGUAGE sql AS ''",
           "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION f()", "CREATE RULE r AS ON INSERT TO t DO NOTHING",
       }) {
    EXPECT_TRUE(may_have_session_effects(sql)) << sql;
  }
}

// A SET statement after UPDATE in the same string must still be seen, however the text between
// them is dressed up.
TEST(Prefilter, UpdateOnlyExcusesTheSetOfItsOwnStatement) {
  for (const char* sql : {
           "UPDATE t SET a = 1; SET search_path = a",
           "UPDATE t SET a = ';'; SET search_path = a",
           "/* update */ SET search_path = a",
           "-- update\nSET search_path = a",
           "/* /* update */ still a comment: update */ SET search_path = a",
           "SELECT 1; /* ; update */ SET search_path = a",
           "SELECT '--'; /*\nupdate */ SET search_path = a",
           "SELECT 'update'; SET search_path = a",
           "-- update ; \nSET x = 1",
           "SELECT 2*/*c*/3; /* update */ SET x = 1",
       }) {
    EXPECT_TRUE(may_have_session_effects(sql)) << sql;
    EXPECT_TRUE(session_effects(sql).any()) << "test case lost its effect: " << sql;
  }
}

// Property test: every statement with effects keeps being detected when wrapped in comments,
// surrounded by other statements, or re-cased.
TEST(Prefilter, DecoratedEffectStatementsAreAlwaysCaught) {
  const std::vector<std::string> effects = {
      "SET search_path = a", "RESET role", "LISTEN x", "DISCARD ALL", "PREPARE p AS SELECT 1",
      "LOAD 'auto_explain'", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "CREATE TEMP TABLE t (a int)",
      "SELECT pg_advisory_lock(1)", "SELECT set_config('a.b', 'c', false)", "SET ROLE r",
      "SET SESSION AUTHORIZATION u", "CREATE TABLE pg_temp.t (a int)", "SELECT 1 INTO TEMP t",
  };
  const std::vector<std::pair<std::string, std::string>> wrappers = {
      {"", ""},
      {"/* update */ ", ""},
      {"-- update\n", ""},
      {"UPDATE t SET a = 1;\n", ""},
      {"UPDATE t SET a = 'x;y'; ", "; UPDATE t SET b = 2"},
      {"/* a /* nested update */ b */\n", " -- trailing"},
      {"SELECT '/*'; ", ""},
      {"SELECT $$ update $$; ", ""},
  };
  int checked = 0;
  for (const auto& e : effects) {
    for (const auto& [before, after] : wrappers) {
      for (bool upper : {false, true}) {
        std::string stmt = e;
        if (upper)
          for (char& c : stmt) c = char(std::toupper(static_cast<unsigned char>(c)));
        std::string sql = before + stmt + after;
        SessionEffects found = session_effects(sql);
        if (found.parse_failed || !found.any()) continue;
        ++checked;
        EXPECT_TRUE(may_have_session_effects(sql)) << sql;
      }
    }
  }
  EXPECT_GE(checked, 150);
}

}  // namespace
}  // namespace pgopt::sql

namespace pgopt::sql {
namespace {

TEST(WritePrefilter, SeesEveryKindOfWrite) {
  for (const char* sql : {"INSERT INTO t VALUES (1)", "update t set a = 1", "DELETE FROM t", "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE",
                          "COPY t FROM STDIN", "TRUNCATE t", "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"}) {
    EXPECT_TRUE(may_write_tables(sql)) << sql;
  }
  for (const char* sql : {"SELECT * FROM t", "SELECT inserted_at FROM t", "BEGIN", ""}) {
    EXPECT_FALSE(may_write_tables(sql)) << sql;
  }
}

}  // namespace
}  // namespace pgopt::sql

namespace pgopt::sql {
namespace {

TEST(CustomSettingNames, FoundWhereverTheyAreSet) {
  EXPECT_EQ(custom_setting_names("SELECT set_config('app.tenant', 'A', false)"), std::vector<std::string>{"app.tenant"});
  EXPECT_EQ(custom_setting_names("DO $$BEGIN EXECUTE 'SET app.a = ''1'''; PERFORM set_config(''app.b'', ''2'', false); END$$"),
            (std::vector<std::string>{"app.a", "app.b"}));
  EXPECT_EQ(custom_setting_names("set session My.Var to 3"), std::vector<std::string>{"My.Var"});
  EXPECT_TRUE(custom_setting_names("SELECT set_config($1, $2, false)").empty());
  EXPECT_TRUE(custom_setting_names("SET search_path = a; UPDATE t SET x.y = 1").size() <= 1);
  EXPECT_TRUE(custom_setting_names("SELECT offset_config('a.b')").empty());
}

}  // namespace
}  // namespace pgopt::sql
