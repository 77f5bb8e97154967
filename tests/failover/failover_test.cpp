// Failover (issue 18) on real clusters: pgopt in front of a database listed with `hosts` finds the
// primary itself and follows it through a manual promotion, a split brain, a Patroni switchover and
// a kill -9 of the Patroni leader. Label `failover`; each test starts and stops its own cluster.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "cluster_harness.hpp"

namespace pgopt::test {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

std::string hosts_list(const std::vector<int>& ports) {
  std::string out = "[";
  for (size_t i = 0; i < ports.size(); ++i) out += (i ? ", " : "") + std::string("\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
  return out + "]";
}

PoolerOptions ha_options(const std::vector<int>& ports, const std::string& dbname, const std::string& wait) {
  PoolerOptions o;
  o.pool_size = 8;
  o.pooler_extra = "health_check_period = \"200ms\"\nfailover_wait_timeout = \"" + wait + "\"\n";
  o.databases = "[databases.ha]\nhosts = " + hosts_list(ports) + "\ndbname = \"" + dbname + "\"\n";
  return o;
}

// A new client through pgopt runs `sql`: "" when it worked, else the SQLSTATE.
std::string fresh_try(const Pooler& p, const std::string& sql) {
  Conn c = connect(p.conninfo("postgres", "ha"));
  if (PQstatus(c.get()) != CONNECTION_OK) return "login";
  return try_exec(c.get(), sql);
}

// (a) Multi-host discovery alone (no Patroni): the replica is listed first and pgopt still writes
// to the primary; promoting the replica while the primary runs is a split brain (writes refused
// with 57P03); once the old primary is stopped, writes go to the promoted one, and a client that
// was idle throughout sees no error.
TEST(Failover, DiscoveryPromotionAndSplitBrain) {
  ScriptCluster cl("cluster.sh");
  ASSERT_TRUE(cl.started) << cl.output;
  const int primary = cl.port("PGOPT_PRIMARY_PORT"), replica = cl.port("PGOPT_REPLICA_PORT");
  Pooler p(ha_options({replica, primary}, "pgopt_test", "10s"));
  Conn c = connect_ok(p.conninfo("postgres", "ha"));
  EXPECT_EQ(value(c.get(), "SHOW port"), std::to_string(primary));
  ok(c.get(), "CREATE TABLE IF NOT EXISTS fo_promote (id int PRIMARY KEY)");
  ok(c.get(), "INSERT INTO fo_promote VALUES (1)");
  // cluster.sh runs synchronous_commit = off: wait until the replica has the row before promoting.
  ASSERT_TRUE(eventually([&] {
    Conn r = direct_to(replica, "pgopt_test");
    return try_exec(r.get(), "SELECT 1 FROM fo_promote WHERE id = 1 HAVING count(*) = 1").empty() &&
           value(r.get(), "SELECT count(*) FROM fo_promote") == "1";
  }));

  int st = 0;
  const std::string promoted = cl.run_cmd("pgctl", "replica -w promote", &st);
  ASSERT_EQ(st, 0) << promoted;
  // Both claim to be primary: new transactions are refused, never sent to either.
  std::string refused;
  ASSERT_TRUE(eventually([&] {
                refused = fresh_try(p, "INSERT INTO fo_promote VALUES (2)");
                return refused == "57P03" || refused.find("split brain") != std::string::npos;
              },
                         std::chrono::seconds(10)))
      << refused;
  EXPECT_TRUE(p.wait_log("SPLIT BRAIN"));
  Conn idle = connect_ok(p.conninfo("postgres", "ha"));  // idle from here on

  const auto stopped = Steady::now();
  const std::string out = cl.run_cmd("pgctl", "primary -m immediate -w stop", &st);
  ASSERT_EQ(st, 0) << out;
  std::string last;
  ASSERT_TRUE(eventually([&] { return (last = fresh_try(p, "INSERT INTO fo_promote VALUES (3)")).empty(); },
                         std::chrono::seconds(10)))
      << last << "\n" << p.log();
  std::printf("[failover] split brain resolved by stopping the old primary: first write %.2f s after the stop\n",
              seconds_since(stopped));
  EXPECT_EQ(try_exec(idle.get(), "INSERT INTO fo_promote VALUES (4)"), "");
  EXPECT_EQ(value(idle.get(), "SHOW port"), std::to_string(replica));
  EXPECT_EQ(value(idle.get(), "SELECT count(*) FROM fo_promote"), "3");  // 1, 3, 4: 2 was refused
}

// The Patroni cluster the next tests share (started once: about 35 s).
class Patroni : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new ScriptCluster("patroni.sh"); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(cluster_->started) << cluster_->output; }
  static std::vector<int> ports() {
    return {cluster_->port("PGOPT_PATRONI_PORT_1"), cluster_->port("PGOPT_PATRONI_PORT_2"),
            cluster_->port("PGOPT_PATRONI_PORT_3")};
  }
  static ScriptCluster* cluster_;
};
ScriptCluster* Patroni::cluster_ = nullptr;

