// pooler_setting_command() and transaction_steps(): the grammar-level facts the read/write router
// builds on (SET/RESET/SHOW pgopt.*, and the modes transaction statements ask for).
#include "sql/pooler_settings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sql/transaction_modes.hpp"

namespace pgopt::sql {
namespace {

using Kind = PoolerSettingCommand::Kind;
using ::testing::ElementsAre;

TEST(PoolerSetting, SetSpellings) {
  for (const char* sql : {"SET pgopt.route = 'replica'", "SET pgopt.route TO replica", "set PGOPT.Route = 'replica';",
                          "SET SESSION pgopt.route = 'replica'", "SET \"pgopt\".route = 'replica'",
                          "SET pgopt . route = replica", "/* c */ SET pgopt.route = E'replica'"}) {
    PoolerSettingCommand c = pooler_setting_command(sql);
    EXPECT_EQ(c.kind, Kind::Set) << sql;
    EXPECT_EQ(c.name, "pgopt.route") << sql;
    EXPECT_THAT(c.values, ElementsAre("replica")) << sql;
  }
}

TEST(PoolerSetting, ValuesKeepTheirText) {
  EXPECT_THAT(pooler_setting_command("SET pgopt.route = 1").values, ElementsAre("1"));
  EXPECT_THAT(pooler_setting_command("SET pgopt.route = 'Primary', replica").values,
              ElementsAre("Primary", "replica"));
  EXPECT_THAT(pooler_setting_command("SET pgopt.route = on").values, ElementsAre("on"));
}

TEST(PoolerSetting, OtherForms) {
  EXPECT_EQ(pooler_setting_command("RESET pgopt.route").kind, Kind::Reset);
  EXPECT_EQ(pooler_setting_command("SET pgopt.route TO DEFAULT").kind, Kind::SetDefault);
  EXPECT_EQ(pooler_setting_command("SET pgopt.route = DEFAULT").kind, Kind::SetDefault);
  EXPECT_EQ(pooler_setting_command("SET pgopt.route FROM CURRENT").kind, Kind::SetFromCurrent);
  EXPECT_EQ(pooler_setting_command("SET LOCAL pgopt.route = 'replica'").kind, Kind::SetLocal);
  EXPECT_EQ(pooler_setting_command("SET LOCAL pgopt.route TO DEFAULT").kind, Kind::SetLocal);
  PoolerSettingCommand show = pooler_setting_command("SHOW PGOPT.ROUTE");
  EXPECT_EQ(show.kind, Kind::Show);
  EXPECT_EQ(show.name, "pgopt.route");
  EXPECT_EQ(pooler_setting_command("SET pgopt.other = 1").name, "pgopt.other");
}

TEST(PoolerSetting, NotOurs) {
  for (const char* sql : {"SET search_path = pgopt", "SET application_name = 'pgopt.route'", "SHOW ALL", "RESET ALL",
                          "SELECT * FROM pgopt.route", "SELECT set_config('pgopt.route', 'replica', false)",
                          "SET pgoptx.route = 1", "SET TRANSACTION READ ONLY", "ALTER ROLE r SET pgopt.route = 'primary'",
                          "SET pgopt.route 'broken"}) {
    EXPECT_EQ(pooler_setting_command(sql).kind, Kind::None) << sql;
  }
}

TEST(PoolerSetting, AmongOtherStatements) {
  PoolerSettingCommand c = pooler_setting_command("SELECT 1; SET pgopt.route = 'replica'");
  EXPECT_EQ(c.kind, Kind::NotAlone);
  EXPECT_EQ(c.name, "pgopt.route");
  EXPECT_EQ(pooler_setting_command("SET a = 1; SET b = 2").kind, Kind::None);
}

TEST(PoolerSetting, OtherPrefix) {
  EXPECT_EQ(pooler_setting_command("SET myapp.x = 1", "myapp.").kind, Kind::Set);
  EXPECT_EQ(pooler_setting_command("SET pgopt.route = 1", "myapp.").kind, Kind::None);
}

TEST(PoolerSetting, GateNeverMissesAndSkipsTheRest) {
  for (const char* sql : {"SET pgopt.route = 'replica'", "set PGOPT.route to primary", "SHOW \"PgOpt\".route",
                          "SET U&\"\\0070gopt\".route = 'replica'"}) {
    EXPECT_TRUE(may_name_pooler_setting(sql)) << sql;
  }
  EXPECT_EQ(pooler_setting_command("SET U&\"\\0070gopt\".route = 'replica'").kind, Kind::Set);
  for (const char* sql : {"SELECT 1", "SET search_path = app", "INSERT INTO pg_opt VALUES (1)", ""})
    EXPECT_FALSE(may_name_pooler_setting(sql)) << sql;
}

// ---- transaction_steps ------------------------------------------------------------------------

using Step = TransactionStep::Kind;

std::vector<Step> kinds(const TransactionSteps& t) {
  std::vector<Step> out;
  for (const auto& s : t.steps) out.push_back(s.kind);
  return out;
}

TEST(TransactionSteps, KindsInOrder) {
  auto t = transaction_steps(
      "BEGIN; SELECT 1; SAVEPOINT a; RELEASE a; ROLLBACK TO a; SET CONSTRAINTS ALL DEFERRED; "
      "SET TRANSACTION READ ONLY; COMMIT; PREPARE TRANSACTION 'x'; COMMIT PREPARED 'x'; "
      "SET TRANSACTION SNAPSHOT '00000003-0000001B-1'; SET search_path = a");
  EXPECT_FALSE(t.parse_failed);
  EXPECT_THAT(kinds(t), ElementsAre(Step::Begin, Step::Query, Step::Neutral, Step::Neutral, Step::Neutral,
                                    Step::Neutral, Step::SetTransaction, Step::End, Step::PrimaryOnly,
                                    Step::PrimaryOnly, Step::PrimaryOnly, Step::Query));
}

TEST(TransactionSteps, Modes) {
  auto one = [](const char* sql) {
    auto t = transaction_steps(sql);
    EXPECT_EQ(t.steps.size(), 1u) << sql;
    return t.steps.empty() ? TransactionStep{} : t.steps[0];
  };
  EXPECT_EQ(one("BEGIN").read_only, std::nullopt);
  EXPECT_EQ(one("BEGIN READ ONLY").read_only, true);
  EXPECT_EQ(one("START TRANSACTION READ WRITE").read_only, false);
  EXPECT_TRUE(one("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY").serializable);
  EXPECT_EQ(one("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY").read_only, true);
  EXPECT_FALSE(one("BEGIN ISOLATION LEVEL REPEATABLE READ").serializable);
  EXPECT_EQ(one("SET TRANSACTION READ ONLY").read_only, true);
  EXPECT_TRUE(one("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").serializable);
  EXPECT_EQ(one("SET LOCAL transaction_read_only = on").read_only, true);
  EXPECT_EQ(one("SET transaction_read_only TO off").read_only, false);
  EXPECT_TRUE(one("SET transaction_isolation = 'serializable'").serializable);
  EXPECT_EQ(one("SET transaction_deferrable = on").kind, Step::SetTransaction);
  EXPECT_TRUE(one("COMMIT AND CHAIN").chain);
  EXPECT_FALSE(one("END").chain);
  EXPECT_EQ(one("ABORT").kind, Step::End);
  EXPECT_EQ(one("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").kind, Step::Query);
}

TEST(TransactionSteps, ParseFailure) {
  auto t = transaction_steps("BEGIN READ ONLY; SELEC 1");
  EXPECT_TRUE(t.parse_failed);
  EXPECT_TRUE(t.steps.empty());
}

// The text scan agrees with the parser on the plain spellings and says no to everything with
// options, comments or a second statement (where the parser must decide).
TEST(BareBegin, PlainSpellingsOnly) {
  for (const char* yes : {"BEGIN", "begin;", " Begin Work ; ", "BEGIN TRANSACTION", "start\ttransaction;\n"}) {
    EXPECT_TRUE(is_bare_begin(yes)) << yes;
    auto t = transaction_steps(yes);
    ASSERT_EQ(t.steps.size(), 1u) << yes;
    EXPECT_EQ(t.steps[0].kind, TransactionStep::Kind::Begin) << yes;
  }
  for (const char* no : {"", ";", "BEGIN READ ONLY", "BEGIN; INSERT INTO t VALUES (1)", "BEGIN -- x", "/*c*/BEGIN",
                         "BEGINNING", "START", "COMMIT", "begin isolation level serializable", "BEGIN1",
                         "SELECT abalance FROM pgbench_accounts WHERE aid = 1", "STARTING transaction", "SET begin"})
    EXPECT_FALSE(is_bare_begin(no)) << no;
}

}  // namespace
}  // namespace pgopt::sql
