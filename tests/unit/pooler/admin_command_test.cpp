// The admin console's command parser: keywords, arguments, semicolons, comments and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pooler/admin/command.hpp"

using namespace pgopt::pooler::admin;
using ::testing::HasSubstr;

namespace {

Command ok(std::string_view text) {
  auto r = parse_command(text);
  if (auto* e = std::get_if<CommandError>(&r)) {
    ADD_FAILURE() << "\"" << text << "\": " << e->sqlstate << " " << e->message;
    return {};
  }
  return std::get<Command>(r);
}

CommandError bad(std::string_view text) {
  auto r = parse_command(text);
  if (auto* e = std::get_if<CommandError>(&r)) return *e;
  ADD_FAILURE() << "\"" << text << "\" was accepted";
  return {};
}

}  // namespace

TEST(AdminCommand, ShowItemsInAnyCase) {
  EXPECT_EQ(ok("SHOW POOLS").kind, CommandKind::ShowPools);
  EXPECT_EQ(ok("show clients").kind, CommandKind::ShowClients);
  EXPECT_EQ(ok("Show Servers;").kind, CommandKind::ShowServers);
  EXPECT_EQ(ok("  show\tdatabases  ").kind, CommandKind::ShowDatabases);
  EXPECT_EQ(ok("show config").kind, CommandKind::ShowConfig);
  EXPECT_EQ(ok("SHOW replicas ;").kind, CommandKind::ShowReplicas);
  EXPECT_EQ(ok("show stats").kind, CommandKind::ShowStats);
  EXPECT_EQ(ok("SHOW PREPARED").kind, CommandKind::ShowPrepared);
  EXPECT_EQ(ok("show queries;").kind, CommandKind::ShowQueries);
}

TEST(AdminCommand, CacheCommands) {
  EXPECT_EQ(ok("SHOW CACHE").kind, CommandKind::ShowCache);
  EXPECT_EQ(ok("cache clear;").kind, CommandKind::CacheClear);
  EXPECT_THAT(bad("CACHE").message, HasSubstr("CACHE CLEAR"));
  EXPECT_THAT(bad("CACHE FLUSH").message, HasSubstr("CACHE CLEAR"));
  EXPECT_EQ(ok("CACHE CLEAR").rule, "");
  EXPECT_EQ(ok("CACHE CLEAR Products").rule, "products");  // names as PostgreSQL reads them
  EXPECT_EQ(ok("CACHE CLEAR \"Products\";").rule, "Products");
  EXPECT_THAT(bad("CACHE CLEAR a b").message, HasSubstr("unexpected \"b\""));
  EXPECT_THAT(std::string(command_list()), HasSubstr("SHOW CACHE, CACHE CLEAR [rule]"));
}

TEST(AdminCommand, PauseResumeAndKillTakeADatabaseAsPostgreSQLReadsNames) {
  Command p = ok("PAUSE");
  EXPECT_EQ(p.kind, CommandKind::Pause);
  EXPECT_EQ(p.database, "");
  EXPECT_EQ(ok("pause App").database, "app");           // folded like an identifier
  EXPECT_EQ(ok("pause \"App\";").database, "App");     // quoted keeps its case
  EXPECT_EQ(ok("resume").kind, CommandKind::Resume);
  EXPECT_EQ(ok("RESUME app").database, "app");
  Command k = ok("kill app");
  EXPECT_EQ(k.kind, CommandKind::Kill);
  EXPECT_EQ(k.database, "app");
  EXPECT_THAT(bad("kill").message, HasSubstr("KILL needs a database name"));
  EXPECT_THAT(bad("pause a b").message, HasSubstr("unexpected \"b\""));
  EXPECT_EQ(bad("pause \"unterminated").sqlstate, "42601");
}

