// session_effects(): golden cases in tests/fixtures/sql/session_effects.tsv, plus the pieces a
// pooler relies on (replayable text, DISCARD ALL ordering).
#include "sql/session_effects.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "sql/parser.hpp"
#include "tsv.hpp"

namespace pgopt::sql {
namespace {

using testing::TsvRow;

std::string render(const SessionEffects& e) {
  std::vector<std::string> items;
  for (const GucChange& g : e.gucs) {
    switch (g.kind) {
      case GucChange::Kind::Set: items.push_back("set " + g.name + " = " + g.replay_sql); break;
      case GucChange::Kind::Reset: items.push_back("reset " + g.name); break;
      case GucChange::Kind::ResetAll: items.push_back("reset all"); break;
    }
  }
  for (const auto& r : e.dirty_reasons) items.push_back("dirty: " + r);
  for (const auto& r : e.unknown_reasons) items.push_back("unknown: " + r);
  if (e.defines_code) items.push_back("defines code");
  if (e.discard_all) items.push_back("discard all");
  if (e.parse_failed) items.push_back("parse failed");
  if (items.empty()) return "none";
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " | ") + i;
  return out;
}

struct GoldenCase {
  int line;
  std::string sql;
  std::string expected;
};

const std::vector<GoldenCase>& golden_cases() {
  static const std::vector<GoldenCase> cases = [] {
    std::vector<GoldenCase> out;
    for (const TsvRow& row : testing::read_tsv(std::string(PGOPT_FIXTURES) + "/sql/session_effects.tsv")) {
      if (row.cells.size() != 2) {
        ADD_FAILURE() << "session_effects.tsv:" << row.line << ": expected 2 columns";
        continue;
      }
      out.push_back({row.line, row.cells[0], row.cells[1]});
    }
    return out;
  }();
  return cases;
}

TEST(SessionEffectsGolden, FileHasEnoughCases) { EXPECT_GE(golden_cases().size(), 80u); }

// Lets gtest show the statement instead of a byte dump.
[[maybe_unused]] void PrintTo(const GoldenCase& g, std::ostream* os) { *os << g.sql; }

class SessionEffectsGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(SessionEffectsGoldenTest, MatchesExpectation) {
  const GoldenCase& g = GetParam();
  SessionEffects e = session_effects(g.sql);
  EXPECT_EQ(testing::tsv_escape(render(e)), testing::tsv_escape(g.expected))
      << "session_effects.tsv:" << g.line << ": " << g.sql;
  EXPECT_EQ(e.dirty, !e.dirty_reasons.empty());
  if (e.any()) {
    EXPECT_TRUE(may_have_session_effects(g.sql)) << "prefilter missed session_effects.tsv:" << g.line;
  }
}

INSTANTIATE_TEST_SUITE_P(File, SessionEffectsGoldenTest, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return "line" + std::to_string(info.param.line);
                         });

// A pooler re-runs replay_sql on another server connection, often several joined with ';'.
TEST(SessionEffects, ReplaySqlParsesAloneAndJoined) {
  std::string joined;
  for (const GoldenCase& g : golden_cases()) {
    for (const GucChange& c : session_effects(g.sql).gucs) {
      if (c.kind != GucChange::Kind::Set) continue;
      EXPECT_TRUE(parses(c.replay_sql)) << c.replay_sql;
      // Re-analysing the replay gives back the same change.
      SessionEffects again = session_effects(c.replay_sql);
      ASSERT_EQ(again.gucs.size(), 1u) << c.replay_sql;
      EXPECT_EQ(again.gucs[0].name, c.name);
      EXPECT_EQ(again.gucs[0].replay_sql, c.replay_sql);
      joined += c.replay_sql + ";";
    }
  }
  ASSERT_FALSE(joined.empty());
  SessionEffects all = session_effects(joined);
  EXPECT_FALSE(all.parse_failed);
  EXPECT_FALSE(all.dirty);
  EXPECT_GE(all.gucs.size(), 25u);
}

TEST(SessionEffects, DiscardAllVoidsEarlierEffectsOnly) {
  SessionEffects e = session_effects("SET a.b = 1; SELECT pg_advisory_lock(1); DISCARD ALL; SET c.d = 2; LISTEN x");
  EXPECT_TRUE(e.discard_all);
  ASSERT_EQ(e.gucs.size(), 1u);
  EXPECT_EQ(e.gucs[0].name, "c.d");
  EXPECT_EQ(e.dirty_reasons, std::vector<std::string>{"LISTEN"});
}

// The analyzer resolves a session's later names through the search_path it SET itself.
TEST(SessionEffects, SearchPathSettingInTheServersSyntax) {
  SessionEffects e = session_effects(
      "SET search_path = s2, \"Foo\", '$user'; SET search_path TO public; SELECT set_config('search_path', 'a, \"B\"', false); "
      "SET LOCAL search_path = x; SET work_mem = '4MB'");
  ASSERT_EQ(e.gucs.size(), 4u);
  EXPECT_EQ(e.gucs[0].search_path, "\"s2\", \"Foo\", \"$user\"");
  EXPECT_EQ(e.gucs[1].search_path, "\"public\"");
  EXPECT_EQ(e.gucs[2].search_path, "a, \"B\"");
  EXPECT_EQ(e.gucs[3].name, "work_mem");
  EXPECT_EQ(e.gucs[3].search_path, "");
}

TEST(SessionEffects, ParseFailureReportsNothingElse) {
  SessionEffects e = session_effects("SET search_path = a; LISTEN x; SELEC");
  EXPECT_TRUE(e.parse_failed);
  EXPECT_TRUE(e.gucs.empty());
  EXPECT_FALSE(e.dirty);
  EXPECT_FALSE(e.any());
}

TEST(SessionEffects, EmptyInputHasNoEffects) {
  EXPECT_FALSE(session_effects("").any());
  EXPECT_FALSE(session_effects("  -- nothing\n").any());
  EXPECT_FALSE(session_effects("").parse_failed);
}

TEST(SessionEffects, DirtyReasonsAreNotRepeated) {
  SessionEffects e = session_effects("LISTEN a; LISTEN b; SELECT pg_advisory_lock(1), pg_advisory_lock(2)");
  EXPECT_EQ(e.dirty_reasons,
            (std::vector<std::string>{"LISTEN", "session advisory lock (pg_advisory_lock)"}));
}

}  // namespace
}  // namespace pgopt::sql