// One client writing rows with ids of its own through pgopt, one autocommit INSERT at a time; on an
// error it reconnects and goes on with the next id (never retrying one: that would hide a duplicate).
// "connection: <libpq text>" shortened to what the failure was.
inline std::string short_error(const std::string& e) {
  for (const char* known : {"no primary server", "split brain", "terminating connection", "lost", "closed the connection"})
    if (e.find(known) != std::string::npos) return "conn(" + std::string(known) + ")";
  return "conn(" + e.substr(12, 60) + ")";
}

class Writer {
 public:
  Writer(const Pooler& p, std::string table) : p_(p), table_(std::move(table)), thread_([this] { loop(); }) {}
  ~Writer() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t acked() {
    std::lock_guard lk(mu_);
    return acked_.size();
  }
  // Write unavailability around `t` (a kill): the longest pause between two acknowledged writes
  // that ends after `t`, and when the write ending it was acknowledged, in seconds after `t`
  // (negative: none yet). Writes may still be acknowledged just after a kill -9 of a postmaster:
  // its backends and walsender live on until they notice.
  struct Outage {
    double gap = -1, recovered_after = -1;
  };
  Outage outage_after(Steady::time_point t) {
    std::lock_guard lk(mu_);
    Outage o;
    for (size_t i = 1; i < times_.size(); ++i) {
      if (times_[i].second < t) continue;
      const double gap = std::chrono::duration<double>(times_[i].second - times_[i - 1].second).count();
      if (gap > o.gap) o = {gap, std::chrono::duration<double>(times_[i].second - t).count()};
    }
    return o;
  }
  std::vector<long> acked_ids() {
    std::lock_guard lk(mu_);
    return acked_;
  }
  std::vector<std::string> errors() {
    std::lock_guard lk(mu_);
    return errors_;
  }

 private:
  void loop() {
    Conn c;
    for (long id = 1; !done_; ++id) {
      if (!c || PQstatus(c.get()) != CONNECTION_OK) c = connect(p_.conninfo("postgres", "ha"));
      const auto started = Steady::now();
      const std::string e = PQstatus(c.get()) == CONNECTION_OK
                                ? try_exec(c.get(), "INSERT INTO " + table_ + " VALUES (" + std::to_string(id) + ")")
                                : "login";
      std::lock_guard lk(mu_);
      if (e.empty()) {
        acked_.push_back(id);
        times_.emplace_back(started, Steady::now());
      } else {
        errors_.push_back(e.starts_with("connection: ") ? short_error(e) : e);
        if (e == "login") std::this_thread::sleep_for(milliseconds(20));  // no busy loop on a refused login
      }
    }
  }

  const Pooler& p_;
  std::string table_;
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::vector<long> acked_;
  std::vector<std::pair<Steady::time_point, Steady::time_point>> times_;
  std::vector<std::string> errors_;
  std::thread thread_;
};

// The pooler's log lines about the primary (what the prober saw, when).
std::string failover_lines(const Pooler& p) {
  std::istringstream in(p.log());
  std::string line, out;
  while (std::getline(in, line))
    if ((line.find("database ha: ") != std::string::npos && line.find("DEBUG") == std::string::npos) ||
        line.find("waiting for the primary") != std::string::npos)
      out += "  " + line + "\n";
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "none" : out;
}

