// A fleet: three pgopt processes on one SO_REUSEPORT port, each with its own [peers] address.
// A client's cancel request reaches whichever process the kernel picks; it must stop that
// client's query, and only that one, wherever the client is served.
#include "harness.hpp"
#include "raw_client.hpp"

#include <arpa/inet.h>

#include <memory>
#include <vector>

namespace pgopt::test {
namespace {

struct Fleet {
  static constexpr int kSize = 3;
  int shared = free_port();
  std::vector<int> own;
  std::vector<std::unique_ptr<Pooler>> procs;

  explicit Fleet(int pool_size) {
    for (int i = 0; i < kSize; ++i) own.push_back(free_port());
    std::string peers = "[peers]\n";
    for (int i = 0; i < kSize; ++i) peers += fmt(i + 1) + " = \"127.0.0.1:" + fmt(own[i]) + "\"\n";
    for (int i = 0; i < kSize; ++i) {
      PoolerOptions o;
      o.pool_size = pool_size;
      o.port = shared;
      o.ready_port = own[i];
      o.pooler_extra = "so_reuseport = true\npeer_id = " + fmt(i + 1) + "\nquery_wait_timeout = 30\n";
      o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " +
                    fmt(ClusterEnv::instance().primary_port) + "\n" + peers;
      procs.push_back(std::make_unique<Pooler>(o));
    }
  }
  static std::string fmt(int v) { return std::to_string(v); }
  bool all_running() const {
    for (auto& p : procs)
      if (!p->running()) return false;
    return true;
  }
  size_t log_count(const std::string& needle) const {
    size_t n = 0;
    for (auto& p : procs) n += count_of(p->log(), needle);
    return n;
  }
};

// Backends running a query whose text contains `marker`, seen on the primary.
int active_with(const std::string& marker) {
  Conn d = direct("postgres");
  return std::atoi(value(d.get(), "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%" +
                                      marker + "%' AND pid <> pg_backend_pid()")
                       .c_str());
}

// The primary's backends whose query contains `marker` (pid, state, query), for a failure message.
std::string activity_with(const std::string& marker) {
  Conn d = direct("postgres");
  Result r = exec(d.get(), "SELECT pid || ' ' || state || ' ' || query FROM pg_stat_activity WHERE query LIKE '%" +
                               marker + "%' AND pid <> pg_backend_pid()");
  std::string out = "backends running " + marker + ":";
  for (int i = 0; i < PQntuples(r.get()); ++i) out += std::string("\n  ") + PQgetvalue(r.get(), i, 0);
  return out;
}

bool cancel(PGconn* c) {
  PGcancel* k = PQgetCancel(c);
  char err[256];
  const bool sent = PQcancel(k, err, sizeof err) == 1;
  PQfreeCancel(k);
  return sent;
}

// The SQLSTATE a query sent with PQsendQuery ended with ("" if it succeeded).
std::string outcome(PGconn* c) {
  std::string state;
  while (PGresult* r = PQgetResult(c)) {
    if (PQresultStatus(r) == PGRES_FATAL_ERROR) state = sqlstate(r);
    PQclear(r);
  }
  return state;
}

TEST(Fleet, CancelsThroughASharedPortReachTheirOwnClientsOnly) {
  // Rounds of victims and bystanders, all on the shared port: the kernel spreads both the clients
  // and their cancel connections over the three processes, so most cancels arrive at a process
  // that does not serve the client and are forwarded to the one that does.
  constexpr int kRounds = 5, kPairs = 10;
  Fleet f(2 * kPairs);
  ASSERT_TRUE(f.all_running());
  int cancels = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string victim_mark = "victim_" + std::to_string(round);
    const std::string bystander_mark = "bystander_" + std::to_string(round);
    std::vector<Conn> victims, bystanders;
    for (int i = 0; i < kPairs; ++i) {
      victims.push_back(connect_ok("host=127.0.0.1 port=" + std::to_string(f.shared) + " dbname=pgopt_test user=postgres"));
      bystanders.push_back(connect_ok("host=127.0.0.1 port=" + std::to_string(f.shared) + " dbname=pgopt_test user=postgres"));
      ASSERT_EQ(PQsendQuery(victims.back().get(), ("SELECT pg_sleep(20) /*" + victim_mark + "*/").c_str()), 1);
      ASSERT_EQ(PQsendQuery(bystanders.back().get(), ("SELECT pg_sleep(20) /*" + bystander_mark + "*/").c_str()), 1);
    }
    ASSERT_TRUE(eventually([&] { return active_with(victim_mark) == kPairs && active_with(bystander_mark) == kPairs; },
                           std::chrono::seconds(10)))
        << "round " << round << ": victims " << active_with(victim_mark) << ", bystanders " << active_with(bystander_mark);
    for (auto& v : victims) {
      ASSERT_TRUE(cancel(v.get()));
      ++cancels;
    }
    for (auto& v : victims) EXPECT_EQ(outcome(v.get()), "57014") << "round " << round;
    // Every bystander's query still runs: no cancel reached the wrong client.
    EXPECT_EQ(active_with(bystander_mark), kPairs) << "round " << round;
    for (auto& b : bystanders) {
      ASSERT_TRUE(cancel(b.get()));
      ++cancels;
    }
    for (auto& b : bystanders) EXPECT_EQ(outcome(b.get()), "57014") << "round " << round;
    for (auto& v : victims) EXPECT_EQ(value(v.get(), "SELECT 'usable'"), "usable");
  }
  EXPECT_EQ(cancels, 2 * kRounds * kPairs);
  EXPECT_TRUE(f.all_running());
  // The kernel did spread them: each process served clients, and cancels were forwarded.
  const size_t forwarded = f.log_count("forwarded to peer");
  EXPECT_GT(forwarded, size_t(cancels) / 4) << "of " << cancels << " cancels";
  EXPECT_EQ(f.log_count("not forwarded"), 0u);
  for (auto& p : f.procs) EXPECT_GT(count_of(p->log(), "cancel request"), 0u) << p->log_path;
}

struct Key {
  int32_t pid = 0, secret = 0;
};

// Logs in on `port` and returns the BackendKeyData pgopt handed out.
std::optional<Key> raw_login(RawClient& c) {
  if (!c.send_startup(196608, {{"user", "postgres"}, {"database", "pgopt_test"}})) return std::nullopt;
  std::optional<Key> key;
  for (const auto& m : c.read_until_ready_or_error()) {
    if (m.type != 'K' || m.body.size() != 8) continue;
    uint32_t pid, secret;
    std::memcpy(&pid, m.body.data(), 4);
    std::memcpy(&secret, m.body.data() + 4, 4);
    key = Key{int32_t(ntohl(pid)), int32_t(ntohl(secret))};
  }
  return key;
}

void send_cancel(int port, uint32_t code, Key k) {
  RawClient c(port);
  ASSERT_TRUE(c.connected());
  std::string packet;
  RawClient::put32(packet, 16);
  RawClient::put32(packet, code);
  RawClient::put32(packet, uint32_t(k.pid));
  RawClient::put32(packet, uint32_t(k.secret));
  ASSERT_TRUE(c.send_raw(packet));
  EXPECT_TRUE(c.closed_by_peer());  // a cancel is answered by closing, as PostgreSQL does
}

TEST(Fleet, APeerForwardsAnotherPeersKeyOnceAndNeverAgain) {
  Fleet f(2);
  RawClient client(f.own[0]);  // served by peer 1, through its own address
  ASSERT_TRUE(client.connected());
  auto key = raw_login(client);
  ASSERT_TRUE(key);
  EXPECT_EQ(uint32_t(key->secret) >> 18, 1u) << "peer 1 stamps its id into the secret";
  ASSERT_TRUE(client.send_message('Q', std::string("SELECT pg_sleep(20) /*fleet_raw*/") + '\0'));
  ASSERT_TRUE(eventually([] { return active_with("fleet_raw") == 1; }, std::chrono::seconds(15)));

  // Marked as already forwarded and sent to peer 2: peer 2 looks it up locally, finds nothing,
  // and does not send it on (a wrong [peers] table costs one hop, never a loop).
  send_cancel(f.own[1], 80878102, *key);
  ASSERT_TRUE(f.procs[1]->wait_log("matches no client (forwarded by a peer)"));
  EXPECT_EQ(active_with("fleet_raw"), 1);

  // An ordinary cancel sent to peer 3: forwarded to peer 1, which stops the query.
  const auto t0 = std::chrono::steady_clock::now();
  send_cancel(f.own[2], 80877102, *key);
  auto reply = client.read_until_ready_or_error();
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply.back().type, 'E');
  EXPECT_EQ(RawClient::sqlstate(reply.back()), "57014");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_TRUE(f.procs[2]->wait_log("forwarded to peer 1"));

