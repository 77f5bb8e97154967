// Message classification, bind parameter parsing and substitution into real-literal samples.
#include <gtest/gtest.h>

#include "analyzer/input/message.hpp"

using namespace pgopt::analyzer::input;

namespace {

TEST(InputMessage, Classifies) {
  auto m = classify_message("duration: 12.345 ms  statement: SELECT 1");
  EXPECT_EQ(m.kind, MessageKind::statement);
  EXPECT_DOUBLE_EQ(*m.duration_ms, 12.345);
  EXPECT_EQ(m.text, "SELECT 1");
  m = classify_message("duration: 0.5 ms  execute S_1: SELECT $1");
  EXPECT_EQ(m.kind, MessageKind::execute);
  EXPECT_EQ(m.text, "SELECT $1");
  m = classify_message("execute fetch from S_1/C_2: SELECT 2");
  EXPECT_EQ(m.kind, MessageKind::execute);
  EXPECT_FALSE(m.duration_ms);
  EXPECT_EQ(m.text, "SELECT 2");
  EXPECT_EQ(classify_message("duration: 1 ms  parse <unnamed>: SELECT 1").kind, MessageKind::parse_or_bind);
  EXPECT_EQ(classify_message("duration: 1 ms  bind S_1: SELECT 1").kind, MessageKind::parse_or_bind);
  EXPECT_EQ(classify_message("duration: 1.000 ms").kind, MessageKind::lone_duration);
  EXPECT_EQ(classify_message("duration: 2.000 ms  plan:\n\tQuery Text: x").kind, MessageKind::other);
  EXPECT_EQ(classify_message("statement: BEGIN").kind, MessageKind::statement);
  EXPECT_EQ(classify_message("00000: statement: BEGIN").text, "BEGIN");  // log_error_verbosity=verbose
  EXPECT_EQ(classify_message("disconnection: session time: 0:00:01").kind, MessageKind::disconnection);
  EXPECT_EQ(classify_message("checkpoint starting: time").kind, MessageKind::other);
  EXPECT_EQ(classify_message("duration: abc ms  statement: x").kind, MessageKind::other);
}

TEST(InputMessage, ParsesParameters) {
  std::vector<std::string_view> v;
  ASSERT_TRUE(parse_parameters("parameters: $1 = '42', $2 = NULL, $3 = 'a, $4 = ''b'''", v));
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "'42'");
  EXPECT_EQ(v[1], "NULL");
  EXPECT_EQ(v[2], "'a, $4 = ''b'''");
  EXPECT_FALSE(parse_parameters("prepare: PREPARE x AS SELECT 1", v));
  EXPECT_FALSE(parse_parameters("parameters: $1 = unquoted", v));
  EXPECT_FALSE(parse_parameters("parameters: $1 = 'never closed", v));
}

TEST(InputMessage, SubstitutesOutsideQuotesAndComments) {
  std::vector<std::string_view> v = {"'1'", "'O''Brien'"};
  std::string out;
  substitute_parameters("SELECT '$1', \"$2\", $1 /* $2 */, $2 -- $1\n, $$ $1 $$, $3, x$1", v, false, out);
  EXPECT_EQ(out, "SELECT '$1', \"$2\", '1' /* $2 */, 'O''Brien' -- $1\n, $$ $1 $$, $3, x$1");
  std::vector<std::string_view> ten;
  const char* vals[] = {"'a'", "'b'", "'c'", "'d'", "'e'", "'f'", "'g'", "'h'", "'i'", "'j'"};
  for (const char* s : vals) ten.push_back(s);
  out.clear();
  substitute_parameters("VALUES ($1, $10)", ten, false, out);
  EXPECT_EQ(out, "VALUES ('a', 'j')");
  std::vector<std::string_view> tabbed = {"'two\n\tlines'"};
  out.clear();
  substitute_parameters("SELECT $1\n\tFROM t", tabbed, true, out);
  EXPECT_EQ(out, "SELECT 'two\nlines'\nFROM t");
}

}  // namespace