// (c) A planned switchover: clients that are idle at the moment see no error and keep their
// connections; a client writing all along loses at most the transactions in flight.
TEST_F(Patroni, SwitchoverIdleClientsSeeNoError) {
  Pooler p(ha_options(ports(), "postgres", "30s"));
  Conn setup = connect_ok(p.conninfo("postgres", "ha"));
  ok(setup.get(), "CREATE TABLE IF NOT EXISTS fo_switch (id bigint PRIMARY KEY)");
  ok(setup.get(), "CREATE TABLE IF NOT EXISTS fo_idle (client int, n int)");
  std::vector<Conn> idle;
  for (int i = 0; i < 6; ++i) {
    idle.push_back(connect_ok(p.conninfo("postgres", "ha")));
    ok(idle.back().get(), "INSERT INTO fo_idle VALUES (" + std::to_string(i) + ", 1)");
  }
  const std::string before = value(setup.get(), "SHOW port");
  Writer w(p, "fo_switch");
  ASSERT_TRUE(eventually([&] { return w.acked() >= 20; }, std::chrono::seconds(10)));
  const auto t0 = Steady::now();
  int st = 0;
  const std::string out = cluster_->run_cmd("switchover", "", &st);
  ASSERT_EQ(st, 0) << out;
  const double switch_s = seconds_since(t0);
  const size_t at_switch = w.acked();
  ASSERT_TRUE(eventually([&] { return w.acked() >= at_switch + 20; }, std::chrono::seconds(30))) << p.log();
  w.stop();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(try_exec(idle[size_t(i)].get(), "INSERT INTO fo_idle VALUES (" + std::to_string(i) + ", 2)"), "")
        << "idle client " << i << "\n" << p.log();
  EXPECT_NE(value(idle[0].get(), "SHOW port"), before);
  EXPECT_EQ(value(idle[0].get(), "SELECT count(*) FROM fo_idle WHERE n = 2"), "6");
  const auto outage = w.outage_after(t0);
  std::printf("[failover] switchover took %.1f s (patroni.sh); the writer's longest pause %.2f s; writer errors "
              "during it: %zu (%s)\n",
              switch_s, outage.gap, w.errors().size(), joined(w.errors()).c_str());
  // One writer has at most one transaction in flight when the old primary stops, and one more may
  // meet a pooled connection the stopping server had already closed.
  std::printf("%s", failover_lines(p).c_str());
  EXPECT_LE(w.errors().size(), 2u) << joined(w.errors());
}

// (b) kill -9 of the leader's postmaster under a writer: with synchronous_mode no acknowledged row
// is lost, none is written twice, and the write unavailability is measured.
TEST_F(Patroni, KillLeaderUnderWriter) {
  Pooler p(ha_options(ports(), "postgres", "30s"));
  Conn setup = connect_ok(p.conninfo("postgres", "ha"));
  ok(setup.get(), "CREATE TABLE IF NOT EXISTS fo_kill (id bigint PRIMARY KEY)");
  const std::string before = value(setup.get(), "SHOW port");
  Writer w(p, "fo_kill");
  ASSERT_TRUE(eventually([&] { return w.acked() >= 50; }, std::chrono::seconds(10)));
  const auto killed = Steady::now();
  int st = 0;
  const std::string old = cluster_->run_cmd("kill-primary", "", &st);
  ASSERT_EQ(st, 0) << old;
  const size_t at_kill = w.acked();
  // Done once the new primary has taken 50 writes (the prober logs the second election).
  ASSERT_TRUE(eventually([&] { return count_of(p.log(), "database ha: primary is now") >= 2; }, std::chrono::seconds(60)))
      << failover_lines(p);
  const size_t at_election = w.acked();
  ASSERT_TRUE(eventually([&] { return w.acked() >= std::max(at_kill, at_election) + 50; }, std::chrono::seconds(30)))
      << failover_lines(p);
  w.stop();
  const auto outage = w.outage_after(killed);
  const auto acked = w.acked_ids();
  Conn check = connect_ok(p.conninfo("postgres", "ha"));
  Result r = exec(check.get(), "SELECT id FROM fo_kill");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(check.get());
  std::set<long> present;
  for (int i = 0; i < PQntuples(r.get()); ++i) present.insert(std::atol(PQgetvalue(r.get(), i, 0)));
  size_t lost = 0;
  for (long id : acked) lost += present.count(id) ? 0 : 1;
  const auto errors = w.errors();
  const size_t duplicates = size_t(std::count(errors.begin(), errors.end(), "23505"));
  std::printf("[failover] kill -9 of leader %s: writes stopped for %.2f s, first write after the outage %.2f s after "
              "the kill; acknowledged %zu, present %zu, lost %zu, duplicated %zu; writer errors %zu (%s)\n",
              old.substr(0, old.find('\n')).c_str(), outage.gap, outage.recovered_after, acked.size(), present.size(),
              lost, duplicates, errors.size(), joined(errors).c_str());
  std::printf("%s", failover_lines(p).c_str());
  EXPECT_NE(value(check.get(), "SHOW port"), before) << "the writes moved to the new leader";
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_GE(outage.recovered_after, 0);
}

}  // namespace
}  // namespace pgopt::test