  // A wrong secret with the right peer stamp is forwarded too, and stops nothing.
  ASSERT_TRUE(client.read_until_ready_or_error().back().type == 'Z');
  ASSERT_TRUE(client.send_message('Q', std::string("SELECT pg_sleep(20) /*fleet_raw2*/") + '\0'));
  ASSERT_TRUE(eventually([] { return active_with("fleet_raw2") == 1; }, std::chrono::seconds(15)))
      << activity_with("fleet_raw") << "\nthe client then got: " << [&] {
           std::string got;
           for (const auto& m : client.read_until_ready_or_error())
             got += std::string(1, m.type) + (m.type == 'E' ? " " + RawClient::sqlstate(m) : "") + "; ";
           return got;
         }();
  send_cancel(f.own[1], 80877102, Key{key->pid, key->secret ^ 1});
  ASSERT_TRUE(f.procs[0]->wait_log("matches no client (forwarded by a peer)"));
  EXPECT_EQ(active_with("fleet_raw2"), 1);
  send_cancel(f.shared, 80877102, *key);
  reply = client.read_until_ready_or_error();
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(RawClient::sqlstate(reply.back()), "57014");
  EXPECT_TRUE(f.all_running());
}

TEST(Fleet, SecondProcessOnTheSamePortWithoutReuseportIsRefused) {
  PoolerOptions o;
  Pooler first(o);
  // Started by hand (the harness asserts that its process starts): the same port, no so_reuseport.
  // config_text() writes `first`'s port; without so_reuseport the kernel refuses the second bind,
  // so two processes never split a port by accident.
  std::string dir = first.dir().string();
  std::ofstream(dir + "/clash.toml") << first.config_text(PoolerOptions{});
  int status = 0;
  std::string log = run("timeout 10 " + std::string(PGOPT_BINARY) + " pool --config " + dir + "/clash.toml", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(log.find("cannot listen on 127.0.0.1:" + std::to_string(first.port)), std::string::npos) << log;
  EXPECT_TRUE(first.running());
}

}  // namespace
}  // namespace pgopt::test
