// A fleet across hosts behind Debian's HAProxy (TCP mode, health-checked on /healthz): two pgopt
// processes on 127.0.0.2 and 127.0.0.3 stand in for two hosts. Draining one loses no transaction
// of clients that reconnect, and cancels cross hosts through [peers].
#include "harness.hpp"

#include <atomic>
#include <thread>
#include <vector>

namespace pgopt::test {
namespace {

const char* kHaproxy = "/usr/sbin/haproxy";

// One haproxy process in the foreground (-db), started and stopped by PID.
class Haproxy {
 public:
  Haproxy(const std::filesystem::path& dir, const std::vector<std::pair<std::string, int>>& backends,
          const std::vector<int>& health_ports)
      : front(free_port()), stats(free_port()), cfg_(dir / "haproxy.cfg"), log_(dir / "haproxy.log") {
    std::ofstream c(cfg_);
    c << "global\n  maxconn 500\n"
      << "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n"
      // A connection refused by a draining process is retried on another server.
      << "  retries 3\n  option redispatch\n"
      << "frontend pg\n  bind 127.0.0.1:" << front << "\n  default_backend pgopt\n"
      << "backend pgopt\n  balance roundrobin\n  option httpchk GET /healthz\n  http-check expect status 200\n"
      << "  default-server inter 100ms fall 1 rise 1\n";
    for (size_t i = 0; i < backends.size(); ++i)
      c << "  server p" << i + 1 << " " << backends[i].first << ":" << backends[i].second << " check addr "
        << backends[i].first << " port " << health_ports[i] << "\n";
    c << "listen stats\n  mode http\n  bind 127.0.0.1:" << stats << "\n  stats enable\n  stats uri /stats\n";
    c.close();
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(kHaproxy, kHaproxy, "-db", "-f", cfg_.c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~Haproxy() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int st;
    ::waitpid(pid_, &st, 0);
  }
  // Each server's status as HAProxy's stats CSV reports it ("UP", "DOWN", ...), by name.
  std::map<std::string, std::string> servers() const {
    std::map<std::string, std::string> out;
    std::istringstream csv(run("curl -s --max-time 2 'http://127.0.0.1:" + std::to_string(stats) + "/stats;csv'"));
    for (std::string line; std::getline(csv, line);) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
      if (f.size() > 17 && f[0] == "pgopt" && f[1] != "BACKEND") out[f[1]] = f[17];
    }
    return out;
  }
  bool wait_status(const std::string& server, const std::string& status) const {
    return eventually([&] {
      auto s = servers();
      return s.count(server) && s[server].starts_with(status);
    }, std::chrono::seconds(10));
  }
  std::string log() const { return run("cat " + log_.string()); }
  int front, stats;

 private:
  std::filesystem::path cfg_, log_;
  pid_t pid_ = -1;
};

struct TwoHosts {
  std::vector<std::string> addrs{"127.0.0.2", "127.0.0.3"};
  std::vector<int> ports, metrics;
  std::vector<std::unique_ptr<Pooler>> procs;
  std::unique_ptr<Haproxy> lb;

