// The session check's rules (pooler/session_check.hpp), without a server: array parsing, the row
// the check query returns, and what is carried to the client or forces a reset.
#include "pooler/session_check.hpp"

#include <gtest/gtest.h>

namespace pgopt::pooler {
namespace {

using Row = std::vector<std::optional<std::string>>;

TEST(TextArray, ParsesPostgresOutput) {
  auto a = parse_text_array(R"({a,"b c","d\"e","f\\g",NULL,"NULL",""})");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->size(), 7u);
  EXPECT_EQ((*a)[0], "a");
  EXPECT_EQ((*a)[1], "b c");
  EXPECT_EQ((*a)[2], "d\"e");
  EXPECT_EQ((*a)[3], "f\\g");
  EXPECT_EQ((*a)[4], std::nullopt);
  EXPECT_EQ((*a)[5], "NULL");
  EXPECT_EQ((*a)[6], "");
  auto empty = parse_text_array("{}");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(TextArray, RefusesMalformedText) {
  for (const char* bad : {"", "{", "a,b", "{a,}", "{,a}", "{\"a}", "{a\"b}", "{a}b", "{\"a\"b}"})
    EXPECT_FALSE(parse_text_array(bad)) << bad;
}

Row row(std::string cur, std::string ses, std::optional<std::string> names, std::optional<std::string> values,
        std::string prepared = "0", std::string temp = "f", std::string locks = "f", std::string listen = "f",
        std::string cursors = "f", std::optional<std::string> customs = std::nullopt) {
  return {cur, ses, names, values, prepared, temp, locks, listen, cursors, customs};
}
const std::vector<std::string> kNone;

TEST(SessionFacts, ParsesTheCheckRow) {
  auto f = parse_session_facts(row("alice", "app", "{app.tenant,search_path}", "{A,\"\\\"$user\\\", public\"}", "3",
                                   "t", "f", "t", "f", "{B,NULL}"),
                               {"app.tenant", "not a name", "app.other"});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->current_user, "alice");
  EXPECT_EQ(f->session_user, "app");
  ASSERT_EQ(f->settings.size(), 2u);
  EXPECT_EQ(f->settings[1], (std::pair<std::string, std::string>{"search_path", "\"$user\", public"}));
  EXPECT_EQ(f->prepared, 3);
  EXPECT_TRUE(f->temp_objects);
  EXPECT_FALSE(f->advisory_locks);
  EXPECT_TRUE(f->listening);
  ASSERT_EQ(f->customs.size(), 2u) << "names that are not custom-setting names are never asked for";
  EXPECT_EQ(f->customs[0].first, "app.tenant");
  EXPECT_EQ(f->customs[0].second, "B");
  EXPECT_EQ(f->customs[1].second, std::nullopt);
  // No session-level setting at all: both aggregates are NULL.
  auto none = parse_session_facts(row("app", "app", std::nullopt, std::nullopt), kNone);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->settings.empty());
}

TEST(SessionFacts, RefusesRowsItDoesNotUnderstand) {
  EXPECT_FALSE(parse_session_facts({}, kNone));
  EXPECT_FALSE(parse_session_facts(row("a", "a", "{x}", std::nullopt), kNone));
  EXPECT_FALSE(parse_session_facts(row("a", "a", "{x,y}", "{1}"), kNone));
  EXPECT_FALSE(parse_session_facts(row("a", "a", std::nullopt, std::nullopt, "many"), kNone));
  EXPECT_FALSE(parse_session_facts(row("a", "a", std::nullopt, std::nullopt, "0", "yes"), kNone));
  EXPECT_FALSE(parse_session_facts(row("a", "a", std::nullopt, std::nullopt, "0", "f", "f", "f", "f", "{1}"),
                                   {"a.b", "c.d"}))
      << "fewer custom values than names asked";
}

SessionFacts facts(std::vector<std::pair<std::string, std::string>> settings, std::string current = "app") {
  SessionFacts f;
  f.current_user = std::move(current);
  f.session_user = "app";
  f.settings = std::move(settings);
  return f;
}

TEST(CarrySession, SettingsTheServerHasBecomeTheClients) {
  GucState want;
  want.set_reported("TimeZone", "UTC");
  want.set_replayed("work_mem", "SET work_mem = '8MB'");
  want.set_replayed("statement_timeout", "SET statement_timeout = 5");
  // A function set app.tenant and reset statement_timeout; work_mem is as the client set it.
  auto r = carry_session(facts({{"app.tenant", "A"}, {"work_mem", "8192"}, {"TimeZone", "Asia/Tokyo"}}), want, "app", 0);
  EXPECT_TRUE(r.reset_reason.empty());
  ASSERT_TRUE(want.find("app.tenant"));
  EXPECT_EQ(want.find("app.tenant")->value, set_config_sql("app.tenant", "A"));
  EXPECT_EQ(want.find("work_mem")->value, set_config_sql("work_mem", "8192"));
  EXPECT_FALSE(want.find("statement_timeout")) << "reset on the server, so gone for the client";
  EXPECT_EQ(want.find("timezone")->value, "UTC") << "reported settings are ParameterStatus's business";
  EXPECT_FALSE(want.find("timezone")->replayed);
  EXPECT_EQ(r.carried, (std::vector<std::string>{"statement_timeout", "app.tenant", "work_mem"}));
  // Asked again with nothing changed: nothing to carry, the state keeps its handle.
  auto h = want.handle();
  auto again = carry_session(facts({{"app.tenant", "A"}, {"work_mem", "8192"}}), want, "app", 0);
  EXPECT_TRUE(again.carried.empty());
  EXPECT_TRUE(want.is(h));
}

