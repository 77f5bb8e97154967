// Shared statements after schema changes: the epoch that outdates them, and their preparation again
// before use on each server.
#include "prepared_tracker_support.hpp"

namespace pgopt::pooler::prepared::test {
namespace {

TEST(SchemaEpoch, DropAlterAndUndoneCreatesOutdateStatements) {
  StatementRegistry registry;
  auto stmt = registry.intern("SELECT $1::prepenum", {});
  struct Case {
    std::vector<std::string> replies;  // "C:tag", "E", "Z:status"
    bool outdated;
  };
  const std::vector<Case> cases = {
      {{"C:SELECT 1", "Z:I"}, false},
      {{"C:DROP TYPE", "Z:I"}, true},
      {{"C:BEGIN", "C:ALTER TABLE", "Z:T"}, true},
      {{"C:BEGIN", "C:CREATE TYPE", "C:CREATE TABLE", "Z:T", "C:COMMIT", "Z:I"}, false},
      {{"C:BEGIN", "C:CREATE TYPE", "Z:T"}, false},  // nobody else sees it yet, nothing is gone
      {{"C:BEGIN", "C:CREATE TYPE", "Z:T", "C:ROLLBACK", "Z:I"}, true},
      {{"C:CREATE TYPE", "E", "Z:I"}, true},  // a failed implicit transaction undid it
      {{"C:SAVEPOINT", "C:CREATE TYPE", "C:ROLLBACK", "Z:T"}, true},  // ROLLBACK TO SAVEPOINT
      {{"C:ROLLBACK", "Z:I"}, false},
      {{"E", "Z:I"}, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto epoch = registry.schema_epoch("db" + std::to_string(i));
    ServerStatements user, ddl;  // two server connections to the same database
    user.watch(epoch);
    ddl.watch(epoch);
    std::vector<StatementPtr> none;
    user.add(stmt, 10, none);
    user.next_group();
    for (const auto& r : cases[i].replies) {
      if (r == "E") ddl.on_error();
      else if (r.starts_with("C:")) ddl.on_command_complete(r.substr(2));
      else ddl.on_ready(r[2]);
    }
    EXPECT_EQ(user.outdated(*stmt), cases[i].outdated) << "case " << i;
    EXPECT_EQ(user.has(*stmt), !cases[i].outdated) << "case " << i;
  }
  // Another database's changes are not this one's.
  ServerStatements other;
  other.watch(registry.schema_epoch("elsewhere"));
  std::vector<StatementPtr> none;
  other.add(stmt, 10, none);
  other.next_group();
  ServerStatements ddl;
  ddl.watch(registry.schema_epoch("db1"));
  ddl.on_command_complete("DROP TABLE");
  EXPECT_FALSE(other.outdated(*stmt));
}

TEST(SchemaEpoch, CopyUsedInTheCurrentGroupOrUnwatchedIsNeverOutdated) {
  StatementRegistry registry;
  auto stmt = registry.intern("SELECT 1", {});
  std::vector<StatementPtr> none;
  ServerStatements unwatched;
  unwatched.add(stmt, 10, none);
  unwatched.next_group();
  unwatched.on_command_complete("DROP TYPE");
  EXPECT_FALSE(unwatched.outdated(*stmt));

  ServerStatements s;
  s.watch(registry.schema_epoch("db"));
  s.add(stmt, 10, none);
  const std::string tag("DROP TYPE\0", 10);  // as the relay passes a CommandComplete's body
  s.on_server_message('C', bytes_of(tag));
  EXPECT_FALSE(s.outdated(*stmt));  // a portal of this group may still use it
  s.next_group();
  EXPECT_TRUE(s.outdated(*stmt));
  EXPECT_FALSE(s.has(*stmt));
  // A Close of it that never ran puts it back, still outdated.
  s.restore_outdated(stmt);
  EXPECT_TRUE(s.outdated(*stmt));
  s.add(stmt, 10, none);  // prepared again: current
  s.next_group();
  EXPECT_FALSE(s.outdated(*stmt));
  EXPECT_EQ(s.reprepares, 2u);
}

// psycopg's test_change_type inside one transaction block: the client's statement names a type
// that a DROP made stale. Its next Bind re-prepares the shared statement under the same name first,
// so the server never runs the stale copy (whose XX000 would abort the client's transaction).
TEST_F(PreparedTracker, StatementPreparedBeforeASchemaChangeIsPreparedAgainBeforeUse) {
  server.watch(registry.schema_epoch("db"));
  Tracker a(registry);
  prepare(a, "ins", "INSERT INTO preptable (bar) VALUES ($1::prepenum[])");
  const std::string name = a.statement_for("ins")->server_name;
  EXPECT_EQ(describe_stream(send(a, {bind("ins"), execute(), sync()})), "B(" + name + ") E S");
  for (char t : {'2', 'C', 'Z'}) reply(a, t, t == 'C' ? z("INSERT 0 1") : t == 'Z' ? "T" : "");
  // Another server of the database (another client) drops the type; the transaction goes on.
  ServerStatements other;
  other.watch(registry.schema_epoch("db"));
  other.on_command_complete("DROP TYPE");
  std::string out = send(a, {bind("ins"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "C(" + name + ") P(" + name + ") B(" + name + ") E S");
  EXPECT_EQ(reply(a, '3').action, ReplyAction::Skip);
  EXPECT_EQ(reply(a, '1').action, ReplyAction::Skip);
  EXPECT_EQ(reply(a, '2').action, ReplyAction::Forward);
  EXPECT_EQ(reply(a, 'C', z("INSERT 0 1")).action, ReplyAction::Forward);
  EXPECT_EQ(reply(a, 'Z', "T").action, ReplyAction::Forward);
  EXPECT_TRUE(a.idle());
  // Once prepared again it is current: no more Closes.
  EXPECT_EQ(describe_stream(send(a, {bind("ins"), execute(), sync()})), "B(" + name + ") E S");
  for (char t : {'2', 'C', 'Z'}) reply(a, t, t == 'C' ? z("INSERT 0 1") : t == 'Z' ? "T" : "");

  // A new client's Parse of the same text after another change: the Parse goes to the server (not
  // answered as one of a statement the server has), after the Close of the old copy.
  other.on_command_complete("ALTER TYPE");
  Tracker b(registry);
  out = send(b, {parse("p", "INSERT INTO preptable (bar) VALUES ($1::prepenum[])"), sync()});
  EXPECT_EQ(describe_stream(out), "C(" + name + ") P(" + name + ") S");
  EXPECT_EQ(reply(b, '3').action, ReplyAction::Skip);
  EXPECT_EQ(reply(b, '1').action, ReplyAction::Forward);
  EXPECT_EQ(reply(b, 'Z', "T").action, ReplyAction::Forward);
  EXPECT_EQ(b.statement_for("p")->server_name, name);
}

// The Close of an outdated copy that the server skips (an earlier error in the group) leaves the
// copy on the server: it is still known there, and still outdated.
TEST_F(PreparedTracker, SkippedCloseOfAnOutdatedCopyKeepsItOutdated) {
  server.watch(registry.schema_epoch("db"));
  Tracker a(registry);
  prepare(a, "s", "SELECT $1::prepenum");
  const std::string name = a.statement_for("s")->server_name;
  server.on_command_complete("DROP TYPE");
  server.next_group();
  std::string out = send(a, {parse("", "SELEC"), bind("s"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "P() C(" + name + ") P(" + name + ") B(" + name + ") E S");
  EXPECT_EQ(reply(a, 'E', error_body("42601")).action, ReplyAction::Forward);
  EXPECT_EQ(reply(a, 'Z', "I").action, ReplyAction::Forward);
  out = send(a, {bind("s"), execute(), sync()});
  EXPECT_EQ(describe_stream(out), "C(" + name + ") P(" + name + ") B(" + name + ") E S");
}


}  // namespace
}  // namespace pgopt::pooler::prepared::test
