// Cancel requests through the pooler: each client's key reaches only the server running its query.
#include "admin_harness.hpp"
#include "harness.hpp"
#include "waits.hpp"

#include <future>
#include <set>

namespace pgopt::test {
namespace {

class Cancel : public ::testing::TestWithParam<std::string> {};

TEST_P(Cancel, CancelStopsOnlyThatClientsQueryWithin57014) {
  PoolerOptions o;
  o.pool_mode = GetParam();
  o.pool_size = 4;
  Pooler p(o);
  Conn victim = connect_ok(p.conninfo());
  Conn bystander = connect_ok(p.conninfo());
  ASSERT_EQ(PQsendQuery(victim.get(), "SELECT pg_sleep(30)"), 1);
  ASSERT_EQ(PQsendQuery(bystander.get(), "SELECT pg_sleep(1.5), 'bystander'"), 1);
  // Both run on servers of their own before the cancel, or it could not pick the wrong one.
  ASSERT_TRUE(wait_running("SELECT pg_sleep(30)")) << p.log();
  ASSERT_TRUE(wait_running("SELECT pg_sleep(1.5), 'bystander'")) << p.log();

  auto t0 = std::chrono::steady_clock::now();
  PGcancel* cancel = PQgetCancel(victim.get());
  char err[256];
  ASSERT_EQ(PQcancel(cancel, err, sizeof err), 1) << err;
  PQfreeCancel(cancel);
  Result r(PQgetResult(victim.get()));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(sqlstate(r.get()), "57014");
  EXPECT_LT(took, std::chrono::seconds(1));
  while (PGresult* x = PQgetResult(victim.get())) PQclear(x);

  Result b(PQgetResult(bystander.get()));
  ASSERT_EQ(PQresultStatus(b.get()), PGRES_TUPLES_OK) << PQerrorMessage(bystander.get());
  EXPECT_STREQ(PQgetvalue(b.get(), 0, 1), "bystander");
  while (PGresult* x = PQgetResult(bystander.get())) PQclear(x);
  // Both sessions stay usable after the cancel.
  EXPECT_EQ(value(victim.get(), "SELECT 'again'"), "again");
  EXPECT_EQ(value(bystander.get(), "SELECT 'fine'"), "fine");
}

INSTANTIATE_TEST_SUITE_P(Modes, Cancel, ::testing::Values("transaction", "session"));

TEST(CancelTxn, CancelFromAnIdleClientDoesNotHitTheClientNowOnItsServer) {
  // Transaction mode, one server: A's last server now runs B's query. A's cancel must not stop it.
  PoolerOptions o;
  o.pool_size = 1;
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  EXPECT_EQ(value(a.get(), "SELECT 1"), "1");
  Conn b = connect_ok(p.conninfo());
  ASSERT_EQ(PQsendQuery(b.get(), "SELECT pg_sleep(1), 'b done'"), 1);
  ASSERT_TRUE(wait_running("SELECT pg_sleep(1), 'b done'")) << p.log();
  PGcancel* cancel = PQgetCancel(a.get());
  char err[256];
  PQcancel(cancel, err, sizeof err);
  PQfreeCancel(cancel);
  Result r(PQgetResult(b.get()));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(b.get());
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "b done");
  while (PGresult* x = PQgetResult(b.get())) PQclear(x);
}

// The pid in a client's cancel key is its slot in the pooler's table of sessions plus a generation
// (pid = generation << 20 | slot + 1), and a slot is reused by a later client: the generation gives
// that client another pid, and only the key's exact pid and random secret reach a session, so a gone
// client's key cannot cancel the query of the client now in its slot.
constexpr int slot_of(int pid) { return pid & ((1 << 20) - 1); }

TEST(CancelTxn, KeyOfAGoneClientDoesNotHitTheNextClientInItsSlot) {
  Pooler p;
  PGcancel* stale = nullptr;
  int gone_pid = 0;
  {
    Conn a = connect_ok(p.conninfo());
    gone_pid = PQbackendPID(a.get());
    stale = PQgetCancel(a.get());
    ASSERT_NE(stale, nullptr);
    const std::string port = local_port(a.get());
    a.reset();
    ASSERT_TRUE(p.wait_log(":" + port + " closing: client sent Terminate")) << p.log();
  }
  // Free slots are reused oldest first: connect (keeping each connection) until one lands in a's.
  std::vector<Conn> others;
  Conn b = connect_ok(p.conninfo());
  while (slot_of(PQbackendPID(b.get())) != slot_of(gone_pid) && others.size() < 20) {
    others.push_back(std::move(b));
    b = connect_ok(p.conninfo());
  }
  // The precondition of this test: b got a's slot, under a pid of its own.
  ASSERT_EQ(slot_of(PQbackendPID(b.get())), slot_of(gone_pid));
  EXPECT_NE(PQbackendPID(b.get()), gone_pid);
  EXPECT_GT(PQbackendPID(b.get()), 0);
  ASSERT_EQ(PQsendQuery(b.get(), "SELECT pg_sleep(1), 'b done'"), 1);
  ASSERT_TRUE(wait_running("SELECT pg_sleep(1), 'b done'")) << p.log();
  char err[256];
  PQcancel(stale, err, sizeof err);
  PQfreeCancel(stale);
  Result r(PQgetResult(b.get()));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(b.get());
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "b done");
  while (PGresult* x = PQgetResult(b.get())) PQclear(x);
  // b's own key still works.
  ASSERT_EQ(PQsendQuery(b.get(), "SELECT pg_sleep(30)"), 1);
  ASSERT_TRUE(wait_running("SELECT pg_sleep(30)")) << p.log();
  PGcancel* own = PQgetCancel(b.get());
  ASSERT_EQ(PQcancel(own, err, sizeof err), 1) << err;
  PQfreeCancel(own);
  Result c(PQgetResult(b.get()));
  EXPECT_EQ(sqlstate(c.get()), "57014");
  while (PGresult* x = PQgetResult(b.get())) PQclear(x);
}

// Drivers' connection pools tell connections apart by backend pid and expect a reconnect to give a
// new one; the slot table must not hand the same pid to the next client.
TEST(CancelTxn, ConnectionsOpenedOneAfterAnotherGetDistinctBackendPids) {
  Pooler p;
  std::set<int> pids;
  for (int i = 0; i < 50; ++i) {
    Conn c = connect_ok(p.conninfo());
    const int pid = PQbackendPID(c.get());
    EXPECT_GT(pid, 0);
    EXPECT_TRUE(pids.insert(pid).second) << "pid " << pid << " handed out twice, at connection " << i;
    EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
  }
}

TEST(CancelTxn, ForgedCancelKeyIsIgnored) {
  PoolerOptions o;
  Pooler p(o);
  Conn a = connect_ok(p.conninfo());
  ASSERT_EQ(PQsendQuery(a.get(), "SELECT pg_sleep(1), 'a done'"), 1);
  ASSERT_TRUE(wait_running("SELECT pg_sleep(1), 'a done'")) << p.log();
  // A CancelRequest with a made-up key, sent by hand.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(p.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  uint32_t msg[4] = {htonl(16), htonl(80877102), htonl(12345), htonl(67890)};
  ASSERT_EQ(::send(fd, msg, sizeof msg, 0), ssize_t(sizeof msg));
  char buf[16];
  EXPECT_EQ(::recv(fd, buf, sizeof buf, 0), 0);  // closed without a reply, like PostgreSQL
  ::close(fd);
  Result r(PQgetResult(a.get()));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(a.get());
  while (PGresult* x = PQgetResult(a.get())) PQclear(x);
}

}  // namespace
}  // namespace pgopt::test
