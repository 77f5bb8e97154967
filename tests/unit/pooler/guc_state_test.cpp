// GucState: copy-on-write handles, interning of equal client settings, and the sync SQL.
#include "pooler/guc_state.hpp"

#include <gtest/gtest.h>

namespace pgopt::pooler {
namespace {

GucState typical(std::string_view app = "pgbench") {
  GucState s;
  s.set_reported("client_encoding", "UTF8");
  s.set_reported("DateStyle", "ISO, MDY");
  s.set_reported("TimeZone", "Etc/UTC");
  s.set_reported("application_name", app);
  s.set_reported("server_version", "15.18");
  return s;
}

TEST(GucState, AChangeThatChangesNothingKeepsTheHandle) {
  GucState s = typical();
  auto h = s.handle();
  s.set_reported("DateStyle", "ISO, MDY");
  s.set_reported("DateStyle", "ISO, MDY");
  s.reset_all_replayed();  // nothing replayed to drop
  s.reset("DateStyle");    // reported entries are not RESET this way
  EXPECT_EQ(s.handle(), h);
  s.set_replayed("search_path", "SET search_path = a");
  EXPECT_NE(s.handle(), h);
  h = s.handle();
  s.set_replayed("search_path", "SET search_path = a");
  EXPECT_EQ(s.handle(), h);
  s.reset("search_path");
  EXPECT_NE(s.handle(), h);
  EXPECT_EQ(s.find("search_path"), nullptr);
  h = s.handle();
  s.set_reported("datestyle", "ISO, MDY");  // the server's own spelling is what the client is told
  EXPECT_NE(s.handle(), h);
  EXPECT_EQ(s.find("DateStyle")->name, "datestyle");
}

TEST(GucState, CopiesShareUntilOneChanges) {
  GucState a = typical();
  GucState b = a;
  EXPECT_EQ(a.handle(), b.handle());
  EXPECT_TRUE(b.is(a.handle()));
  b.set_reported("TimeZone", "Europe/Paris");
  EXPECT_NE(a.handle(), b.handle());
  EXPECT_FALSE(b.is(a.handle()));
  ASSERT_NE(a.find("timezone"), nullptr);
  EXPECT_EQ(a.find("timezone")->value, "Etc/UTC");  // the original is untouched
  EXPECT_EQ(b.find("TIMEZONE")->value, "Europe/Paris");
  EXPECT_FALSE(a == b);
  b.set_reported("TimeZone", "Etc/UTC");
  EXPECT_TRUE(a == b);  // equal contents in different maps still compare equal
}

TEST(GucState, EqualSettingsAreInternedIntoOneMap) {
  GucInterner in;
  GucState a = typical(), b = typical(), c = typical("psql");
  EXPECT_NE(a.handle(), b.handle());
  a.intern(in);
  b.intern(in);
  c.intern(in);
  EXPECT_EQ(a.handle(), b.handle());
  EXPECT_NE(a.handle(), c.handle());
  EXPECT_EQ(in.size(), 2u);
  // Changing an interned state copies it: the other session keeps its settings.
  b.set_replayed("search_path", "SET search_path = b");
  EXPECT_NE(a.handle(), b.handle());
  EXPECT_EQ(a.find("search_path"), nullptr);
  // Changing it back and interning again finds the shared map.
  b.reset("search_path");
  b.intern(in);
  EXPECT_EQ(a.handle(), b.handle());
}

TEST(GucState, TheInternerForgetsMapsNobodyHolds) {
  GucInterner in;
  {
    GucState a = typical("gone");
    a.intern(in);
    EXPECT_EQ(in.size(), 1u);
  }
  GucState b = typical();
  b.intern(in);
  in.sweep();
  EXPECT_EQ(in.size(), 1u);
  GucState c = typical("gone");
  c.intern(in);
  EXPECT_EQ(in.size(), 2u);
  ASSERT_NE(c.find("application_name"), nullptr);
  EXPECT_EQ(c.find("application_name")->value, "gone");
}

TEST(GucState, AnEmptyStateHasNoEntriesAndInternsToNothing) {
  GucInterner in;
  GucState s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.entries().empty());
  EXPECT_EQ(s.find("x"), nullptr);
  s.intern(in);
  EXPECT_EQ(in.size(), 0u);
  EXPECT_TRUE(s == GucState{});
}

TEST(SyncSql, EmptyWhenTheServerHasWhatTheClientWants) {
  EXPECT_EQ(sync_sql(typical(), typical()), "");
}

TEST(SyncSql, SetsDifferingReportedValuesAndSkipsFixedOnes) {
  GucState want = typical("app"), have = typical();
  have.set_reported("server_version", "16.0");
  EXPECT_EQ(sync_sql(want, have), "SELECT pg_catalog.set_config($q$application_name$q$, $q$app$q$, false);");
}

TEST(SyncSql, ReplaysTheClientsStatementsAndResetsTheServersExtraOnes) {
  GucState want = typical(), have = typical();
  want.set_replayed("search_path", "SET search_path = a");
  have.set_replayed("work_mem", "SET work_mem = '64MB'");
  EXPECT_EQ(sync_sql(want, have), "RESET work_mem;SET search_path = a;");
}

TEST(SyncSql, QuotesValuesThatContainTheDollarTag) {
  GucState want = typical("x$q$y"), have = typical();
  EXPECT_EQ(sync_sql(want, have),
            "SELECT pg_catalog.set_config($q$application_name$q$, $q0$x$q$y$q0$, false);");
}

}  // namespace
}  // namespace pgopt::pooler
