// A rolling restart of a one-process "fleet" (issue 20, upgrades): the new process starts on the
// same SO_REUSEPORT port, then the old one gets SIGTERM. Clients that reconnect when their
// connection is lost between transactions must lose no transaction, and each moves exactly once.
#include "harness.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace pgopt::test {
namespace {

std::string fmt(long v) { return std::to_string(v); }

// What the clients saw, summed over all of them.
struct Tally {
  std::atomic<long> committed{0};
  std::atomic<long> failed{0};        // an error after BEGIN was acknowledged: a transaction cut
  std::atomic<long> reconnects{0};    // a session lost between transactions, then a new one
  std::atomic<long> refused{0};       // connection attempts that did not log in (retried)
  std::atomic<long> max_per_client{0};
  std::vector<std::string> errors;    // the first few failures, for the message
  std::mutex mu;
  void fail(const std::string& what) {
    ++failed;
    std::lock_guard<std::mutex> l(mu);
    if (errors.size() < 5) errors.push_back(what);
  }
};

// One application client: transactions on one connection; when its connection is found gone at the
// BEGIN of the next transaction it connects again and goes on (what a driver's pool does after a
// 57P01). Odd clients hold each transaction open 50 ms, so some are mid-transaction at the SIGTERM.
void app_client(int id, const std::string& conninfo, const std::atomic<bool>& stop, Tally& t) {
  auto quiet = [](void*, const char*) {};  // the 57P01 FATALs are expected: not printed
  auto open = [&](Conn& c) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      c = connect(conninfo);
      if (PQstatus(c.get()) == CONNECTION_OK) {
        PQsetNoticeProcessor(c.get(), quiet, nullptr);
        return true;
      }
      ++t.refused;
    }
    return false;
  };
  Conn c;
  if (!open(c)) return t.fail("client " + fmt(id) + " never connected");
  long mine = 0;
  for (long n = 0; !stop; ++n) {
    Result begin = exec(c.get(), "BEGIN");
    if (PQresultStatus(begin.get()) != PGRES_COMMAND_OK) {
      if (PQstatus(c.get()) != CONNECTION_BAD) return t.fail("BEGIN: " + std::string(PQerrorMessage(c.get())));
      ++t.reconnects;
      for (long seen = t.max_per_client, now = ++mine; seen < now && !t.max_per_client.compare_exchange_weak(seen, now);) {
      }
      if (!open(c)) return t.fail("client " + fmt(id) + " could not reconnect");
      --n;
      continue;
    }
    const std::string body = "INSERT INTO fleet_restart VALUES (" + fmt(id) + ", " + fmt(n) + ")" +
                             (id % 2 ? "; SELECT pg_sleep(0.05)" : "");
    std::string e = error_of(c.get(), body);
    if (e.empty()) e = error_of(c.get(), "COMMIT");
    if (!e.empty()) return t.fail("client " + fmt(id) + " transaction " + fmt(n) + ": " + e);
    ++t.committed;
  }
}

TEST(FleetRestart, RollingRestartLosesNoTransactionAndMovesEachClientOnce) {
  constexpr int kClients = 8;
  const int shared = free_port(), own1 = free_port(), own2 = free_port();
  const std::string peers = "[peers]\n1 = \"127.0.0.1:" + fmt(own1) + "\"\n2 = \"127.0.0.1:" + fmt(own2) + "\"\n";
  auto options = [&](int peer, int own) {
    PoolerOptions o;
    o.port = shared;
    o.ready_port = own;
    o.pool_size = kClients;
    o.pooler_extra = "so_reuseport = true\npeer_id = " + fmt(peer) + "\nshutdown_timeout = 20\n";
    o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " +
                  fmt(ClusterEnv::instance().primary_port) + "\n" + peers;
    return o;
  };
  Conn d = direct();
  ok(d.get(), "DROP TABLE IF EXISTS fleet_restart; CREATE TABLE fleet_restart (client int, n int, PRIMARY KEY (client, n))");

  auto old_proc = std::make_unique<Pooler>(options(1, own1));
  const std::string conninfo = "host=127.0.0.1 port=" + fmt(shared) + " dbname=pgopt_test user=postgres connect_timeout=10";
  Tally t;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) threads.emplace_back(app_client, i, conninfo, std::cref(stop), std::ref(t));
  auto committed_past = [&](long n) { return eventually([&] { return t.committed >= n; }, std::chrono::seconds(30)); };

  // Every client is on the old process (the only one listening) before the new one starts.
  ASSERT_TRUE(committed_past(100)) << old_proc->log();
  Pooler new_proc(options(2, own2));
  ASSERT_TRUE(new_proc.wait_log("listening on")) << new_proc.log();
  const long before_term = t.committed;
  old_proc->signal(SIGTERM);
  EXPECT_TRUE(old_proc->wait_log("pgopt stopped", std::chrono::seconds(25))) << old_proc->log();
  EXPECT_EQ(old_proc->wait_exit(), 0);
  // The clients go on through the new process.
  EXPECT_TRUE(committed_past(t.committed + 100)) << new_proc.log();
  stop = true;
  for (auto& th : threads) th.join();

  EXPECT_EQ(t.failed.load(), 0) << (t.errors.empty() ? "" : t.errors.front());
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM fleet_restart"), fmt(t.committed));
  // Each client was on the old process and moved once: a client never reconnected twice, since the
  // old process closed its listener before it closed any client.
  EXPECT_EQ(t.reconnects.load(), kClients);
  EXPECT_LE(t.max_per_client.load(), 1);
  EXPECT_GT(t.committed.load(), before_term);
  // The old process let its running transactions finish: it closed clients at their boundaries.
  EXPECT_NE(old_proc->log().find("shutting down"), std::string::npos);
  EXPECT_GE(count_of(new_proc.log(), "login ok"), size_t(kClients));
  std::printf("[ fleet ] rolling restart, %d clients: %ld transactions, %ld failed, %ld reconnects, "
              "%ld refused connection attempts\n",
              kClients, t.committed.load(), t.failed.load(), t.reconnects.load(), t.refused.load());
  ok(d.get(), "DROP TABLE fleet_restart");
}

}  // namespace
}  // namespace pgopt::test
