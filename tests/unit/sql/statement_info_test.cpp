// sql::analyze(): the one lexical pass per statement (statement_info.hpp). Tricky cases as a table:
// each row is a text and what every mark and the key must say.
#include "sql/statement_info.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sql/classify.hpp"
#include "sql/cursor_commands.hpp"
#include "sql/prepared_commands.hpp"
#include "sql/session_effects.hpp"

namespace pgopt::sql {
namespace {

constexpr uint16_t S = uint16_t(Mark::SessionEffects), W = uint16_t(Mark::WritesTables),
                   C = uint16_t(Mark::CursorCommand), P = uint16_t(Mark::PreparedCommand),
                   V = uint16_t(Mark::StatementView), G = uint16_t(Mark::PgSettings), Q = uint16_t(Mark::SequenceCall);

struct Case {
  const char* sql;
  uint16_t marks;
  const char* key;  // nullptr: no key
};

std::string show(uint16_t m) {
  std::string out;
  for (auto [bit, name] : {std::pair{S, "session "}, {W, "writes "}, {C, "cursor "}, {P, "prepared "}, {V, "view "},
                           {G, "pg_settings "}, {Q, "sequence "}})
    if (m & bit) out += name;
  return out.empty() ? "none" : out;
}

TEST(StatementInfo, TrickyCases) {
  const Case cases[] = {
      {"SELECT abalance FROM pgbench_accounts WHERE aid = 4711;", 0, "\x01SELECT abalance FROM pgbench_accounts WHERE aid = ?;"},
      {"SELECT abalance FROM pgbench_accounts WHERE aid = $1", 0, "\x01SELECT abalance FROM pgbench_accounts WHERE aid = $1"},
      {"UPDATE t SET a = 1 WHERE id = 2", W, "\x01UPDATE t SET a = ? WHERE id = ?"},
      // SET after UPDATE in the same statement is UPDATE's; after a ';' it is a statement of its own,
      // also when the ';' follows a literal holding an "update" or a comment.
      {"UPDATE t SET a = 1; SET x = 2", S | W, "\x01UPDATE t SET a = ?; SET x = ?"},
      {"SELECT 'update'; SET x = 2", S | W, "\x01SELECT ?; SET x = ?"},
      {"SELECT 1 /* update */; SET x = 2", S | W, "\x01SELECT ? /* update */; SET x = ?"},
      {"-- update\nSET x = 2", S | W, "\x01-- update\nSET x = ?"},
      // A ';' inside a literal ends nothing: the SET is still the UPDATE's.
      {"UPDATE t SET a = ';' , b = 2", W, "\x01UPDATE t SET a = ? , b = ?"},
      // Words inside literals and comments still count for the patterns (old substring gates).
      {"SELECT 'hold me', 'pg_settings'", S | C | G, "\x01SELECT ?, ?"},
      {"SELECT 1 -- threshold", C, "\x01SELECT ? -- threshold"},
      {"SELECT \"unprepared\" FROM x", P, "\x01SELECT \"unprepared\" FROM x"},
      {"SELECT * FROM pg_catalog.pg_prepared_statements", P | V, "\x01SELECT * FROM pg_catalog.pg_prepared_statements"},
      {"SELECT nextval('s')", Q, "\x01SELECT nextval(?)"},
      // Calls: built-ins pass, anything else may change the session.
      {"SELECT lower(x), now() FROM t", 0, "\x01SELECT lower(x), now() FROM t"},
      {"SELECT app.f(1)", S, "\x01SELECT app.f(?)"},
      {"SELECT my$func(1)", S, "\x01SELECT my$func(?)"},
      {"SELECT \"F\" (1)", S, "\x01SELECT \"F\" (?)"},
      {"INSERT INTO t (a) VALUES (1)", W, "\x01INSERT INTO t (a) VALUES (?)"},
      // DO is a statement's first word, wherever the comments put it.
      {"/* c */ DO $$BEGIN END$$", S, nullptr},
      {"SELECT 1; do $$ begin end $$", S, nullptr},
      {"SELECT U&\"\\0070g_advisory_lock\"(1)", S, "\x01SELECT U&\"\\0070g_advisory_lock\"(?)"},
      // Not keyed: literals that change the classification, escapes, dollar quotes, unclosed tokens.
      {"EXPLAIN SELECT 1", 0, nullptr},
      {"SELECT set_config('a', 'b', false)", S, nullptr},
      {"SELECT E'it\\'s', 1", 0, nullptr},
      {"SELECT E'\\'; SET x = 1; --'", S, nullptr},  // one E'' literal: its words still count
      {"SELECT '\\'; SET x = 1; --'", S, "\x01SELECT ?; SET x = ?; --'"},  // standard strings: a SET
      {"SELECT $$ SET x $$", S, nullptr},
      {"SELECT 'unclosed", S | C, nullptr},  // "close" inside a word counts; unclosed: ask the parser
      {"SELECT \"unclosed", S | C, nullptr},
      {"SELECT 1abc", 0, nullptr},
      {"SELECT 1.2.3", 0, nullptr},
      {"SELECT /* unclosed", S | C, nullptr},
      {"SELECT '\x01'", 0, "\x01SELECT ?"},
      {"\x01SELECT 1", 0, nullptr},
      {"", 0, "\x01"},
  };
  for (const Case& c : cases) {
    StatementInfo info;
    analyze(c.sql, info);
    EXPECT_EQ(show(info.marks()), show(c.marks)) << c.sql;
    EXPECT_EQ(info.keyed(), c.key != nullptr) << c.sql;
    if (c.key && info.keyed()) {
      EXPECT_EQ(info.key(), std::string_view(c.key)) << c.sql;
    }
  }
}

// The wrappers the rest of sql/ and the analyzer keep read the same analysis.
TEST(StatementInfo, OldGatesReadTheAnalysis) {
  const std::string sql = "DECLARE c CURSOR WITH HOLD FOR SELECT 1; EXECUTE p; INSERT INTO t VALUES (1)";
  EXPECT_TRUE(may_have_session_effects(sql));
  EXPECT_TRUE(may_write_tables(sql));
  EXPECT_TRUE(may_have_cursor_commands(sql));
  EXPECT_TRUE(may_be_prepared_command(sql));
  std::string key;
  EXPECT_TRUE(literal_free_key("SELECT 1", key));
  EXPECT_EQ(key, "\x01SELECT ?");
  EXPECT_FALSE(literal_free_key("EXPLAIN SELECT 1", key));
}

// The per-thread memo answers a repeat without a scan and a different text with its own analysis.
TEST(StatementInfo, MemoKeepsTheLastText) {
  const StatementInfo& a = analyze("SELECT 1");
  EXPECT_EQ(&analyze("SELECT 1"), &a);
  EXPECT_EQ(analyze("SELECT 1").key(), "\x01SELECT ?");
  EXPECT_TRUE(analyze("SET x = 1").may(Mark::SessionEffects));
  EXPECT_FALSE(analyze("SELECT 1").may(Mark::SessionEffects));
  const std::string long_text = "SELECT " + std::string(5000, ' ') + "1; SET x = 2";
  EXPECT_TRUE(analyze(long_text).may(Mark::SessionEffects));
  EXPECT_FALSE(analyze("SELECT 2").may(Mark::SessionEffects));
}

// Over the longest analysed length the session and write gates say yes without looking.
TEST(StatementInfo, LongTextsAreNotTrusted) {
  const std::string sql = "SELECT " + std::string(300 * 1024, ' ') + "1";
  StatementInfo info;
  analyze(sql, info);
  EXPECT_TRUE(info.may(Mark::SessionEffects));
  EXPECT_TRUE(info.may(Mark::WritesTables));
  EXPECT_FALSE(info.may(Mark::CursorCommand));
  EXPECT_TRUE(info.keyed());
}

}  // namespace
}  // namespace pgopt::sql
