// classify(): the golden cases in tests/fixtures/sql/classify.tsv plus the rules a table cannot show.
#include "sql/classify.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>

#include "sql/session_effects.hpp"
#include "tsv.hpp"

namespace pgopt::sql {
namespace {

using testing::TsvRow;

struct GoldenCase {
  int line;
  std::string sql;
  std::string kind;  // "Write", "TransactionControl/Begin", "ParseError" ...
  std::string reason;
  ClassifierOptions options;
};

ClassifierOptions parse_options(const std::string& spec) {
  ClassifierOptions o;
  size_t start = 0;
  while (start <= spec.size() && !spec.empty()) {
    size_t semi = spec.find(';', start);
    std::string item = spec.substr(start, semi == std::string::npos ? std::string::npos : semi - start);
    if (item.rfind("write=", 0) == 0) o.write_functions.push_back(item.substr(6));
    else if (item.rfind("read=", 0) == 0) o.read_only_functions.push_back(item.substr(5));
    else if (item == "unknown_reads") o.unknown_functions_are_reads = true;
    else ADD_FAILURE() << "unknown option in classify.tsv: " << item;
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  return o;
}

std::vector<GoldenCase> load_cases() {
  std::vector<GoldenCase> cases;
  for (const TsvRow& row : testing::read_tsv(std::string(PGOPT_FIXTURES) + "/sql/classify.tsv")) {
    if (row.cells.size() < 3 || row.cells.size() > 4) {
      ADD_FAILURE() << "classify.tsv:" << row.line << ": expected 3 or 4 columns";
      continue;
    }
    cases.push_back({row.line, row.cells[0], row.cells[1], row.cells[2],
                     parse_options(row.cells.size() == 4 ? row.cells[3] : "")});
  }
  return cases;
}

const std::vector<GoldenCase>& golden_cases() {
  static const std::vector<GoldenCase> cases = load_cases();
  return cases;
}

std::string describe(const Classification& c) {
  std::string s = std::string(to_string(c.kind)) + "/" + std::string(to_string(c.tx));
  if (c.parse_failed) s += " parse_failed";
  for (const auto& r : c.reasons) s += " [" + r + "]";
  return s;
}

TEST(ClassifyGolden, FileHasEnoughCases) { EXPECT_GE(golden_cases().size(), 150u); }

// Lets gtest show the statement instead of a byte dump.
[[maybe_unused]] void PrintTo(const GoldenCase& g, std::ostream* os) { *os << g.sql; }

class ClassifyGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(ClassifyGoldenTest, MatchesExpectation) {
  const GoldenCase& g = GetParam();
  SCOPED_TRACE("classify.tsv:" + std::to_string(g.line) + ": " + g.sql);
  Classification c = classify(g.sql, g.options);
  std::string kind = g.kind, tx;
  if (size_t slash = kind.find('/'); slash != std::string::npos) {
    tx = kind.substr(slash + 1);
    kind = kind.substr(0, slash);
  }
  if (kind == "ParseError") {
    EXPECT_TRUE(c.parse_failed) << describe(c);
    EXPECT_EQ(c.kind, StatementKind::Write) << describe(c);
  } else {
    EXPECT_FALSE(c.parse_failed) << describe(c);
    EXPECT_EQ(to_string(c.kind), kind) << describe(c);
  }
  if (!tx.empty()) {
    EXPECT_EQ(to_string(c.tx), tx) << describe(c);
  } else if (c.kind != StatementKind::TransactionControl) {
    EXPECT_EQ(c.tx, TxControl::None) << describe(c);
  }
  if (g.reason == "-") {
    EXPECT_TRUE(c.reasons.empty()) << describe(c);
  } else {
    bool found = false;
    for (const auto& r : c.reasons) found = found || r.find(g.reason) != std::string::npos;
    EXPECT_TRUE(found) << "no reason contains \"" << g.reason << "\": " << describe(c);
  }
}

INSTANTIATE_TEST_SUITE_P(File, ClassifyGoldenTest, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return "line" + std::to_string(info.param.line);
                         });

// The pooler's prefilter must never hide a statement with session effects; every golden statement
// is a sample of real traffic for that invariant.
TEST(ClassifyGolden, PrefilterNeverMissesSessionEffects) {
  for (const GoldenCase& g : golden_cases()) {
    if (session_effects(g.sql).any()) {
      EXPECT_TRUE(may_have_session_effects(g.sql)) << "classify.tsv:" << g.line << ": " << g.sql;
    }
  }
}

TEST(Classify, WriteReasonsCollectEveryCause) {
  Classification c = classify("WITH d AS (DELETE FROM t RETURNING id) SELECT nextval('s'), app.f() FROM d FOR UPDATE", {});
  EXPECT_EQ(c.kind, StatementKind::Write);
  std::vector<std::string> expected = {"DML in CTE", "calls nextval()", "calls unknown function app.f()",
                                       "SELECT ... FOR UPDATE"};
  for (const auto& e : expected)
    EXPECT_NE(std::find(c.reasons.begin(), c.reasons.end(), e), c.reasons.end()) << e << ": " << describe(c);
  EXPECT_EQ(c.reasons.size(), expected.size()) << describe(c);
}

TEST(Classify, ReasonsAreNotRepeated) {
  Classification c = classify("SELECT nextval('a'), nextval('b'); SELECT nextval('c')", {});
  EXPECT_EQ(c.reasons, std::vector<std::string>{"calls nextval()"});
}

TEST(Classify, TxIsTheLastTransactionStatement) {
  EXPECT_EQ(classify("BEGIN; SELECT 1", {}).tx, TxControl::Begin);
  EXPECT_EQ(classify("SAVEPOINT a; RELEASE a", {}).tx, TxControl::Release);
  EXPECT_EQ(classify("BEGIN; SELECT 1; ROLLBACK", {}).tx, TxControl::Rollback);
  EXPECT_EQ(classify("SELECT 1; SELECT 2", {}).tx, TxControl::None);
}

TEST(Classify, ParseErrorCarriesTheServerStyleMessage) {
  Classification c = classify("SELECT FROM WHERE", {});
  ASSERT_TRUE(c.parse_failed);
  ASSERT_EQ(c.reasons.size(), 1u);
  EXPECT_NE(c.reasons[0].find("syntax error at or near \"WHERE\""), std::string::npos) << c.reasons[0];
}

// Generated SQL can nest far deeper than hand-written queries; libpg_query and protobuf-c recurse
// per tree level, so long statements must be parsed on a stack sized for them.
std::string deep_chain(int terms, const std::string& last) {
  std::string sql = "SELECT ";
  for (int i = 0; i < terms; ++i) sql += "1+";
  return sql + last;
}

TEST(Classify, DeeplyNestedExpressionsAreAnalysedWithoutCrashing) {
  for (int terms : {1000, 6000, 30000}) {  // inline, helper thread, helper thread with a big stack
    Classification c = classify(deep_chain(terms, "nextval('s')"), {});
    EXPECT_FALSE(c.parse_failed) << terms;
    EXPECT_EQ(c.kind, StatementKind::Write) << terms;
    EXPECT_EQ(c.reasons, std::vector<std::string>{"calls nextval()"}) << terms;
    EXPECT_EQ(classify(deep_chain(terms, "1"), {}).kind, StatementKind::Read) << terms;
  }
}

TEST(Classify, OverlongStatementsGoToThePrimaryUnparsed) {
  Classification c = classify(deep_chain(200000, "1"), {});
  EXPECT_EQ(c.kind, StatementKind::Write);
  EXPECT_FALSE(c.parse_failed);
  ASSERT_EQ(c.reasons.size(), 1u);
  EXPECT_NE(c.reasons[0].find("not analysed"), std::string::npos) << c.reasons[0];
}

TEST(SessionEffectsDepth, DeepStatementsAreAnalysedOrLeftToTheServer) {
  SessionEffects deep = session_effects(deep_chain(6000, "pg_advisory_lock(1)"));
  EXPECT_EQ(deep.dirty_reasons, std::vector<std::string>{"session advisory lock (pg_advisory_lock)"});
  EXPECT_FALSE(session_effects(deep_chain(6000, "1")).any());
  SessionEffects huge = session_effects(deep_chain(200000, "1"));
  EXPECT_FALSE(huge.dirty);
  EXPECT_EQ(huge.unknown_reasons, std::vector<std::string>{"statement too long to analyse"});
  // Too long to scan as well: both lexical tests answer at once.
  EXPECT_TRUE(may_have_session_effects(deep_chain(200000, "1")));
  EXPECT_TRUE(may_write_tables(deep_chain(200000, "1")));
}

TEST(Classify, OptionsAreCaseInsensitiveLikeUnquotedIdentifiers) {
  ClassifierOptions o;
  o.read_only_functions = {"App.Get_User"};
  EXPECT_EQ(classify("SELECT app.get_user(1)", o).kind, StatementKind::Read);
  o.write_functions = {"LOWER"};
  EXPECT_EQ(classify("SELECT lower('x')", o).kind, StatementKind::Write);
}

TEST(Classify, EveryCuratedWriterIsAWriteWhenCalled) {
  for (const char* fn : {"nextval", "setval", "pg_advisory_lock", "pg_advisory_xact_lock_shared", "txid_current",
                         "pg_current_xact_id", "lo_create", "lo_import", "lo_unlink", "lo_put", "lo_from_bytea",
                         "lowrite", "pg_notify", "pg_switch_wal", "pg_create_restore_point"}) {
    Classification c = classify(std::string("SELECT ") + fn + "(1)", {});
    EXPECT_EQ(c.kind, StatementKind::Write) << fn;
    ASSERT_EQ(c.reasons.size(), 1u) << fn;
    EXPECT_EQ(c.reasons[0], std::string("calls ") + fn + "()");
  }
}

TEST(Classify, ToStringCoversEveryValue) {
  EXPECT_EQ(to_string(StatementKind::Utility), "Utility");
  EXPECT_EQ(to_string(TxControl::Prepare2pc), "Prepare2pc");
  EXPECT_EQ(to_string(TxControl::SetTransactionReadWrite), "SetTransactionReadWrite");
}

}  // namespace
}  // namespace pgopt::sql
