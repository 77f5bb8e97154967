// One client cannot hurt the others: login answers in PostgreSQL's order (authentication before
// the database name), startup settings are checked at login, a client that pipelines without
// reading is read at its own pace, and a big statement is recorded without being analysed.
#include "admin_harness.hpp"
#include "raw_client.hpp"

namespace pgopt::test {
namespace {

TEST(Login, UnknownDatabaseIsAnsweredOnlyAfterAuthentication) {
  PoolerOptions o;
  o.auth_type = "md5";
  o.users = "\"postgres\" \"secret\"\n";
  Pooler p(o);
  Conn wrong = connect(p.conninfo("postgres", "no_such_db", "password=wrong"));
  ASSERT_EQ(PQstatus(wrong.get()), CONNECTION_BAD);
  const std::string wrong_msg = PQerrorMessage(wrong.get());
  EXPECT_NE(wrong_msg.find("password authentication failed"), std::string::npos) << wrong_msg;
  EXPECT_EQ(wrong_msg.find("does not exist"), std::string::npos) << "the database name was answered before the password";
  Conn right = connect(p.conninfo("postgres", "no_such_db", "password=secret"));
  ASSERT_EQ(PQstatus(right.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(right.get())).find("database \"no_such_db\" does not exist"), std::string::npos)
      << PQerrorMessage(right.get());
}

TEST(Login, StartupSettingsAreCheckedAtLogin) {
  for (const char* mode : {"transaction", "session"}) {
    PoolerOptions o;
    o.pool_mode = mode;
    Pooler p(o);
    Conn unknown = connect(p.conninfo("postgres", "pgopt_test", "options='-c no_such_setting=1'"));
    ASSERT_EQ(PQstatus(unknown.get()), CONNECTION_BAD) << mode;
    EXPECT_NE(std::string(PQerrorMessage(unknown.get())).find("unrecognized configuration parameter \"no_such_setting\""),
              std::string::npos)
        << PQerrorMessage(unknown.get());
    Conn bad_value = connect(p.conninfo("postgres", "pgopt_test", "options='-c work_mem=lots'"));
    ASSERT_EQ(PQstatus(bad_value.get()), CONNECTION_BAD) << mode;
    EXPECT_NE(std::string(PQerrorMessage(bad_value.get())).find("work_mem"), std::string::npos)
        << PQerrorMessage(bad_value.get());
    // What PostgreSQL accepts still works, custom settings included, and nothing else was hurt.
    Conn fine = connect_ok(p.conninfo("postgres", "pgopt_test", "options='-c app.tenant=7 -c work_mem=5MB'"));
    EXPECT_EQ(value(fine.get(), "SELECT current_setting('app.tenant') || '/' || current_setting('work_mem')"), "7/5MB");
  }
}

TEST(Backpressure, APipeliningClientIsReadAtItsPaceAndGetsEveryReplyInOrder) {
  PoolerOptions o;
  o.pooler_extra = "max_pipeline_depth = 8\n";
  Pooler p(o);
  RawClient flood(p.port);
  ASSERT_TRUE(flood.login());
  constexpr int kQueries = 3000;
  std::string burst;
  for (int i = 0; i < kQueries; ++i) {
    std::string q = "SELECT " + std::to_string(i);
    burst += 'Q';
    RawClient::put32(burst, uint32_t(q.size() + 5));
    burst += q + '\0';
  }
  ASSERT_TRUE(flood.send_raw(burst));
  // Meanwhile another client is served as usual.
  Conn other = connect_ok(p.conninfo());
  EXPECT_EQ(value(other.get(), "SELECT 42"), "42");
  int next = 0, ready = 0;
  while (ready < kQueries) {
    auto m = flood.read_message();
    ASSERT_TRUE(m) << "reply " << ready << " missing";
    if (m->type == 'D') {
      EXPECT_EQ(m->body.substr(6), std::to_string(next)) << "replies out of order";
      ++next;
    } else if (m->type == 'Z') {
      ++ready;
    } else {
      ASSERT_NE(m->type, 'E') << m->body;
    }
  }
  EXPECT_EQ(next, kQueries);
}

TEST(BigStatements, CaptureRecordsThemWithoutAnalysingThem) {
  PoolerOptions o;
  o.users = "\"postgres\" \"x\"\n";
  o.pooler_extra = "admin_users = [\"postgres\"]\ncapture = true\n";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo());
  const std::string pad(300 * 1024, 'x');
  EXPECT_EQ(value(c.get(), "SELECT length('" + pad + "')"), std::to_string(pad.size()));
  Conn adm = admin(p);
  bool found = false;
  ASSERT_TRUE(eventually([&] {
    for (auto& r : show(adm.get(), "SHOW QUERIES").rows)
      if (r["query"].find("300 kB statement, over the 64 kB capture limit: not analysed") != std::string::npos &&
          r["query"].rfind("SELECT length('xxx", 0) == 0)
        found = true;
    return found;
  })) << "no truncated entry in SHOW QUERIES";
}

}  // namespace
}  // namespace pgopt::test