TEST(AdminCommand, SetTurnsTheValueIntoTomlText) {
  Command c = ok("SET default_pool_size = 30");
  EXPECT_EQ(c.kind, CommandKind::Set);
  EXPECT_EQ(c.key, "default_pool_size");
  EXPECT_EQ(c.value, "30");
  EXPECT_EQ(ok("set Query_Wait_Timeout to '30s'").key, "query_wait_timeout");
  EXPECT_EQ(ok("set query_wait_timeout to '30s'").value, "\"30s\"");
  EXPECT_EQ(ok("set query_wait_timeout = 30s;").value, "\"30s\"");  // a bare duration is quoted
  EXPECT_EQ(ok("set capture_samples=FALSE").value, "false");
  EXPECT_EQ(ok("set log_level = 'de\"bug'").value, "\"de\\\"bug\"");
  EXPECT_EQ(ok("set server_reset_query = 'it''s'").value, "\"it's\"");
  EXPECT_EQ(ok("set server_reset_query = ''").value, "\"\"");
  EXPECT_EQ(ok("set min_pool_size = -1").value, "-1");
  EXPECT_THAT(bad("set").message, HasSubstr("SET needs a key and a value"));
  EXPECT_THAT(bad("set a").message, HasSubstr("SET needs a key and a value"));
  EXPECT_THAT(bad("set a b c").message, HasSubstr("SET needs a key and a value"));
  EXPECT_THAT(bad("set a = 1 2").message, HasSubstr("unexpected \"2\""));
  EXPECT_EQ(bad("set a = 'open").sqlstate, "42601");
}

TEST(AdminCommand, ActionsAndArguments) {
  EXPECT_EQ(ok("reload").kind, CommandKind::Reload);
  EXPECT_EQ(ok("SHUTDOWN;").kind, CommandKind::Shutdown);
  Command k = ok("kill_client 42");
  EXPECT_EQ(k.kind, CommandKind::KillClient);
  EXPECT_EQ(k.client_id, 42u);
  EXPECT_EQ(ok("KILL_CLIENT 18446744073709551615;").client_id, 18446744073709551615u);
}

TEST(AdminCommand, CommentsSemicolonsAndEmpty) {
  EXPECT_EQ(ok("").kind, CommandKind::Empty);
  EXPECT_EQ(ok(" ; ;").kind, CommandKind::Empty);
  EXPECT_EQ(ok("-- nothing").kind, CommandKind::Empty);
  EXPECT_EQ(ok("/* what */ show /* is */ pools -- here\n;").kind, CommandKind::ShowPools);
  EXPECT_EQ(ok("show pools;;").kind, CommandKind::ShowPools);
  EXPECT_EQ(ok("show pools;--done").kind, CommandKind::ShowPools);
}

TEST(AdminCommand, UnknownCommandsAreSyntaxErrorsWithTheList) {
  auto e = bad("select 1");
  EXPECT_EQ(e.sqlstate, "42601");
  EXPECT_THAT(e.message, HasSubstr("unknown command \"select\""));  // quoted as typed
  EXPECT_THAT(e.hint, HasSubstr("SHOW POOLS"));
  EXPECT_THAT(e.hint, HasSubstr("KILL_CLIENT <id>"));
  EXPECT_EQ(std::string(command_list()), e.hint.substr(std::string("commands: ").size()));
  EXPECT_THAT(bad("show Statistics").message, HasSubstr("unknown SHOW item \"Statistics\""));
  EXPECT_THAT(bad("show").message, HasSubstr("SHOW needs"));
  EXPECT_THAT(bad("show pools please").message, HasSubstr("unexpected \"please\""));
  EXPECT_THAT(bad("reload now").message, HasSubstr("unexpected \"now\""));
  EXPECT_EQ(bad("showpools").sqlstate, "42601");
  EXPECT_EQ(bad("/* unterminated").sqlstate, "42601");
}

TEST(AdminCommand, KillClientNeedsOnePositiveId) {
  EXPECT_THAT(bad("kill_client").message, HasSubstr("needs a client id"));
  EXPECT_THAT(bad("kill_client abc").message, HasSubstr("\"abc\" is not a client id"));
  EXPECT_THAT(bad("kill_client 0").message, HasSubstr("\"0\" is not a client id"));
  EXPECT_THAT(bad("kill_client -3").message, HasSubstr("is not a client id"));
  EXPECT_THAT(bad("kill_client 12x").message, HasSubstr("is not a client id"));
  EXPECT_THAT(bad("kill_client 99999999999999999999").message, HasSubstr("is not a client id"));  // overflow
  EXPECT_THAT(bad("kill_client 1 2").message, HasSubstr("unexpected \"2\""));
}

TEST(AdminCommand, OneStatementPerQuery) {
  auto e = bad("show pools; show clients");
  EXPECT_EQ(e.sqlstate, "0A000");
  EXPECT_THAT(e.message, HasSubstr("one command per query"));
}
