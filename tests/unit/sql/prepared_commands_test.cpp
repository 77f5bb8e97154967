// SQL-level prepared-statement commands, recognised by PostgreSQL's grammar: table-driven, SQL alone.
#include <gtest/gtest.h>

#include "sql/prepared_commands.hpp"

namespace pgopt::sql {
namespace {

using K = PreparedCommand::Kind;

struct Case {
  const char* sql;
  K kind;
  const char* name;       // as PostgreSQL folds it
  const char* name_text;  // the bytes of the name in the string
};

class PreparedCommands : public ::testing::TestWithParam<Case> {};

TEST_P(PreparedCommands, Recognised) {
  const Case& c = GetParam();
  std::string_view sql = c.sql;
  EXPECT_TRUE(may_be_prepared_command(sql) || c.kind == K::None) << sql;
  auto cmd = prepared_command(sql);
  EXPECT_EQ(cmd.kind, c.kind) << sql;
  EXPECT_EQ(cmd.name, c.name) << sql;
  if (*c.name_text) {
    EXPECT_EQ(sql.substr(cmd.name_begin, cmd.name_end - cmd.name_begin), c.name_text) << sql;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, PreparedCommands,
    ::testing::Values(Case{"DEALLOCATE s1", K::Deallocate, "s1", "s1"},
                      Case{"deallocate prepare S1;", K::Deallocate, "s1", "S1"},
                      Case{"DEALLOCATE \"Mixed Case\"", K::Deallocate, "Mixed Case", "\"Mixed Case\""},
                      Case{"/* c */ DEALLOCATE -- x\n prepare", K::Deallocate, "prepare", "prepare"},
                      Case{"DEALLOCATE ALL", K::DeallocateAll, "", ""},
                      Case{"DEALLOCATE PREPARE ALL", K::DeallocateAll, "", ""},
                      Case{"PREPARE q (int) AS SELECT $1", K::Prepare, "q", "q"},
                      Case{"EXECUTE q(1)", K::Execute, "q", "q"},
                      Case{"SELECT 1; DEALLOCATE ALL", K::Mixed, "", ""},
                      Case{"SELECT 'DEALLOCATE ALL'", K::None, "", ""},
                      Case{"DEALLOCATE", K::None, "", ""},  // does not parse: the server says why
                      Case{"SELECT 1", K::None, "", ""}));

TEST(PreparedCommandsGate, CheapTestNeverMissesOne) {
  EXPECT_FALSE(may_be_prepared_command("SELECT * FROM orders WHERE id = $1"));
  EXPECT_FALSE(may_be_prepared_command("UPDATE t SET x = 1"));
  EXPECT_TRUE(may_be_prepared_command("  dEaLlOcAtE x"));
  EXPECT_TRUE(may_be_prepared_command("execute q"));
}

TEST(CheckPreparable, GrammarErrorsAsPostgresGivesThem) {
  EXPECT_FALSE(check_preparable("SELECT * FROM missing_table"));  // the catalog is the server's job
  EXPECT_FALSE(check_preparable(""));
  auto e = check_preparable("SELEC 1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlstate, "42601");
  EXPECT_EQ(e->message, "syntax error at or near \"SELEC\"");
  EXPECT_EQ(e->cursor, 1);
  auto two = check_preparable("SELECT 1; SELECT 2");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->message, "cannot insert multiple commands into a prepared statement");
}

}  // namespace
}  // namespace pgopt::sql
