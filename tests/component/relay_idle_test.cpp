// What a server sends while it idles in the pool (transaction mode) belongs to nobody: it never
// reaches the next client of that server, whose own messages still do. The peek at a server that
// idled past server_check_delay is turned off (1 h) in these tests, so the relay's judge alone
// decides (client_replies.cpp; the rules and PostgreSQL's behaviour: pooler/session/early_replies.hpp).
#include "component_fixture.hpp"

namespace pgopt::test {
namespace {
namespace proto = pgopt::protocol;

PoolerOptions one_server_no_peek(const std::string& mode = "transaction") {
  PoolerOptions o;
  o.pool_mode = mode;
  o.pool_size = 1;
  o.workers = 1;  // B's turn on A's server is certain
  o.pooler_extra = "server_check_delay = \"1h\"\n";
  return o;
}

// A's transaction (`SELECT 'a'`), then, once A has its result, `stray` from the server while it
// sits in the pool (and the connection closed after it when `close_after`).
struct IdleStray {
  std::string stray;
  bool close_after = false;
  std::atomic<bool> a_done{false}, sent{false};
};

FakeBackend::Script a_then_stray(std::shared_ptr<IdleStray> st) {
  return [st](FakeConn& c) {
    serve_queries(c, [st](FakeConn& conn, const std::string& sql) {
      if (sql != "SELECT 'a'") return false;
      conn.send(FakeBackend::result({"?column?"}, {{"a"}}));
      conn.wait_until([&] { return st->a_done.load(); }, "the client to have its result");
      conn.send(st->stray);
      if (st->close_after) conn.close();
      st->sent.store(true);
      return true;
    });
  };
}

// Runs A's transaction and waits until the idle server has sent its stray.
void run_a(PGconn* a, IdleStray& st) {
  EXPECT_EQ(value(a, "SELECT 'a'"), "a");
  st.a_done.store(true);
  ASSERT_TRUE(eventually([&] { return st.sent.load(); }));
}

TEST_F(Component, IdleServersCrashWarningNeverReachesTheNextClient) {
  // quickdie(): PostgreSQL's only NoticeResponse while idle, then the process exits. B's request
  // went to a server that is gone: a clear error (it cannot be known whether the server read it),
  // B stays, and its next statement runs on a new server.
  auto st = std::make_shared<IdleStray>();
  proto::warning_response(st->stray, "57P02", "terminating connection because of crash of another server process");
  st->close_after = true;
  start(a_then_stray(st), one_server_no_peek());
  Conn a = connect_ok(pooler->conninfo());
  Conn b = connect_ok(pooler->conninfo());
  Notices b_notes;
  b_notes.attach(b.get());
  run_a(a.get(), *st);

  Result r = exec(b.get(), "SELECT 'b'");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(sqlstate(r.get()), "08006") << PQerrorMessage(b.get());
  EXPECT_EQ(std::string(PQerrorMessage(b.get())).find("crash"), std::string::npos) << PQerrorMessage(b.get());
  EXPECT_TRUE(b_notes.messages.empty()) << "B got the idle server's dying words: " << b_notes.messages.front();
  EXPECT_EQ(value(b.get(), "SELECT 'b2'"), "b2");
  EXPECT_EQ(fake->connections(), 2);
}

TEST_F(Component, NoticeOfTheFirstRequestItselfStillReachesTheClient) {
  // The reason a notice before the first reply is not dropped: DROP ... IF EXISTS (CREATE ... IF
  // NOT EXISTS, RAISE NOTICE in DO or CALL) sends its notice before its CommandComplete, on a
  // server just attached.
  start([](FakeConn& c) {
    serve_queries(c, [](FakeConn& conn, const std::string& sql) {
      if (sql != "DROP TABLE IF EXISTS t") return false;
      std::string out;
      proto::notice_response(out, "00000", "table \"t\" does not exist, skipping");
      proto::command_complete(out, "DROP TABLE");
      proto::ready_for_query(out, 'I');
      conn.send(out);
      return true;
    });
  }, one_server_no_peek());
  Conn b = connect_ok(pooler->conninfo());
  Notices notes;
  notes.attach(b.get());
  ok(b.get(), "DROP TABLE IF EXISTS t");
  EXPECT_EQ(notes.messages, std::vector<std::string>{"table \"t\" does not exist, skipping"});
  ok(b.get(), "DROP TABLE IF EXISTS t");  // on the same server, pooled in between
  EXPECT_EQ(notes.messages.size(), 2u);
  EXPECT_EQ(fake->connections(), 1);
}

TEST_F(Component, IdleServersParameterStatusLeavesTheNextClientsSettingItsOwn) {
  // The server reports a changed TimeZone while idle (PostgreSQL 13 and older report a SIGHUP's
  // change at once). B's TimeZone stays B's, and the server is brought back to it before B's next
  // transaction: SHOW answers B's value.
  auto a_done = std::make_shared<std::atomic<bool>>(false);
  auto sent = std::make_shared<std::atomic<bool>>(false);
  start([a_done, sent](FakeConn& c) {
    std::string tz = "UTC";  // this connection's TimeZone, as the fake server keeps it
    serve_queries(c, [&tz, a_done, sent](FakeConn& conn, const std::string& sql) {
      if (sql == "SELECT 'a'") {
        conn.send(FakeBackend::result({"?column?"}, {{"a"}}));
        conn.wait_until([&] { return a_done->load(); }, "the client to have its result");
        std::string out;
        proto::parameter_status(out, "TimeZone", "Europe/Paris");
        conn.send(out);
        tz = "Europe/Paris";
        sent->store(true);
        return true;
      }
      if (sql == "SHOW TimeZone") {
        conn.send(FakeBackend::result({"TimeZone"}, {{tz}}));
        return true;
      }
      if (const auto at = sql.find("$q$TimeZone$q$, $q$"); at != std::string::npos) {
        const size_t from = at + std::string("$q$TimeZone$q$, $q$").size();
        tz = sql.substr(from, sql.find("$q$", from) - from);
      }
      return false;  // serve_queries answers the sync
    });
  }, one_server_no_peek());
  Conn a = connect_ok(pooler->conninfo());
  Conn b = connect_ok(pooler->conninfo());
  EXPECT_EQ(value(a.get(), "SELECT 'a'"), "a");
  a_done->store(true);
  ASSERT_TRUE(eventually([&] { return sent->load(); }));

  EXPECT_EQ(value(b.get(), "SELECT 'b'"), "b");
  EXPECT_STREQ(PQparameterStatus(b.get(), "TimeZone"), "UTC");
  EXPECT_EQ(value(b.get(), "SHOW TimeZone"), "UTC");
  EXPECT_STREQ(PQparameterStatus(b.get(), "TimeZone"), "UTC");
  EXPECT_EQ(fake->connections(), 1);
}

TEST_F(Component, IdleServersFatalFailsTheNextClientsRequestAsAnErrorAndTheClientStays) {
  // pg_terminate_backend() (or idle_session_timeout) of a pooled server just before B gets it: B's
  // request fails as on any server lost before its reply (the server's FATAL as an ERROR, B stays;
  // not run again: whether the server read it before dying cannot be told, and it may have
  // committed), and B's next statement runs on a new server. (FailureTransaction's
  // BeginOnAServerThatDiedWhileIdleRunsAgainElsewhere: the same on PostgreSQL, and a bare BEGIN
  // runs again.)
  auto st = std::make_shared<IdleStray>();
  proto::error_response(st->stray, "FATAL", "57P01", "terminating connection due to administrator command");
  st->close_after = true;
  start(a_then_stray(st), one_server_no_peek());
  Conn a = connect_ok(pooler->conninfo());
  Conn b = connect_ok(pooler->conninfo());
  run_a(a.get(), *st);

  Result r = exec(b.get(), "SELECT 'b'");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SEVERITY_NONLOCALIZED), "ERROR") << PQerrorMessage(b.get());
  EXPECT_EQ(sqlstate(r.get()), "57P01") << PQerrorMessage(b.get());
  EXPECT_EQ(PQstatus(b.get()), CONNECTION_OK);
  EXPECT_EQ(value(b.get(), "SELECT 'b2'"), "b2");
  EXPECT_EQ(fake->connections(), 2);
}

TEST_F(Component, IdleClientsOwnNotificationBeforeItsFirstReplyReachesItInSessionMode) {
  // Session mode: the server is the client's from its first request; what the server sends before
  // that request's result is the client's too (unchanged by the transaction-mode rule).
  start([](FakeConn& c) {
    serve_queries(c, [](FakeConn& conn, const std::string& sql) {
      if (sql != "SELECT 'a'") return false;
      std::string out;
      proto::notification_response(out, conn.key().pid, "chan", "mine");
      out += FakeBackend::result({"?column?"}, {{"a"}});
      conn.send(out);
      return true;
    });
  }, one_server_no_peek("session"));
  Conn a = connect_ok(pooler->conninfo());
  EXPECT_EQ(value(a.get(), "SELECT 'a'"), "a");
  EXPECT_EQ(take_notifies(a.get()), std::vector<std::string>{"chan:mine"});
}

}  // namespace
}  // namespace pgopt::test