TEST(CarrySession, RoleFollowsTheClient) {
  GucState want;
  auto r = carry_session(facts({}, "Reporting \"R\""), want, "app", 0);
  ASSERT_TRUE(want.find("role"));
  EXPECT_EQ(want.find("role")->value, "SET ROLE \"Reporting \"\"R\"\"\"");
  EXPECT_EQ(r.carried, std::vector<std::string>{"role"});
  EXPECT_TRUE(r.reset_reason.empty());
  // Back to the login role (RESET ROLE inside a function): the client has no role any more.
  carry_session(facts({}, "app"), want, "app", 0);
  EXPECT_FALSE(want.find("role"));
}

TEST(CarrySession, StateThatCannotFollowForcesAReset) {
  struct Case {
    void (*make)(SessionFacts&);
    std::string reason;
  };
  for (const auto& c : std::vector<Case>{
           {[](SessionFacts& f) { f.session_user = "mallory"; }, "session authorization changed to mallory"},
           {[](SessionFacts& f) { f.temp_objects = true; }, "temporary objects"},
           {[](SessionFacts& f) { f.advisory_locks = true; }, "session advisory locks"},
           {[](SessionFacts& f) { f.listening = true; }, "LISTEN"},
           {[](SessionFacts& f) { f.cursors = true; }, "open cursors"},
           {[](SessionFacts& f) { f.prepared = 3; }, "prepared statements the pooler did not make"},
       }) {
    SessionFacts f = facts({{"app.tenant", "A"}});
    c.make(f);
    GucState want;
    auto r = carry_session(f, want, "app", 2);
    EXPECT_EQ(r.reset_reason, c.reason);
    EXPECT_TRUE(want.find("app.tenant")) << "settings are still carried: " << c.reason;
  }
  SessionFacts own = facts({});
  own.prepared = 2;
  GucState want;
  EXPECT_TRUE(carry_session(own, want, "app", 2).reset_reason.empty()) << "the pooler's own statements are fine";
}

TEST(CodeReach, ReadsTheCatalogRow) {
  const std::optional<std::string> no_names;
  EXPECT_EQ(parse_code_reach({"f", "f", no_names}), CodeReach::None);
  EXPECT_EQ(parse_code_reach({"t", "f", no_names}), CodeReach::Writes);
  EXPECT_EQ(parse_code_reach({"t", "t", no_names}), CodeReach::Everything);
  EXPECT_EQ(parse_code_reach({"f", "t", no_names}), CodeReach::Everything);
  EXPECT_EQ(parse_code_reach({"x", "f", no_names}), CodeReach::Unknown);
  EXPECT_EQ(parse_code_reach({}), CodeReach::Unknown);
  EXPECT_EQ(parse_code_reach_names({"t", "f", "{app.tenant,bad,x.y}"}), (std::vector<std::string>{"app.tenant", "x.y"}));
  EXPECT_TRUE(parse_code_reach_names({"t", "f", no_names}).empty());
}

TEST(SetRole, QuotesTheName) { EXPECT_EQ(set_role_sql("a\"b"), "SET ROLE \"a\"\"b\""); }

TEST(CustomNames, OnlyPlainDottedIdentifiersAreAskedFor) {
  for (const char* good : {"app.tenant", "a.b.c", "My_App.x$1"}) EXPECT_TRUE(is_custom_setting_name(good)) << good;
  for (const char* bad : {"", "app", ".a", "a.", "a..b", "a.1b", "a.b'; DROP", "a b.c", "a.$b"})
    EXPECT_FALSE(is_custom_setting_name(bad)) << bad;
  const std::string sql = session_check_sql({"app.tenant", "x'); DROP TABLE t; --.y"});
  EXPECT_NE(sql.find("ARRAY['app.tenant']"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("DROP"), std::string::npos);
  EXPECT_NE(sql.find("RESET ALL"), std::string::npos);
}

TEST(CarrySession, CustomSettingsFollowTheClient) {
  GucState want;
  want.set_replayed("app.old", "SET app.old = 1");
  SessionFacts f = facts({});
  f.customs = {{"app.tenant", "A"}, {"app.old", ""}, {"app.never", std::nullopt}};
  auto r = carry_session(f, want, "app", 0);
  ASSERT_TRUE(want.find("app.tenant"));
  EXPECT_EQ(want.find("app.tenant")->value, set_config_sql("app.tenant", "A"));
  EXPECT_FALSE(want.find("app.old")) << "reset (empty) on the server";
  EXPECT_FALSE(want.find("app.never"));
}

}  // namespace
}  // namespace pgopt::pooler
