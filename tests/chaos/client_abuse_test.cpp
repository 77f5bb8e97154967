// Clients that misbehave: a connect/disconnect storm (some leaving mid-login or mid-query), slow
// clients holding logins and half-sent messages open, and a slow flood of the metrics port. In
// every case the well-behaved clients next to them are served, and the pooler ends where it began.
#include "chaos_harness.hpp"
#include "raw_client.hpp"

#include <dirent.h>

namespace pgopt::test::chaos {
namespace {

// Open descriptors of a process (its /proc/PID/fd entries).
int open_fds(pid_t pid) {
  int n = 0;
  if (DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

// A well-behaved client's statement, timed: the longest one is what a bystander waited at worst.
void probe(const Pooler& p, Tally& t) {
  const auto t0 = std::chrono::steady_clock::now();
  Conn c = connect(p.conninfo());
  if (PQstatus(c.get()) != CONNECTION_OK) return t.failure(PQerrorMessage(c.get()));
  Result r = exec(c.get(), "SELECT 41 + 1");
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || std::string(PQgetvalue(r.get(), 0, 0)) != "42")
    return t.failure(PQerrorMessage(c.get()));
  ++t.ok;
  t.took(std::chrono::steady_clock::now() - t0);
}

TEST(ClientAbuse, ConnectDisconnectStormLeavesNothingBehind) {
  PoolerOptions o;
  o.pool_size = 4;
  o.workers = 2;
  Pooler p(o);
  {
    Conn warm = connect_ok(p.conninfo());
    EXPECT_EQ(value(warm.get(), "SELECT 1"), "1");
  }
  ASSERT_TRUE(eventually([&] { return open_fds(p.pid) > 0; }));
  const int fds_before = open_fds(p.pid);
  Tally storm, bystanders;
  std::atomic<int> rounds{0};
  {
    // Eight threads: a full login, query and goodbye; a login abandoned half-way; a client that
    // vanishes with a query running; a client that vanishes inside a transaction.
    Load load(8, [&](int i, const std::atomic<bool>& stop) {
      for (int n = 0; !stop; ++n) {
        switch ((i + n) % 4) {
          case 0: probe(p, storm); break;
          case 1: {
            int fd = dial(p.port);
            const char half[] = {0, 0, 0, 40, 0, 3, 0, 0, 'u', 's'};  // a startup packet cut short
            if (fd >= 0) ::send(fd, half, sizeof half, MSG_NOSIGNAL);
            if (fd >= 0) ::close(fd);
            break;
          }
          case 2: {
            Conn c = connect(p.conninfo());
            PQsendQuery(c.get(), "SELECT pg_sleep(0.05)");
            ::shutdown(PQsocket(c.get()), SHUT_RDWR);  // gone with the query running, no Terminate
            break;
          }
          case 3: {
            Conn c = connect(p.conninfo());
            exec(c.get(), "BEGIN");
            exec(c.get(), "SELECT 1");
            ::shutdown(PQsocket(c.get()), SHUT_RDWR);  // gone inside the transaction
            break;
          }
        }
        ++rounds;
      }
    });
    Load watch(1, [&](int, const std::atomic<bool>& stop) {
      while (!stop) probe(p, bystanders);
    });
    ASSERT_TRUE(eventually([&] { return rounds >= 800; }, 60s)) << storm.report();
  }
  EXPECT_EQ(storm.failed, 0u) << storm.report() << "\n" << p.log().substr(0, 4000);
  EXPECT_EQ(bystanders.failed, 0u) << bystanders.report();
  EXPECT_GT(bystanders.ok, 0u);
  // Generous: a correctness bound (nobody stuck behind the storm), not a latency target.
  EXPECT_LT(bystanders.longest_us.load(), 5'000'000) << "a bystander waited this long (us)";
  // No backend per client, no descriptor left over, nothing left in a transaction.
  EXPECT_LE(server_connections(), o.pool_size);
  // (The pool may have grown from the one warm server connection to its size.)
  EXPECT_TRUE(eventually([&] { return open_fds(p.pid) <= fds_before + o.pool_size; }, 10s))
      << open_fds(p.pid) << " descriptors open, " << fds_before << " before the storm";
  Conn d = direct();
  EXPECT_EQ(value(d.get(), "SELECT count(*) FROM pg_stat_activity WHERE datname = 'pgopt_test' "
                           "AND state LIKE 'idle in transaction%'"),
            "0");
  EXPECT_TRUE(p.running());
}

// Slowloris at login: clients that send their startup packet a byte at a time, and md5 clients that
// stop half-way through their password message. Others log in and run queries meanwhile; every slow
// client is closed by client_login_timeout.
TEST(ClientAbuse, SlowLoginsAreClosedByTheLoginTimeoutAndHurtNoOne) {
  PoolerOptions o;
  o.auth_type = "md5";
  o.users = "\"md5_user\" \"" + env().get("PGOPT_MD5_PASSWORD") + "\"\n";
  o.pooler_extra = "client_login_timeout = \"2s\"\n";
  Pooler p(o);
  const std::string good = p.conninfo("md5_user", "pgopt_test", "password=" + env().get("PGOPT_MD5_PASSWORD"));
  std::vector<std::unique_ptr<RawClient>> trickling, stuck;
  std::string startup;
  {
    std::string body;
    RawClient::put32(body, 196608);
    body += std::string("user") + '\0' + "md5_user" + '\0' + "database" + '\0' + "pgopt_test" + '\0' + '\0';
    RawClient::put32(startup, uint32_t(body.size() + 4));
    startup += body;
  }
  for (int i = 0; i < 20; ++i) {
    trickling.push_back(std::make_unique<RawClient>(p.port));
    ASSERT_TRUE(trickling.back()->send_raw(startup.substr(0, 1)));
    auto s = std::make_unique<RawClient>(p.port);
    ASSERT_TRUE(s->send_raw(startup));
    auto m = s->read_message();  // AuthenticationMD5Password
    ASSERT_TRUE(m && m->type == 'R') << "no auth request";
    ASSERT_TRUE(s->send_raw(std::string("p\0\0\0\x28md5", 8)));  // 40 bytes announced, 3 sent
    stuck.push_back(std::move(s));
  }
  const auto t0 = std::chrono::steady_clock::now();
  Tally bystanders;
  size_t sent = 1;
  // Until the login timeout has closed them all: a byte now and then, and bystanders in between.
  bool all_closed = false;
  while (!all_closed && std::chrono::steady_clock::now() - t0 < 15s) {
    for (auto& c : trickling)
      if (sent < startup.size()) c->send_raw(startup.substr(sent, 1));
    ++sent;
    // time must pass: the trickle's pace (a slowloris); the packet would take ~8 s in all
    std::this_thread::sleep_for(150ms);
    const auto b0 = std::chrono::steady_clock::now();
    Conn c = connect(good);
    if (PQstatus(c.get()) == CONNECTION_OK && value(c.get(), "SELECT 1") == "1") ++bystanders.ok;
    else bystanders.failure(PQerrorMessage(c.get()));
    bystanders.took(std::chrono::steady_clock::now() - b0);
    all_closed = true;
    for (auto& group : {&trickling, &stuck})
      for (auto& r : *group) {
        pollfd pf{r->fd(), POLLIN, 0};
        if (::poll(&pf, 1, 0) == 0) all_closed = false;
      }
  }
  EXPECT_TRUE(all_closed) << "slow logins still open after 15 s with client_login_timeout = 2s";
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1500ms) << "closed before the login timeout";
  EXPECT_EQ(bystanders.failed, 0u) << bystanders.report();
  EXPECT_GE(bystanders.ok, 3u);
  EXPECT_LT(bystanders.longest_us.load(), 2'000'000) << "a bystander's login and query took this long (us)";
  // The timed-out ones were told why (the md5 ones had finished their startup packet).
  for (auto& r : stuck) {
    auto m = r->read_message();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->type, 'E');
    EXPECT_EQ(RawClient::sqlstate(*m), "08006");
  }
  EXPECT_NE(p.log().find("client_login_timeout"), std::string::npos);
}

// A logged-in client that stops half-way through a Query message holds no server and blocks no one;
// client_idle_timeout closes it.
TEST(ClientAbuse, HalfSentMessageHoldsNothingAndIsClosedWhenIdle) {
  PoolerOptions o;
  o.pool_size = 1;
  o.workers = 1;  // the stuck clients and the bystanders share one worker
  o.pooler_extra = "client_idle_timeout = \"3s\"\n";
  Pooler p(o);
  std::vector<std::unique_ptr<RawClient>> stuck;
  for (int i = 0; i < 10; ++i) {
    auto r = std::make_unique<RawClient>(p.port);
    ASSERT_TRUE(r->login());
    std::string q = "SELECT 1";
    std::string msg = "Q";
    RawClient::put32(msg, uint32_t(4 + 1000));  // 1000 bytes of query announced, 8 sent
    ASSERT_TRUE(r->send_raw(msg + q));
    stuck.push_back(std::move(r));
  }
  Tally bystanders;
  for (int i = 0; i < 20; ++i) probe(p, bystanders);
  EXPECT_EQ(bystanders.failed, 0u) << bystanders.report();
  EXPECT_LT(bystanders.longest_us.load(), 2'000'000);
  for (auto& r : stuck) EXPECT_TRUE(closed_by_peer(r->fd(), 15s)) << "a half-sent message kept its client open";
  EXPECT_TRUE(p.running());
}

// /healthz status of one request on a fresh connection; 0 when refused or closed unanswered.
int healthz(int port) {
  int fd = dial(port);
  if (fd < 0) return 0;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[1024];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) in.append(buf, size_t(n));
  ::close(fd);
  return in.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(in.c_str() + 9) : 0;
}