  TwoHosts() {
    for (size_t i = 0; i < addrs.size(); ++i) {
      ports.push_back(free_port());
      metrics.push_back(free_port());
    }
    std::string peers = "[peers]\n";
    for (size_t i = 0; i < addrs.size(); ++i)
      peers += std::to_string(i + 1) + " = \"" + addrs[i] + ":" + std::to_string(ports[i]) + "\"\n";
    for (size_t i = 0; i < addrs.size(); ++i) {
      PoolerOptions o;
      o.listen_addr = addrs[i];
      o.port = ports[i];
      o.pool_size = 20;
      o.pooler_extra = "peer_id = " + std::to_string(i + 1) + "\nmetrics_addr = \"" + addrs[i] +
                       "\"\nmetrics_port = " + std::to_string(metrics[i]) + "\nshutdown_timeout = 20\n";
      o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " +
                    std::to_string(ClusterEnv::instance().primary_port) + "\n" + peers;
      procs.push_back(std::make_unique<Pooler>(o));
    }
    std::vector<std::pair<std::string, int>> backends;
    for (size_t i = 0; i < addrs.size(); ++i) backends.emplace_back(addrs[i], ports[i]);
    lb = std::make_unique<Haproxy>(procs[0]->dir(), backends, metrics);
  }
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(lb->front) + " dbname=pgopt_test user=postgres connect_timeout=10";
  }
};

TEST(FleetHaproxy, DrainingOneHostLosesNoTransactionOfReconnectingClients) {
  ASSERT_TRUE(std::filesystem::exists(kHaproxy)) << "scripts/setup.sh installs haproxy";
  TwoHosts h;
  ASSERT_TRUE(h.lb->wait_status("p1", "UP") && h.lb->wait_status("p2", "UP")) << h.lb->log();
  Conn d = direct();
  ok(d.get(), "DROP TABLE IF EXISTS fleet_lb; CREATE TABLE fleet_lb (id int PRIMARY KEY, client int)");

  // pgbench -C style: every transaction on a new connection. A failure before BEGIN is
  // acknowledged (refused, or closed while logging in) is retried on a new connection; a failure
  // after it is a failed transaction.
  constexpr int kClients = 8, kPerClient = 60;
  std::atomic<int> failed{0}, retried{0}, committed{0};
  std::atomic<bool> drain_now{false};
  auto client = [&](int id) {
    for (int n = 0; n < kPerClient; ++n) {
      if (id == 0 && n == kPerClient / 3) drain_now = true;
      for (int attempt = 0;; ++attempt) {
        Conn c = connect(h.conninfo());
        if (PQstatus(c.get()) != CONNECTION_OK || error_of(c.get(), "BEGIN") != "") {
          ++retried;
          if (attempt < 20) continue;
          ++failed;
          break;
        }
        const std::string row = std::to_string(id * 1000 + n);
        if (error_of(c.get(), "INSERT INTO fleet_lb VALUES (" + row + ", " + std::to_string(id) + ")") != "" ||
            error_of(c.get(), "COMMIT") != "") {
          ++failed;
        } else {
          ++committed;
        }
        break;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) threads.emplace_back(client, i);
  ASSERT_TRUE(eventually([&] { return drain_now.load(); }, std::chrono::seconds(60)));
  h.procs[0]->signal(SIGTERM);
  for (auto& t : threads) t.join();

  EXPECT_EQ(failed.load(), 0) << "retried " << retried.load();
  EXPECT_EQ(committed.load(), kClients * kPerClient);
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM fleet_lb"), std::to_string(kClients * kPerClient));
  // The drained process exited by itself; HAProxy saw its /healthz go away and took it out.
  EXPECT_TRUE(h.procs[0]->wait_log("pgopt stopped", std::chrono::seconds(25)));
  EXPECT_TRUE(eventually([&] { return !h.procs[0]->running(); }));
  EXPECT_TRUE(h.lb->wait_status("p1", "DOWN")) << h.lb->log();
  EXPECT_TRUE(h.procs[1]->running());
  // Both served transactions: the drain moved clients, it did not start with an idle host.
  EXPECT_GT(count_of(h.procs[0]->log(), "login ok"), 0u);
  EXPECT_GT(count_of(h.procs[1]->log(), "login ok"), 0u);
  std::printf("[ fleet ] %d transactions through HAProxy, drain of one of 2 pgopt hosts: %d failed, %d retried connections\n",
              committed.load(), failed.load(), retried.load());
  ok(d.get(), "DROP TABLE fleet_lb");
}

TEST(FleetHaproxy, CancelsCrossHostsThroughPeers) {
  TwoHosts h;
  ASSERT_TRUE(h.lb->wait_status("p1", "UP") && h.lb->wait_status("p2", "UP")) << h.lb->log();
  // Round robin: clients alternate between the hosts, and so do their cancel connections.
  constexpr int kClients = 10;
  std::vector<Conn> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(connect_ok(h.conninfo()));
    ASSERT_EQ(PQsendQuery(clients.back().get(), "SELECT pg_sleep(20) /*fleet_lb_cancel*/"), 1);
  }
  Conn d = direct("postgres");
  auto active = [&] {
    return value(d.get(), "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE "
                          "'%fleet_lb_cancel%' AND pid <> pg_backend_pid()");
  };
  ASSERT_TRUE(eventually([&] { return active() == std::to_string(kClients); }, std::chrono::seconds(10)));
  // One more connection shifts the round robin by one: each cancel then reaches the host that does
  // not serve its client, which must forward it.
  { Conn spacer = connect_ok(h.conninfo()); }
  for (int i = 0; i < kClients; ++i) {
    PGcancel* k = PQgetCancel(clients[i].get());
    char err[256];
    ASSERT_EQ(PQcancel(k, err, sizeof err), 1) << err;
    PQfreeCancel(k);
  }
  for (auto& c : clients) {
    std::string state;
    while (PGresult* r = PQgetResult(c.get())) {
      if (PQresultStatus(r) == PGRES_FATAL_ERROR) state = sqlstate(r);
      PQclear(r);
    }
    EXPECT_EQ(state, "57014");
  }
  EXPECT_GE(count_of(h.procs[0]->log(), "forwarded to peer 2") + count_of(h.procs[1]->log(), "forwarded to peer 1"),
            size_t(kClients / 2));
}

}  // namespace
}  // namespace pgopt::test
