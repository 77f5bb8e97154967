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

namespace pgopt::sql {
namespace {

TEST(PreparedCommandsIn, EveryStatementOfAStringIsSeenWithNamesFoldedAsPostgreSQLDoes) {
  auto names = [](std::string_view sql) {
    std::vector<std::string> out;
    for (auto& c : prepared_commands_in(sql))
      out.push_back((c.kind == PreparedCommand::Kind::Prepare     ? "prepare "
                     : c.kind == PreparedCommand::Kind::Execute   ? "execute "
                     : c.kind == PreparedCommand::Kind::Deallocate ? "deallocate "
                                                                   : "? ") + c.name);
    return out;
  };
  EXPECT_EQ(names("SELECT 1; DEALLOCATE pgopt_1"), (std::vector<std::string>{"deallocate pgopt_1"}));
  EXPECT_EQ(names("deallocate prepare PGOPT_2; execute \"Mixed\"(1); PREPARE p AS SELECT 1"),
            (std::vector<std::string>{"deallocate pgopt_2", "execute Mixed", "prepare p"}));
  EXPECT_TRUE(names("DEALLOCATE ALL; SELECT 'deallocate pgopt_3'").empty());
  EXPECT_TRUE(names("not sql at all").empty());
}

}  // namespace
}  // namespace pgopt::sql

#include "sql/relation_rewrite.hpp"

namespace pgopt::sql {
namespace {

TEST(ReplaceRelation, EveryReferenceBecomesTheSubqueryUnderTheViewsNameOrItsAlias) {
  const std::string sub = "SELECT 1 AS name";
  EXPECT_EQ(replace_relation("SELECT count(*) FROM pg_prepared_statements", "pg_catalog", "pg_prepared_statements", sub),
            "SELECT count(*) FROM (SELECT 1 AS name) AS pg_prepared_statements");
  EXPECT_EQ(replace_relation("select p.name from PG_CATALOG.pg_prepared_statements p where p.name like 'x%'",
                             "pg_catalog", "pg_prepared_statements", sub),
            "select p.name from (SELECT 1 AS name) p where p.name like 'x%'");
  EXPECT_EQ(replace_relation("SELECT (SELECT count(*) FROM pg_prepared_statements), 'pg_prepared_statements' "
                             "FROM pg_prepared_statements a JOIN pg_prepared_statements b USING (name)",
                             "pg_catalog", "pg_prepared_statements", sub),
            "SELECT (SELECT count(*) FROM (SELECT 1 AS name) AS pg_prepared_statements), 'pg_prepared_statements' "
            "FROM (SELECT 1 AS name) a JOIN (SELECT 1 AS name) b USING (name)");
  // Another schema's table of that name, a mere string, or no parse: nothing to do.
  EXPECT_FALSE(replace_relation("SELECT * FROM app.pg_prepared_statements", "pg_catalog", "pg_prepared_statements", sub));
  EXPECT_FALSE(replace_relation("SELECT 'pg_prepared_statements'", "pg_catalog", "pg_prepared_statements", sub));
  EXPECT_FALSE(replace_relation("SELEC * FROM pg_prepared_statements", "pg_catalog", "pg_prepared_statements", sub));
}

}  // namespace
}  // namespace pgopt::sql
