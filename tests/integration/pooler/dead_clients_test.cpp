// Dead clients are never served: a client that closes while queued for a server leaves the queue at
// once and nothing it sent runs; a client that vanishes while it holds a server leaves that server
// finished, rolled back and pooled again (no backend fork per dead client).
#include <sys/socket.h>

#include "admin_harness.hpp"
#include "raw_client.hpp"

namespace pgopt::test {
namespace {

PoolerOptions one_server() {
  PoolerOptions o;
  o.pool_size = 1;
  o.users = "\"postgres\" \"x\"\n";
  o.pooler_extra = "admin_users = [\"postgres\"]\n";
  return o;
}

void reset_table() {
  Conn d = direct();
  ok(d.get(), "CREATE TABLE IF NOT EXISTS dead_t (tag text)");
  ok(d.get(), "TRUNCATE dead_t");
}

std::string query_body(const std::string& sql) { return sql + std::string(1, '\0'); }

TEST(DeadClients, QueuedWritesOfClosedClientsNeverRun) {
  reset_table();
  Pooler p(one_server());
  Conn adm = admin(p);
  Conn holder = connect_ok(p.conninfo());
  ok(holder.get(), "BEGIN");
  ok(holder.get(), "SELECT 1");  // holds the only server
  constexpr int kClients = 50;
  std::vector<std::unique_ptr<RawClient>> queued;
  for (int i = 0; i < kClients; ++i) {
    auto c = std::make_unique<RawClient>(p.port);
    ASSERT_TRUE(c->login());
    ASSERT_TRUE(c->send_message('Q', query_body("INSERT INTO dead_t VALUES ('dead')")));
    queued.push_back(std::move(c));
  }
  ASSERT_TRUE(eventually([&] { return pool_row(adm.get())["cl_waiting"] == std::to_string(kClients); }))
      << pool_row(adm.get())["cl_waiting"];
  // Half close with FIN, half with RST (unread data on close): both leave the queue at once.
  for (int i = 0; i < kClients; ++i) {
    if (i % 2) {
      linger l{1, 0};
      ::setsockopt(queued[size_t(i)]->fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    queued[size_t(i)].reset();
  }
  EXPECT_TRUE(eventually([&] { return pool_row(adm.get())["cl_waiting"] == "0"; })) << p.log();
  ok(holder.get(), "COMMIT");
  // The server is free again: a new client's write runs, none of the dead ones ever did.
  Conn fresh = connect_ok(p.conninfo());
  ok(fresh.get(), "INSERT INTO dead_t VALUES ('alive')");
  EXPECT_EQ(value(fresh.get(), "SELECT string_agg(tag, ',') FROM dead_t"), "alive");
  EXPECT_GE(count_of(p.log(), "client closed the connection while waiting for a server"), size_t(kClients)) << p.log();
}

struct Vanish {
  std::string name;
  std::vector<std::string> queries;  // each run to its ReadyForQuery first
  std::string last_bytes;            // then sent raw, and the socket closed at once
};

class VanishingClient : public ::testing::TestWithParam<Vanish> {};

std::string msg(char type, const std::string& body) {
  std::string m(1, type);
  RawClient::put32(m, uint32_t(body.size() + 4));
  return m + body;
}

TEST_P(VanishingClient, LeavesItsServerRolledBackAndPooled) {
  const Vanish& v = GetParam();
  reset_table();
  Pooler p(one_server());
  std::string pid;
  {
    RawClient a(p.port);
    ASSERT_TRUE(a.login());
    ASSERT_TRUE(a.send_message('Q', query_body("SELECT pg_backend_pid()")));
    for (const auto& m : a.read_until_ready_or_error())
      if (m.type == 'D') pid = m.body.substr(6);  // column count (2), length (4), the value
    ASSERT_FALSE(pid.empty());
    for (const auto& q : v.queries) {
      ASSERT_TRUE(a.send_message('Q', query_body(q)));
      auto replies = a.read_until_ready_or_error();
      ASSERT_FALSE(replies.empty());
      ASSERT_NE(replies.back().type, 'E') << q;
    }
    ASSERT_TRUE(a.send_raw(v.last_bytes));
    linger l{1, 0};  // RST, as a killed process's socket
    ::setsockopt(a.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  const auto start = std::chrono::steady_clock::now();
  Conn b = connect_ok(p.conninfo());
  EXPECT_EQ(value(b.get(), "SELECT pg_backend_pid()"), pid) << "the server was not reused:\n" << p.log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(value(b.get(), "SELECT count(*) FROM dead_t"), "0") << "the gone client's transaction was not rolled back";
  EXPECT_EQ(value(b.get(), "SELECT current_setting('transaction_isolation')"), "read committed");
  // Nothing of the gone client's session state either.
  EXPECT_EQ(value(b.get(), "SHOW statement_timeout"), "0");
}

const std::string kInsert = "INSERT INTO dead_t VALUES ('gone')";

INSTANTIATE_TEST_SUITE_P(
    Cases, VanishingClient,
    ::testing::Values(
        Vanish{"idle_in_transaction", {"BEGIN", kInsert}, ""},
        Vanish{"failed_transaction", {"BEGIN ISOLATION LEVEL SERIALIZABLE", kInsert}, msg('Q', query_body("SELECT 1/0"))},
        Vanish{"mid_query", {"BEGIN", kInsert, "SET statement_timeout = '30s'"},
               msg('Q', query_body("SELECT pg_sleep(20)"))},
        Vanish{"autocommit_mid_query", {}, msg('Q', query_body("INSERT INTO dead_t SELECT 'gone' FROM pg_sleep(20)"))},
        // Parse, Bind, Execute and no Sync: the server waits for the rest of the group.
        Vanish{"extended_without_sync",
               {"BEGIN"},
               msg('P', std::string("\0", 1) + kInsert + std::string("\0\0\0", 3)) +
                   msg('B', std::string("\0\0\0\0\0\0\0\0", 8)) + msg('E', std::string("\0\0\0\0\0", 5))},
        // A COPY FROM STDIN begun, some data sent, never ended.
        Vanish{"mid_copy_in", {"BEGIN"}, msg('Q', query_body("COPY dead_t FROM STDIN")) + msg('d', "gone\n")},
        // Half a message: the pooler holds it; the server has the open transaction.
        Vanish{"mid_message", {"BEGIN", kInsert}, msg('Q', query_body("SELECT 1")).substr(0, 7)}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pgopt::test