// 64 slow HTTP clients that trickle a byte at a time and come back as soon as they are closed keep
// the metrics port full for the whole test; /healthz is answered every time, quickly.
TEST(ClientAbuse, HealthzAnswersThroughASlowFloodOfTheMetricsPort) {
  PoolerOptions o;
  const int metrics_port = quiet_port();
  o.pooler_extra = "metrics_port = " + std::to_string(metrics_port) + "\n";
  Pooler p(o);
  ASSERT_TRUE(eventually([&] { return port_open(metrics_port); })) << p.log();
  std::atomic<int> reconnects{0};
  Tally checks;
  {
    Load flood(8, [&](int, const std::atomic<bool>& stop) {
      std::vector<int> fds;
      while (!stop) {
        while (fds.size() < 8) {  // 8 threads x 8 connections = 64
          int fd = dial(metrics_port);
          if (fd < 0) break;
          ::send(fd, "GET /metrics HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
          fds.push_back(fd);
          ++reconnects;
        }
        for (size_t i = 0; i < fds.size();) {
          if (::send(fds[i], "X", 1, MSG_NOSIGNAL) <= 0 || closed_by_peer(fds[i], 0ms)) {
            ::close(fds[i]);
            fds.erase(fds.begin() + long(i));
          } else {
            ++i;
          }
        }
        // time must pass: the trickle's pace, not a wait for a condition
        std::this_thread::sleep_for(100ms);
      }
      for (int fd : fds) ::close(fd);
    });
    ASSERT_TRUE(eventually([&] { return reconnects >= 64; }));
    for (int i = 0; i < 30; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const int status = healthz(metrics_port);
      checks.took(std::chrono::steady_clock::now() - t0);
      if (status == 200) ++checks.ok;
      else checks.failure("/healthz answered " + std::to_string(status));
    }
  }
  EXPECT_EQ(checks.failed, 0u) << checks.report();
  EXPECT_LT(checks.longest_us.load(), 2'000'000) << "the slowest /healthz (us)";
  // And the PostgreSQL side never noticed.
  Conn c = connect_ok(p.conninfo());
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
}

}  // namespace
}  // namespace pgopt::test::chaos
